// Tape semantics in the style of micrograd's own tests: fan-out, accumulation, no-grad, freeing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { readFileSync } from 'node:fs';
import { noGrad, tapeLength, clearTape, record } from '../../src/autograd/tape.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { gpu } from '../../src/gpu/index.ts';
import { ResNeSt } from '../../src/nn/index.ts';
import { SGD } from '../../src/optim/index.ts';
import { conv2dFwdCpu } from '../../kernels/conv2d.ref.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const tol = { atol: 1e-5, rtol: 1e-5 };
const s = suite('autograd: tape');
s.before(setupGpu);

s('fan-out accumulates: y = x*x + x*3 + relu(x) gives dy/dx = 2x + 3 + [x>0]', async () => {
  const xs = [-2, -0.5, 0.25, 4];
  const x = Tensor.fromArray(xs, [4], { requiresGrad: true });
  const three = Tensor.full([4], 3);
  const y = tidy(() => F.sum(F.add(F.add(F.mul(x, x), F.mul(x, three)), F.relu(x))));
  y.backward();
  assertClose(await x.grad!.toArray(), xs.map((v) => 2 * v + 3 + (v > 0 ? 1 : 0)), tol, 'dx');
  assert.is(tapeLength(), 0, 'the walk consumed the tape');
  for (const t of [x.grad!, x, three, y]) t.dispose();
});

s('micrograd sanity check: composite expression with shared sub-expressions', async () => {
  // x = -4; z = 2x + 2 + x; q = relu(z) + z*x; h = relu(z*z); y = h + q + q*x; dy/dx = 46 (micrograd test_sanity_check)
  const x = Tensor.fromArray([-4], [1], { requiresGrad: true });
  const two = Tensor.full([1], 2);
  const y = tidy(() => {
    const z = F.add(F.add(F.mul(two, x), two), x);
    const q = F.add(F.relu(z), F.mul(z, x));
    const h = F.relu(F.mul(z, z));
    return F.add(F.add(h, q), F.mul(q, x));
  });
  assertClose([await y.item()], [-20], tol, 'y');
  y.backward();
  assertClose(await x.grad!.toArray(), [46], tol, 'dy/dx');
  for (const t of [x.grad!, x, two, y]) t.dispose();
});

s('leaf gradients accumulate across backward calls; the user grad is not modified', async () => {
  const x = Tensor.fromArray([1, 2, 3], [3], { requiresGrad: true });
  const g = Tensor.fromArray([1, 1, 1], [3]);
  for (let i = 0; i < 2; i++) {
    const y = F.scale(x, 2);
    y.backward(g);
    y.dispose();
  }
  assertClose(await x.grad!.toArray(), [4, 4, 4], tol, 'accumulated grad');
  assertClose(await g.toArray(), [1, 1, 1], tol, 'user grad unchanged');
  for (const t of [x.grad!, x, g]) t.dispose();
});

s('the caller\'s grad is read in place, never kept or written: a view of it passed on becomes a copy', async () => {
  // reshape's backward returns a view of dy and add's returns dy itself: the leaf's .grad must be
  // the tape's own, so disposing or reusing g afterwards changes nothing
  const x = Tensor.fromArray([1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const w = Tensor.fromArray([5, 6, 7, 8], [4], { requiresGrad: true });
  const g = Tensor.fromArray([1, -2, 3, -4], [4]);
  const y = F.add(F.reshape(x, [4]), w);
  y.backward(g);
  assert.not.ok(x.grad!.sharesStorage(g), 'x.grad is not the caller\'s grad');
  assert.not.ok(w.grad!.sharesStorage(g), 'w.grad is not the caller\'s grad');
  g.write(Float32Array.from([9, 9, 9, 9]));
  assertClose(await x.grad!.toArray(), [1, -2, 3, -4], tol, 'x.grad after the caller rewrote g');
  assertClose(await w.grad!.toArray(), [1, -2, 3, -4], tol, 'w.grad after the caller rewrote g');
  g.dispose();
  assertClose(await w.grad!.toArray(), [1, -2, 3, -4], tol, 'w.grad after the caller disposed g');
  assertClose(await F.scale(x.grad!, 1).toArray(), [1, -2, 3, -4], tol, 'x.grad usable after g is gone');
  for (const t of [x.grad!, w.grad!, x, w, y]) t.dispose();
});

s('backward with a leaf\'s own .grad as the output gradient adds what it held (no aliased read and write)', async () => {
  // PyTorch: x.grad += d(y)/dx^T x.grad_old, reading the old values
  const x = Tensor.fromArray([1, 2, 3], [3], { requiresGrad: true });
  x.grad = Tensor.fromArray([1, 2, 4], [3]);
  const y = F.reshape(x, [3]);   // backward returns a view of x.grad: added into x.grad itself
  y.backward(x.grad);
  assertClose(await x.grad.toArray(), [2, 4, 8], tol, 'reshape: .grad doubled');
  const z = F.scale(x, 3);       // the sink (x.grad) is the root's dOut
  z.backward(x.grad);
  assertClose(await x.grad.toArray(), [8, 16, 32], tol, 'scale: .grad + 3 .grad');
  // conv2d adds dW into w.grad itself: here w.grad is also its dy (16 values, viewed as y's shape)
  const xs = [0.5, -1, 2, 1.5, -0.25, 3, 1, -2, 0.75, 0.5, -1.5, 1, 2, -0.5, 0.25, 1];
  const gs = [1, 0.5, -1, 2, -2, 1, 0.25, -0.5, 1.5, -1, 0.5, 2, -0.75, 1, -1, 0.5];
  const xi = Tensor.fromArray(xs, [1, 4, 2, 2]);
  const w = Tensor.fromArray(Array.from({ length: 16 }, (_, i) => (i % 5) - 2), [4, 4, 1, 1], { requiresGrad: true });
  w.grad = Tensor.fromArray(gs, [4, 4, 1, 1]);
  const c = F.conv2d(xi, w);
  c.backward(w.grad);
  // dW[o, i] = sum_p dy[o, p] x[i, p], with dy[o, p] = the old w.grad's values laid out as y [1, 4, 2, 2]
  const want = gs.map((g0, k) => g0 + [0, 1, 2, 3].reduce((acc, p) => acc + gs[4 * Math.floor(k / 4) + p] * xs[4 * (k % 4) + p], 0));
  assertClose(await w.grad.toArray(), want, tol, 'conv2d: .grad + dW(x, .grad)');
  // and dX into x.grad itself while reading it as dy, on v2, whose dX kernel adds into its sink
  // (a GPU default; lavapipe's v7 does not add): one dispatch would bind x.grad twice
  const xg = Tensor.fromArray(xs, [1, 4, 2, 2], { requiresGrad: true });
  xg.grad = Tensor.fromArray(gs, [1, 4, 2, 2]);
  const w2 = Tensor.fromArray(Array.from({ length: 16 }, (_, i) => (i % 5) - 2), [4, 4, 1, 1]);
  const c2 = F.conv2d(xg, w2);
  setKernelVersion('conv2d_bwd_input', 'v2');
  try { c2.backward(xg.grad); } finally { setKernelVersion('conv2d_bwd_input', null); }
  const w2s = await w2.toArray();
  // dX[i, p] = sum_o w[o, i] dy[o, p]
  const wantX = gs.map((g0, k) => g0 + [0, 1, 2, 3].reduce((acc, o) => acc + w2s[4 * o + Math.floor(k / 4)] * gs[4 * o + (k % 4)], 0));
  assertClose(await xg.grad.toArray(), wantX, tol, 'conv2d: .grad + dX(w, .grad)');
  for (const t of [x.grad, x, y, z, xi, w.grad, w, c, xg.grad, xg, w2, c2]) t.dispose();
});

s('noGrad records nothing, and intermediates inside tidy are freed', async () => {
  const x = Tensor.fromArray([1, 2], [2], { requiresGrad: true });
  const before = gpu().pool.stats.liveBuffers;
  const y = noGrad(() => tidy(() => F.sum(F.relu(F.scale(x, 3)))));
  assert.is(tapeLength(), 0);
  assert.is(y.requiresGrad, false);
  assert.is(gpu().pool.stats.liveBuffers, before + 1, 'only the returned tensor stays alive');
  y.dispose(); x.dispose();
});

s('backward frees the activations it no longer needs; steady state allocates nothing', async () => {
  const x = Tensor.fromArray(new Float32Array(1000).fill(0.5), [10, 100], { requiresGrad: true });
  const step = () => {
    const loss = tidy(() => F.mean(F.relu(F.mul(F.scale(x, 2), x))));
    loss.backward();
    loss.dispose();
  };
  step();
  x.grad!.dispose(); x.grad = null;
  const live = gpu().pool.stats.liveBuffers, created = gpu().pool.stats.created;
  for (let i = 0; i < 3; i++) { step(); x.grad!.dispose(); x.grad = null; }
  assert.is(gpu().pool.stats.liveBuffers, live, 'no tensors leak per step');
  assert.is(gpu().pool.stats.created, created, 'no new buffers in steady state');
  x.dispose();
});

s('clearTape frees a forward that is never differentiated', async () => {
  const x = Tensor.fromArray([1, 2], [2], { requiresGrad: true });
  const live = gpu().pool.stats.liveBuffers;
  tidy(() => { F.relu(F.scale(x, 2)); });
  assert.ok(tapeLength() > 0);
  clearTape();
  assert.is(tapeLength(), 0);
  assert.is(gpu().pool.stats.liveBuffers, live);
  x.dispose();
});

s('the closure gets a mask of the gradients needed (absent and constant inputs masked out)', async () => {
  const a = Tensor.fromArray([1, 2], [2], { requiresGrad: true }), b = Tensor.fromArray([3, 4], [2]);
  const masks: boolean[][] = [];
  const y = tidy(() => {
    const out = noGrad(() => F.add(a, b));
    record('probe', [a, null, b], out, (dy, needs) => { masks.push([...needs]); return [dy, null, null]; });
    return F.sum(F.scale(out, 3));
  });
  y.backward();
  assert.equal(masks, [[true, false, false]]);
  assertClose(await a.grad!.toArray(), [3, 3], tol, 'the pass-through gradient');
  assert.is(b.grad, null, 'the constant input got no gradient');
  for (const t of [a.grad!, a, b, y]) t.dispose();
});

s('a closure that breaks the protocol is named in the error', () => {
  const x = Tensor.fromArray([1, 2], [2], { requiresGrad: true }), c = Tensor.fromArray([1, 1], [2]);
  const cases: [string, (dy: Tensor) => (Tensor | null)[], RegExp][] = [
    ['missing', () => [null, null], /missing backward: no gradient for input 0 \[2\], which requires grad/],
    ['extra', (dy) => [dy, dy], /extra backward: a gradient for input 1, which needs none/],
    ['misshaped', () => [Tensor.zeros([3]), null], /misshaped backward: gradient of shape \[3\] for input 0 of shape \[2\]/],
  ];
  for (const [op, backward, message] of cases) {
    const out = tidy(() => { const o = F.scale(x, 1); record(op, [x, c], o, backward); return o; });
    assertThrowsWith(() => out.backward(Tensor.ones([2])), message);
    clearTape();
    out.dispose();
  }
  x.grad?.dispose();
  x.dispose(); c.dispose();
});

s('add(x, x) and mul(x, x): one gradient reaching an input twice is summed, not aliased', async () => {
  const x = Tensor.fromArray([1, -2, 3], [3], { requiresGrad: true });
  const y = tidy(() => F.sum(F.add(F.add(x, x), F.mul(x, x))));
  y.backward();
  assertClose(await x.grad!.toArray(), [1, -2, 3].map((v) => 2 + 2 * v), tol, 'd/dx (2x + x^2)');
  for (const t of [x.grad!, x, y]) t.dispose();
});

s('conv2d skips the input gradient of a constant input and the weight gradient of a frozen weight', async () => {
  const shape = [2, 3, 5, 5], wShape = [4, 3, 3, 3];
  const xs = randomArray(150, 1), ws = randomArray(108, 2), dys = randomArray(2 * 4 * 3 * 3, 3);
  const g = { n: 2, c: 3, h: 5, w: 5, co: 4, ho: 3, wo: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, groups: 1 };
  const dy = Tensor.fromArray(dys, [2, 4, 3, 3]);
  // f64 reference: d/dx and d/dw of sum(dy * conv(x, w)), by linearity of the conv in each argument
  const refDx = new Float64Array(150), refDw = new Float64Array(108);
  for (let i = 0; i < 150; i++) { const e = new Float64Array(150); e[i] = 1; refDx[i] = conv2dFwdCpu(g, e, ws).reduce((s, v, k) => s + v * dys[k], 0); }
  for (let i = 0; i < 108; i++) { const e = new Float64Array(108); e[i] = 1; refDw[i] = conv2dFwdCpu(g, xs, e).reduce((s, v, k) => s + v * dys[k], 0); }
  const reductionTol = { atol: 1e-5, rtol: 1e-5 }; // 27- and 18-term f32 sums of values in [-1, 1]
  for (const [gradX, gradW] of [[false, true], [true, false]]) {
    const x = Tensor.fromArray(xs, shape, { requiresGrad: gradX }), w = Tensor.fromArray(ws, wShape, { requiresGrad: gradW });
    const y = F.conv2d(x, w);
    y.backward(dy);
    if (gradX) assertClose(await x.grad!.toArray(), refDx, reductionTol, 'dx');
    else assert.is(x.grad, null, 'no dx for a constant input');
    if (gradW) assertClose(await w.grad!.toArray(), refDw, reductionTol, 'dw');
    else assert.is(w.grad, null, 'no dw for a frozen weight');
    for (const t of [x.grad, w.grad, x, w, y]) t?.dispose();
  }
  dy.dispose();
});

s('saved tensors handed to the tape are freed when nothing is recorded and after backward', async () => {
  const x = Tensor.fromArray(randomArray(2 * 3 * 4 * 4, 5), [2, 3, 4, 4], { requiresGrad: true });
  const live = gpu().pool.stats.liveBuffers;
  const a = noGrad(() => F.maxPool2d(x, { kernelSize: 2 }));
  assert.is(gpu().pool.stats.liveBuffers, live + 1, 'no grad: only the output (indices freed at once)');
  a.dispose();
  const b = F.batchNorm2d(x, null, null, null, null, { training: true });
  assert.is(gpu().pool.stats.liveBuffers, live + 2, 'recorded: output and the coefficients the tape holds');
  const seed = Tensor.ones(b.shape);
  b.backward(seed);
  b.dispose(); seed.dispose();
  x.grad!.dispose(); x.grad = null;
  assert.is(gpu().pool.stats.liveBuffers, live, 'after backward the tape has freed what it held');
  x.dispose();
});

s('a ResNeSt training step is one submission and creates no buffers in steady state (train and eval mode)', async () => {
  const model = new ResNeSt({ layers: [1, 1, 1, 1], planes: [8, 12, 16, 24], stemWidth: 8, numClasses: 4, seed: 3 });
  const opt = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  const x = Tensor.fromArray(randomArray(2 * 3 * 32 * 32, 7), [2, 3, 32, 32]);
  const y = Tensor.fromArray([1, 0, 0, 1, 0, 1, 1, 0], [2, 4]);
  const g = gpu();
  const step = async () => {
    opt.zeroGrad();
    const loss = tidy(() => F.sigmoidFocalLoss(model.forward(x), y));
    loss.backward();
    opt.step();
    const value = await loss.item();
    loss.dispose();
    return value;
  };
  for (const mode of ['train', 'eval'] as const) {
    model.train(mode === 'train');
    for (let i = 0; i < 2; i++) await step();   // first steps compile pipelines and fill the pool
    const submissions = g.recorder.stats.submissions, created = g.pool.stats.created, live = g.pool.stats.liveBuffers;
    for (let i = 0; i < 2; i++) assert.ok(Number.isFinite(await step()));
    assert.is(g.recorder.stats.submissions - submissions, 2, `${mode}: one submission per step`);
    assert.is(g.pool.stats.created - created, 0, `${mode}: no buffers created in steady state`);
    assert.is(g.pool.stats.liveBuffers, live, `${mode}: nothing leaks`);
    assert.is(tapeLength(), 0, `${mode}: the walk consumed the tape`);
  }
  for (const t of [x, y]) t.dispose();
  model.dispose();
});

s('src/tensor.ts imports nothing of src/autograd (no import cycle)', () => {
  const text = readFileSync(new URL('../../src/tensor.ts', import.meta.url), 'utf8');
  assert.not.match(text, /from\s+['"][^'"]*autograd/);
});

s.run();
