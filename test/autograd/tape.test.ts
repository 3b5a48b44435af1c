// Tape semantics in the style of micrograd's own tests: fan-out, accumulation, no-grad, freeing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { noGrad, tapeLength, clearTape } from '../../src/autograd/tape.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { gpu } from '../../src/gpu/index.ts';
import { assertClose, setupGpu } from '../helpers.ts';

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

s.run();
