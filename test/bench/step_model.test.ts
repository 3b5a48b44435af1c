// The roofline model of the training step (bench/model): its walk of ResNeSt-50 against the real
// model (FLOPs, parameters), its dispatch counts against the real step's recorded dispatches, and
// the bound's arithmetic.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { setupGpu } from '../helpers.ts';
import { resnest50 } from '../../src/nn/index.ts';
import { stepWork, KINDS } from '../../bench/model/resnest_ops.ts';
import { dispatchMismatches, kindOfDispatch, modelStep } from '../../bench/model/roofline.ts';
import { captureInChildAsync } from '../../bench/model/run.ts';
import type { Capture } from '../../bench/model/capture.ts';
import { GPUS, gpuSpec, type GpuSpec } from '../../bench/model/gpus.ts';

const s = suite('bench model: ResNeSt-50 step');
s.before(setupGpu);

s('FLOPs and parameters of the walk equal the real model\'s', () => {
  const model = resnest50({ numClasses: 40 });
  try {
    const params = model.parameters().reduce((n, p) => n + p.size, 0);
    for (const [size, batch] of [[224, 32], [320, 32], [64, 2]]) {
      const w = stepWork(size, batch);
      const flops = w.ours.reduce((a, x) => a + x.flops, 0);
      // 3 x the forward, less the stem's first dX (the images need no gradient); integers below 2^53: exact
      const stemOut = Math.floor((size - 1) / 2) + 1;
      const stemDx = 2 * batch * stemOut * stemOut * 32 * 3 * 9;
      assert.is(flops, 3 * 2 * model.macs(size, size) * batch - stemDx, `FLOPs at ${size}/${batch}`);
      assert.is(w.torch.reduce((a, x) => a + x.flops, 0), flops, 'the same FLOPs in both kernel sequences');
      assert.is(w.params, params, 'parameters');
      // gradient adds by the tape: the fc's weight and bias only (conv and batch norm add their own
      // in their kernels, and a block input's and a split tensor's second gradient is added by
      // conv1's dX and the attention pool's backward)
      assert.is(w.ours.filter((x) => x.kind === 'gradient accumulation').reduce((a, x) => a + x.count, 0), 2);
    }
  } finally {
    model.dispose();
  }
});

// The real step recorded (not run) in a child process at two sizes: 64/2, where the attention
// pool sums partials (a second dispatch), and the modelled 224/32. About 25 s each on a CPU
// adapter; both recordings start with the suite and run beside its other tests.
const SIZES = [[64, 2], [224, 32]] as const;
let captures: Promise<Capture>[] = [];
s.before(() => {
  captures = SIZES.map(([size, batch]) => captureInChildAsync(size, batch));
  for (const c of captures) c.catch(() => undefined); // reported by the test that awaits it
});
for (const [i, [size, batch]] of SIZES.entries()) {
  s(`modelled dispatch counts equal the real step's at ${size} x ${size}, batch ${batch}`, async () => {
    const capture = await captures[i];
    assert.ok(capture.dispatches.length > 500, `recorded ${capture.dispatches.length} dispatches`);
    assert.equal(dispatchMismatches(stepWork(size, batch).ours, capture), []);
    const phases = new Set(capture.dispatches.map((d) => d.phase));
    assert.equal([...phases], ['forward', 'backward', 'optimizer']);
  });
}

s('the bound is FLOPs over peak or bytes over bandwidth, whichever is longer, plus the fixed costs', () => {
  const base: GpuSpec = { short: 't', name: 'test', fp32: 1e12, tf32: 8e12, bandwidth: 1e11, dispatchUs: 2, launchUs: 7, source: '' };
  const w = stepWork(224, 32);
  const sum = (kind: string, f: (x: { flops: number; bytes: number }) => number, list = w.ours) =>
    list.filter((x) => x.kind === kind).reduce((a, x) => a + f(x), 0) * 1e3;
  const computeOnly = modelStep({ ...base, bandwidth: 1e30 }, 224, 32, null);
  const memoryOnly = modelStep({ ...base, fp32: 1e30, tf32: 1e30 }, 224, 32, null);
  for (const k of computeOnly.ours.kinds) {
    const rel = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
    assert.ok(rel(k.ms, sum(k.kind, (x) => x.flops / 1e12)), `${k.kind} compute-only`);
  }
  for (const k of memoryOnly.ours.kinds) {
    assert.ok(Math.abs(k.ms - sum(k.kind, (x) => x.bytes / 1e11)) <= 1e-9 * k.ms + 1e-15, `${k.kind} memory-only`);
  }
  // TF32 applies to the GEMMs only: the convolutions' compute time shrinks by tf32 / fp32
  const conv = computeOnly.torchTf32.kinds.find((k) => k.kind === 'conv fwd')!;
  assert.ok(Math.abs(conv.ms - sum('conv fwd', (x) => x.flops / 8e12, w.torch)) <= 1e-12 * conv.ms);
  const m = modelStep(base, 224, 32, null);
  assert.ok(Math.abs(m.ours.overheadMs - m.ours.dispatches * 2e-3) < 1e-9);
  assert.ok(Math.abs(m.torchF32.overheadMs - m.torchF32.dispatches * 7e-3) < 1e-9);
  assert.is(m.ours.totalMs, m.ours.computeMs + m.ours.overheadMs);
  assert.is(m.ours.kinds.length, KINDS.length);
  // every kind is at least its memory time and its compute time
  for (const [i, k] of m.ours.kinds.entries()) {
    assert.ok(k.ms >= memoryOnly.ours.kinds[i].ms * (1 - 1e-12) && k.ms >= computeOnly.ours.kinds[i].ms * (1 - 1e-12), k.kind);
  }
});

s('named GPUs and dispatch kinds: unknown ones are errors that say what is known', () => {
  assert.is(gpuSpec('rtx4090'), GPUS['RTX 4090']);
  assert.throws(() => gpuSpec('V100'), /no GPU named "V100" \(have H200, A100, RTX 4090, M2/);
  for (const g of Object.values(GPUS)) {
    assert.ok(g.fp32 > 0 && g.tf32 >= g.fp32 && g.bandwidth > 0 && g.source.length > 20, g.name);
  }
  assert.is(kindOfDispatch('conv2d_tiled:conv2d_bwd_weight_v2:{}', 'conv2d bwd_weight v2 x[2,3,8,8]'), 'conv dW');
  assert.is(kindOfDispatch('linear:linear_matmul_v3:{}', 'conv2d bwd_input v4 x[2,64,1,1] v3'), 'conv dX');
  assert.throws(() => kindOfDispatch('mystery:kernel:{}', 'x'), /no kind for the dispatch mystery:kernel/);
});

s.run();
