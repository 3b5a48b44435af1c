import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { focalLossCpu } from '../../kernels/focal_loss.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';
import { loadHeadFixture } from '../fixtures/head/load.ts';

const s = suite('kernels: focal_loss');
s.before(setupGpu);

// f32 transcendental maths per element (rel ~1e-6) and an f32 sum over n values
const lossTol = { atol: 1e-6, rtol: 2e-5 };
const gradTol = { atol: 1e-8, rtol: 2e-5 };

function targetsFor(n: number, seed: number): Float32Array {
  return Float32Array.from(randomArray(n, seed), (v) => (v > 0.2 ? 1 : 0));
}

s('matches torchvision sigmoid_focal_loss (fixtures: alpha vector with negative entries, logits up to +-90, mean/sum, gamma 2 and 1.5, BCE)', async () => {
  const fx = loadHeadFixture('focal_loss');
  const [B, A] = fx.shape('logits');
  const cases = fx.config as Record<string, { gamma: number; reduction: 'mean' | 'sum' }>;
  const alphaVec = fx.get('alpha');
  for (const [name, { gamma, reduction }] of Object.entries(cases)) {
    const logits = Tensor.fromArray(fx.get('logits'), [B, A], { requiresGrad: true });
    const targets = Tensor.fromArray(fx.get('targets'), [B, A]);
    let loss: Tensor;
    if (name.startsWith('bce')) loss = F.binaryCrossEntropyWithLogits(logits, targets, { reduction });
    else if (name.startsWith('alpha_vec')) loss = F.sigmoidFocalLoss(logits, targets, { alpha: alphaVec, gamma, reduction });
    else loss = F.sigmoidFocalLoss(logits, targets, { alpha: 0.25, gamma, reduction });
    assertClose([await loss.item()], fx.get(`${name}.loss`), lossTol, `${name} loss`);
    loss.backward();
    assertClose(await logits.grad!.toArray(), fx.get(`${name}.dlogits`), reduction === 'sum' ? { atol: 1e-6, rtol: 2e-5 } : gradTol, `${name} dlogits`);
    const { nonFinite } = await F.readLoss(loss);
    assert.is(nonFinite, 0, `${name}: no non-finite values`);
    for (const t of [loss, logits.grad!, logits, targets]) t.dispose();
  }
});

s('real-valued targets match torchvision (fixtures: smoothed 0.05/0.95 and uniform [0, 1] targets, logits up to +-90, gamma 2, 1.5, 0.5, BCE)', async () => {
  const fx = loadHeadFixture('focal_loss_soft');
  const [B, A] = fx.shape('logits');
  const { cases } = fx.config as { cases: Record<string, { alpha: number | 'alpha'; gamma: number; reduction: 'mean' | 'sum' }> };
  for (const tname of ['smoothed', 'uniform']) {
    const targetValues = fx.get(`${tname}.targets`);
    assert.ok(targetValues.some((v) => v > 0 && v < 1 && v !== 0.5), `${tname}: targets strictly inside (0, 1)`);
    for (const [name, { alpha, gamma, reduction }] of Object.entries(cases)) {
      const what = `${tname} ${name}`;
      const logits = Tensor.fromArray(fx.get('logits'), [B, A], { requiresGrad: true });
      const targets = Tensor.fromArray(targetValues, [B, A]);
      const loss = name.startsWith('bce') ? F.binaryCrossEntropyWithLogits(logits, targets, { reduction })
        : F.sigmoidFocalLoss(logits, targets, { alpha: alpha === 'alpha' ? fx.get('alpha') : alpha, gamma, reduction });
      assertClose([await loss.item()], fx.get(`${what.replace(' ', '.')}.loss`), lossTol, `${what} loss`);
      loss.backward();
      const dlogits = fx.get(`${tname}.${name}.dlogits`);
      assertClose(await logits.grad!.toArray(), dlogits, reduction === 'sum' ? { atol: 1e-6, rtol: 2e-5 } : gradTol, `${what} dlogits`);
      const ref = focalLossCpu(fx.get('logits'), targetValues, alpha === 'alpha' ? fx.get('alpha') : alpha, gamma, A, reduction);
      assertClose([ref.loss], fx.get(`${tname}.${name}.loss`), { atol: 0, rtol: 1e-6 }, `${what}: f64 reference loss`);
      assertClose(ref.dlogits, dlogits, { atol: 1e-12, rtol: 1e-6 }, `${what}: f64 reference dlogits`);
      assert.is((await F.readLoss(loss)).nonFinite, 0, `${what}: no non-finite values`);
      for (const t of [loss, logits.grad!, logits, targets]) t.dispose();
    }
  }
});

s('soft targets: the closed-form reference gradient matches f64 finite differences; the GPU gradient passes GPU finite differences', async () => {
  const [B, A] = [5, 7];
  const x = randomArray(B * A, 21, -6, 6), alpha = randomArray(A, 23, -0.5, 1);
  const y = randomArray(B * A, 22, 0, 1);
  y[0] = 0; y[1] = 1; y[2] = 0.5;
  for (const gamma of [0, 0.5, 1, 1.5, 2, 3]) {
    const x64 = Float64Array.from(x);
    const [numeric] = numericGradCpu(([v]) => [focalLossCpu(v, y, alpha, gamma, A, 'mean').loss], [x64], [1]);
    assertClose(focalLossCpu(x64, y, alpha, gamma, A, 'mean').dlogits, numeric, { atol: 1e-9, rtol: 1e-6 }, `reference gradient, gamma ${gamma}`);
  }
  const ty = Tensor.fromArray(y, [B, A]);
  for (const gamma of [0.5, 2]) {
    const report = await gradcheck(([v]) => F.reshape(F.sigmoidFocalLoss(v, ty, { alpha, gamma, reduction: 'sum' }), [1]),
      [randomArray(B * A, 24, -3, 3)], [[B, A]], { samples: 10 });
    assert.ok(report.ok, `gamma ${gamma}: ${report.failures.join('\n')}`);
  }
  ty.dispose();
});

s('alpha as a device tensor equals alpha as an array; the closed-form reference matches f64 finite differences', async () => {
  const [B, A] = [5, 7];
  const x = randomArray(B * A, 1, -6, 6), y = targetsFor(B * A, 2), alpha = randomArray(A, 3, -0.5, 1);
  const tx = Tensor.fromArray(x, [B, A]), ty = Tensor.fromArray(y, [B, A]), ta = Tensor.fromArray(alpha, [A]);
  const l1 = F.sigmoidFocalLoss(tx, ty, { alpha: ta, gamma: 2 }), l2 = F.sigmoidFocalLoss(tx, ty, { alpha, gamma: 2 });
  const want = focalLossCpu(x, y, alpha, 2, A, 'mean').loss;
  assertClose([await l1.item(), await l2.item()], [want, want], lossTol, 'loss');
  for (const t of [tx, ty, ta, l1, l2]) t.dispose();
  for (const gamma of [0, 1.5, 2]) {
    const x64 = Float64Array.from(x);
    const [numeric] = numericGradCpu(([v]) => [focalLossCpu(v, y, alpha, gamma, A, 'mean').loss], [x64], [1]);
    assertClose(focalLossCpu(x64, y, alpha, gamma, A, 'mean').dlogits, numeric, { atol: 1e-9, rtol: 1e-6 }, `reference gradient, gamma ${gamma}`);
  }
});

s('gradients pass GPU finite differences, and the backward scales by the upstream gradient', async () => {
  const [B, A] = [4, 6];
  const y = targetsFor(B * A, 5), alpha = randomArray(A, 6, -0.2, 1);
  const ty = Tensor.fromArray(y, [B, A]);
  const report = await gradcheck(([x]) => F.reshape(F.sigmoidFocalLoss(x, ty, { alpha, gamma: 2, reduction: 'sum' }), [1]),
    [randomArray(B * A, 7, -3, 3)], [[B, A]], { samples: 10 });
  assert.ok(report.ok, report.failures.join('\n'));
  const x = randomArray(B * A, 8, -3, 3);
  const tx = Tensor.fromArray(x, [B, A], { requiresGrad: true });
  const loss = tidy(() => F.scale(F.sigmoidFocalLoss(tx, ty, { alpha, gamma: 2 }), -3));
  loss.backward();
  const want = focalLossCpu(x, y, alpha, 2, A, 'mean').dlogits.map((v) => -3 * v);
  assertClose(await tx.grad!.toArray(), want, gradTol, 'upstream-scaled dlogits');
  for (const t of [ty, tx, tx.grad!, loss]) t.dispose();
});

s('stays finite at |logits| up to 1e4 and in f32 agrees with f64 at +-40, for 0/1 and smoothed targets, gamma 2 and 0.5', async () => {
  const x = Float32Array.from([40, -40, 40, -40, 100, -100, 1e4, -1e4, 0, 17]);
  const hard = Float32Array.from([1, 1, 0, 0, 0, 1, 1, 0, 1, 0]);
  const smoothed = hard.map((v) => v * 0.9 + 0.05);
  for (const [y, gamma] of [[hard, 2], [smoothed, 2], [hard, 0.5], [smoothed, 0.5]] as const) {
    const tx = Tensor.fromArray(x, [2, 5], { requiresGrad: true }), ty = Tensor.fromArray(y, [2, 5]);
    const loss = F.sigmoidFocalLoss(tx, ty, { alpha: 0.25, gamma, reduction: 'sum' });
    const ref = focalLossCpu(x, y, 0.25, gamma, 5, 'sum');
    assertClose([await loss.item()], [ref.loss], lossTol, `loss, gamma ${gamma}`);
    loss.backward();
    const grad = await tx.grad!.toArray();
    assert.ok(grad.every(Number.isFinite), `finite gradients: ${grad}`);
    assertClose(grad, ref.dlogits, gradTol, `dlogits, gamma ${gamma}`);
    assert.ok(await F.lossIsFinite(loss));
    for (const t of [tx, tx.grad!, ty, loss]) t.dispose();
  }
});

s('non-finite logits are counted in the same pass; readLoss returns value and count in one readback', async () => {
  const x = randomArray(3 * 40, 9);
  x[5] = NaN; x[77] = Infinity; x[100] = -Infinity;
  const tx = Tensor.fromArray(x, [3, 40], { requiresGrad: true }), ty = Tensor.fromArray(targetsFor(120, 10), [3, 40]);
  const loss = F.sigmoidFocalLoss(tx, ty);
  const { nonFinite } = await F.readLoss(loss);
  assert.ok(nonFinite >= 3, `counted ${nonFinite} non-finite values`);
  assert.is(await F.lossIsFinite(loss), false);
  const clean = Tensor.fromArray(randomArray(120, 11), [3, 40]);
  const ok = F.binaryCrossEntropyWithLogits(clean, ty);
  assert.equal(await F.readLoss(ok).then((r) => r.nonFinite), 0);
  const other = F.sum(clean);
  try { await F.readLoss(other); assert.unreachable('readLoss of another tensor'); } catch (e) { assert.match((e as Error).message, /readLoss: .* not returned by sigmoidFocalLoss/); }
  for (const t of [tx, ty, loss, clean, ok, other]) t.dispose();
});

s('large batch (600 x 40: many partial sums) and no-grad mode', async () => {
  const [B, A] = [600, 40];
  const x = randomArray(B * A, 12, -8, 8), y = targetsFor(B * A, 13);
  const tx = Tensor.fromArray(x, [B, A]), ty = Tensor.fromArray(y, [B, A]);
  const loss = F.sigmoidFocalLoss(tx, ty, { alpha: 0.4, gamma: 2, reduction: 'sum' });
  assert.is(loss.requiresGrad, false);
  assertClose([await loss.item()], [focalLossCpu(x, y, 0.4, 2, A, 'sum').loss], { atol: 1e-4, rtol: 2e-5 }, 'sum over 24000');
  for (const t of [tx, ty, loss]) t.dispose();
});

s('clear errors: shape mismatch, wrong alpha length, bad gamma or reduction', () => {
  const x = Tensor.zeros([4, 40]), y = Tensor.zeros([4, 39]), y2 = Tensor.zeros([4, 40]), a = Tensor.zeros([39]);
  assertThrowsWith(() => F.sigmoidFocalLoss(x, y), /sigmoidFocalLoss/, /targets \[4,39\]/, /logits \[4,40\]/);
  assertThrowsWith(() => F.sigmoidFocalLoss(x, y2, { alpha: new Float32Array(39) }), /alpha vector/, /\[40\]/, /39 values/);
  assertThrowsWith(() => F.sigmoidFocalLoss(x, y2, { alpha: a }), /alpha vector/, /got \[39\]/);
  assertThrowsWith(() => F.sigmoidFocalLoss(x, y2, { gamma: -1 }), /gamma must be/);
  assertThrowsWith(() => F.sigmoidFocalLoss(x, y2, { reduction: 'none' as 'sum' }), /reduction must be 'mean' or 'sum'/);
  assertThrowsWith(() => F.binaryCrossEntropyWithLogits(x, y), /binaryCrossEntropyWithLogits/, /\[4,39\]/);
  for (const t of [x, y, y2, a]) t.dispose();
});

s.run();
