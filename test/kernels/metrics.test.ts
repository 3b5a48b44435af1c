import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import { gpu } from '../../src/gpu/index.ts';
import { AttributeAccuracy } from '../../src/metrics.ts';
import { attributeCountsCpu } from '../../kernels/metrics.ts';
import { assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';
import { loadHeadFixture } from '../fixtures/head/load.ts';

const s = suite('kernels: metrics');
s.before(setupGpu);

s('per-attribute counts over two batches match PyTorch (fixture, logits of exactly 0 predict negative)', async () => {
  const fx = loadHeadFixture('metrics');
  const acc = new AttributeAccuracy(40);
  let rows = 0;
  for (const b of [0, 1]) {
    const shape = fx.shape(`batch${b}.logits`);
    const x = Tensor.fromArray(fx.get(`batch${b}.logits`), shape), y = Tensor.fromArray(fx.get(`batch${b}.targets`), shape);
    acc.update(x, y);
    rows += shape[0];
    x.dispose(); y.dispose();
  }
  const r = await acc.read();
  assert.is(r.total, rows);
  assert.equal(Array.from(r.correct), Array.from(fx.get('correct')));
  assert.equal(Array.from(r.predictedPositive), Array.from(fx.get('predicted_positive')));
  assert.equal(Array.from(r.targetPositive), Array.from(fx.get('target_positive')));
  assert.equal(Array.from(r.truePositive), Array.from(fx.get('true_positive')));
  const mean = Array.from(fx.get('correct')).reduce((a, c) => a + c / rows, 0) / 40;
  assert.ok(Math.abs(r.meanAccuracy - mean) < 1e-12, `mean accuracy ${r.meanAccuracy} vs ${mean}`);
  acc.dispose();
});

s('many batches, one dispatch each and one readback; reset starts over; NaN logits predict negative', async () => {
  const A = 13, acc = new AttributeAccuracy(A);
  const want = { correct: Array(A).fill(0), truePositive: Array(A).fill(0) };
  const before = gpu().recorder.stats.dispatches;
  let rows = 0;
  for (let b = 0; b < 5; b++) {
    const n = 37 + b;
    const x = randomArray(n * A, b), y = Float32Array.from(randomArray(n * A, 100 + b), (v) => (v > 0 ? 1 : 0));
    if (b === 0) x[3] = NaN;
    const ref = attributeCountsCpu(x, y, n, A);
    ref.correct.forEach((c, a) => { want.correct[a] += c; want.truePositive[a] += ref.truePositive[a]; });
    const tx = Tensor.fromArray(x, [n, A]), ty = Tensor.fromArray(y, [n, A]);
    acc.update(tx, ty);
    tx.dispose(); ty.dispose();
    rows += n;
  }
  assert.is(gpu().recorder.stats.dispatches - before, 5);
  const r = await acc.read();
  assert.equal(Array.from(r.correct), want.correct);
  assert.equal(Array.from(r.truePositive), want.truePositive);
  assert.is(r.total, rows);
  acc.reset();
  const after = await acc.read();
  assert.ok(after.correct.every((c) => c === 0) && after.total === 0);
  acc.dispose();
});

s('clear errors for mismatched shapes and use after dispose', () => {
  const acc = new AttributeAccuracy(40);
  const x = Tensor.zeros([4, 40]), y = Tensor.zeros([4, 39]), z = Tensor.zeros([4, 39]);
  assertThrowsWith(() => acc.update(x, y), /AttributeAccuracy.update/, /targets \[4,39\]/, /\[4,40\]/);
  assertThrowsWith(() => acc.update(z, z), /logits must be \[rows, 40\]/, /\[4,39\]/);
  assertThrowsWith(() => new AttributeAccuracy(0), /positive integer/);
  acc.dispose();
  assertThrowsWith(() => acc.update(x, x), /after dispose/);
  for (const t of [x, y, z]) t.dispose();
});

s.run();
