// Per-device state: the generic state slot, the adapter description, the scratch pool.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu, initGpu, releaseDevice } from '../../src/gpu/index.ts';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { setChunkBytesForTests, chunkBytesLimit } from '../../kernels/chunking.ts';
import { conv2dFwdCpu } from '../../kernels/conv2d.ts';
import { conv2dGeometry } from '../../src/ops/conv2d.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const s = suite('gpu: per-device state');
s.before(setupGpu);

s('state(key, create) makes each key\'s value once and keeps keys apart', () => {
  const g = gpu();
  let made = 0;
  const a = g.state('test state a', () => ({ n: ++made }));
  assert.is(g.state('test state a', () => ({ n: ++made })), a);
  const b = g.state('test state b', () => ({ n: ++made }));
  assert.is.not(b, a);
  assert.is(made, 2);
});

s('the adapter description carries the limits and features the device was made with', () => {
  const a = gpu().adapter;
  assert.is(a.limits, gpu().limits);
  assert.is(a.features, gpu().features);
  // this machine runs lavapipe; a hardware adapter must say so in its own words
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  assert.is(a.software, /llvmpipe|lavapipe|swiftshader|software|warp/i.test(text), text);
});

s('scratch pool: textures bucketed by rows and reused once released; uniform buffers likewise', () => {
  const sp = gpu().scratch;
  const t = sp.acquireTexture(64, 5, 'scratch test');
  assert.is(t.rows, 6); // 5 rows -> the 3/4 midpoint bucket of 8
  sp.releaseTexture(t);
  assert.is(sp.acquireTexture(64, 6, 'scratch test'), t);
  const other = sp.acquireTexture(32, 6, 'scratch test');
  assert.is.not(other, t, 'a texture of another width is not reused');
  sp.releaseTexture(t); sp.releaseTexture(other);
  const u = sp.acquireUniform(1000, 'scratch test');
  assert.is(u.size, 1024);
  sp.releaseUniform(u);
  assert.is(sp.acquireUniform(1024, 'scratch test'), u);
  sp.releaseUniform(u);
  const max = gpu().limits.maxTextureDimension2D;
  assertThrowsWith(() => sp.acquireTexture(64, max + 1, 'big grid'), /big grid/, /maxTextureDimension2D/);
});

s('a new device starts with fresh state: no cache or test setting of the old one survives, and kernels run on it', async () => {
  const old = gpu();
  old.state('test state a', () => ({ n: -1 }));
  setChunkBytesForTests(1536); // the conv below then runs in chunks of one sample
  // a conv (texture scratch, WGSL text, tuned-choice queue) and a loss (alpha buffers) on the old device
  const x = randomArray(2 * 4 * 6 * 6, 1), w = randomArray(8 * 4 * 3 * 3, 2);
  const run = async (): Promise<void> => {
    const tx = Tensor.fromArray(x, [2, 4, 6, 6]), tw = Tensor.fromArray(w, [8, 4, 3, 3]);
    const y = F.conv2d(tx, tw, null, { padding: 1 });
    assertClose(await y.toArray(), conv2dFwdCpu(conv2dGeometry([2, 4, 6, 6], [8, 4, 3, 3], null, { padding: 1 }), x, w), { atol: 4 * 6e-8 * 36, rtol: 1e-5 }, 'conv');
    const logits = Tensor.fromArray([0.5, -1, 2, 0.1], [2, 2]), targets = Tensor.fromArray([1, 0, 1, 1], [2, 2]);
    const loss = F.sigmoidFocalLoss(logits, targets, { alpha: [0.3, 0.6] });
    assert.ok(Number.isFinite(await loss.item()));
    for (const t of [tx, tw, y, logits, targets, loss]) t.dispose();
  };
  try { await run(); } catch (e) { setChunkBytesForTests(null); throw e; }
  await releaseDevice();
  await initGpu();
  const g = gpu();
  assert.is.not(g, old);
  assert.equal(g.state('test state a', () => ({ n: 1 })), { n: 1 }, 'the old device\'s state is gone');
  assert.is(chunkBytesLimit(), g.limits.maxStorageBufferBindingSize, 'the chunk test knob was the old device\'s');
  await run();
});

s('after a device loss gpu() says the device was lost, and initGpu() gives a new one', async () => {
  const old = gpu();
  old.device.destroy(); // what a driver reset does, as far as the library can tell
  await old.device.lost;
  assertThrowsWith(() => gpu(), /GPU device was lost/, /initGpu\(\)/);
  await initGpu();
  assert.is.not(gpu(), old);
  const t = Tensor.fromArray([1, 2, 3], [3]), sq = F.mul(t, t);
  assert.equal(Array.from(await sq.toArray()), [1, 4, 9]);
  t.dispose(); sq.dispose();
});

s.run();
