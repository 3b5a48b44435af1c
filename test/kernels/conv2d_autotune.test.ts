import { gpu } from '../../src/gpu/index.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { conv2dGeometry } from '../../src/ops/conv2d.ts';
import { conv2dFwdCpu, conv2dVersion, versions } from '../../kernels/conv2d.ts';
import { memoryStore, pendingTunes, resetAutotune, selectVersion, setAutotuneStore, setKernelVersion, tunePending,
  type AutotuneStore } from '../../kernels/autotune.ts';
import { fileStore } from '../../kernels/autotune_store_node.ts';
import { runs } from '../../kernels/versions.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const s = suite('kernels: conv2d autotune');
s.before(setupGpu);
s.after(() => { setAutotuneStore(memoryStore()); resetAutotune(); });

// 32 output channels a group: v7's default on CPU adapters (8 a group: 4x padding, v3's)
const tiny = conv2dGeometry([1, 8, 6, 6], [64, 4, 3, 3], null, { padding: 1, groups: 2 });

s('untuned shapes run the adapter fallback and are queued, not measured', () => {
  setAutotuneStore(memoryStore());
  resetAutotune();
  const v = conv2dVersion('fwd', tiny);
  const cpuDefault = runs(versions.v7, tiny, gpu().adapter, 'fwd') ? 'v7' : 'v3';
  assert.is(v, gpu().adapter.software ? cpuDefault : 'v2');
  assert.is(pendingTunes(), 1);
  conv2dVersion('fwd', tiny);
  assert.is(pendingTunes(), 1, 'queued once');
  const depthwise = conv2dGeometry([1, 8, 6, 6], [8, 1, 3, 3], null, { padding: 1, groups: 8 });
  assert.is(conv2dVersion('fwd', depthwise), 'v1', 'blocks of channels would be mostly padding');
  const stem = conv2dGeometry([2, 3, 32, 32], [32, 3, 3, 3], null, { stride: 2, padding: 1 });
  const stemDx = runs(versions.v10, stem, gpu().adapter, 'bwd_input') ? 'v10' : 'v3';
  assert.is(conv2dVersion('bwd_input', stem), gpu().adapter.software ? stemDx : 'v2',
    'the stem\'s dX: pointwise over its patches (v10), else v3\'s blocks of 16 written channels, not v1');
  const fc = conv2dGeometry([8, 64, 1, 1], [32, 64, 1, 1], [32], {});
  assert.is(conv2dVersion('bwd_weight', fc), 'v4', 'a 1x1 conv of 1x1 maps is a GEMM');
  resetAutotune();
});

s('tunePending times every version once, keeps the fastest and persists it per adapter', async () => {
  const saved: Record<string, Record<string, string>> = {};
  const store: AutotuneStore = { load: (a) => ({ ...(saved[a] ?? {}) }), save: (a, e) => { saved[a] = { ...(saved[a] ?? {}), ...e }; } };
  setAutotuneStore(store);
  resetAutotune();
  conv2dVersion('bwd_weight', tiny);
  const [result] = await tunePending({ repeats: 1 });
  assert.is(result.op, 'conv2d_bwd_weight');
  // v4 runs only 1x1 maps; v5, v6 are automatic on GPUs only; v7-v10 need 8-wide subgroups
  const automatic = gpu().adapter.software ? ['v1', 'v2', 'v3'] : ['v1', 'v2', 'v3', 'v5', 'v6'];
  const sub8 = gpu().adapter.software ? ['v7', 'v8', 'v9', 'v10'].filter((v) => runs(versions[v], tiny, gpu().adapter, 'fwd')) : [];
  const wanted = [...automatic, ...sub8]
    .filter((v) => runs(versions[v], tiny, gpu().adapter, 'bwd_weight'));
  assert.equal(Object.keys(result.ms).sort(), wanted, 'the automatic versions that run the shape');
  assert.is(conv2dVersion('bwd_weight', tiny), result.best);
  assert.is(pendingTunes(), 0);
  const [entries] = Object.values(saved);
  assert.equal(Object.values(entries), [result.best]);
  // a fresh process (new in-memory state) reads the choice back from the store
  setAutotuneStore(store);
  assert.is(conv2dVersion('bwd_weight', tiny), result.best);
  assert.is(pendingTunes(), 0);
});

s('forced versions: programmatic setter, family-wide, environment, and bad names', () => {
  setAutotuneStore(memoryStore());
  setKernelVersion('conv2d_fwd', 'v2');
  assert.is(conv2dVersion('fwd', tiny), 'v2');
  setKernelVersion('conv2d_fwd', null);
  setKernelVersion('conv2d', 'v1');
  assert.is(conv2dVersion('bwd_input', tiny), 'v1');
  setKernelVersion('conv2d', null);
  const before = process.env.WG_KERNEL_VERSION;
  process.env.WG_KERNEL_VERSION = 'conv2d_bwd_input:v2, conv2d:v3';
  try {
    assert.is(conv2dVersion('bwd_input', tiny), 'v2');
    assert.is(conv2dVersion('fwd', tiny), 'v3');
    setKernelVersion('conv2d_fwd', 'v1');
    assert.is(conv2dVersion('fwd', tiny), 'v1', 'the setter wins over the environment');
    setKernelVersion('conv2d_fwd', null);
    process.env.WG_KERNEL_VERSION = 'conv2d_fwd=v2';
    assertThrowsWith(() => conv2dVersion('fwd', tiny), /WG_KERNEL_VERSION: "conv2d_fwd=v2" is not op:version/);
  } finally {
    if (before === undefined) delete process.env.WG_KERNEL_VERSION; else process.env.WG_KERNEL_VERSION = before;
  }
  setKernelVersion('x_fwd', 'v9');
  assertThrowsWith(() => selectVersion({ op: 'x_fwd', revision: '1', versions: ['v1', 'v2'], fallback: 'v1' }, 'shape k',
    () => { throw new Error('not tuned when forced'); }), /x_fwd: forced version v9 is not one of v1, v2 for shape k/);
  setKernelVersion('x_fwd', null);
  resetAutotune();
});

s('a forced version still computes the right values through F.conv2d', async () => {
  const xs = randomArray(8 * 6 * 6, 1), ws = randomArray(16 * 4 * 9, 2);
  for (const v of ['v1', 'v2', 'v3']) {
    setKernelVersion('conv2d', v);
    const x = Tensor.fromArray(xs, [1, 8, 6, 6]), w = Tensor.fromArray(ws, [16, 4, 3, 3]);
    const y = F.conv2d(x, w, null, { padding: 1, groups: 2 });
    assertClose(await y.toArray(), conv2dFwdCpu(conv2dGeometry([1, 8, 6, 6], [16, 4, 3, 3], null, { padding: 1, groups: 2 }), xs, ws), { atol: 1e-4, rtol: 1e-4 }, v);
    for (const t of [x, w, y]) t.dispose();
  }
  setKernelVersion('conv2d', null);
});

s('the Node file store merges adapters and survives a missing or corrupt file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autotune-'));
  try {
    const path = join(dir, 'sub', 'autotune.json');
    const a = fileStore(path);
    assert.equal(a.load('gpu A'), {});
    a.save('gpu A', { k1: 'v2' });
    a.save('gpu B', { k1: 'v3' });
    a.save('gpu A', { k2: 'v1' });
    assert.equal(fileStore(path).load('gpu A'), { k1: 'v2', k2: 'v1' });
    assert.equal(fileStore(path).load('gpu B'), { k1: 'v3' });
    assert.is(JSON.parse(readFileSync(path, 'utf8')).version, 1);
    rmSync(path);
    assert.equal(fileStore(path).load('gpu A'), {});
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

s.run();
