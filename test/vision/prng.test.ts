import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { epochOrder, hashKeys, imageRng, Rng } from '../../src/vision/index.ts';

const s = suite('vision: prng');

function moments(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, variance: xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length };
}

s('same keys give the same stream; any different key gives another', () => {
  const a = new Rng(7, 1, 2), b = new Rng(7, 1, 2), c = new Rng(7, 1, 3), d = new Rng(8, 1, 2);
  const take = (r: Rng) => Array.from({ length: 8 }, () => r.nextU32());
  const xa = take(a);
  assert.equal(take(b), xa);
  assert.not.equal(take(c), xa);
  assert.not.equal(take(d), xa);
  assert.is.not(hashKeys(1, 2), hashKeys(2, 1));
  assert.is.not(hashKeys(2 ** 32), hashKeys(0), 'high word of a key counts');
  assert.throws(() => new Rng(-1), /non-negative/);
});

s('golden values pin the generator (changing them changes every epoch)', () => {
  const r = new Rng(0);
  assert.equal([r.nextU32(), r.nextU32(), r.nextU32()], GOLDEN);
});

s('uniform: range and moments (mean 1/2, var 1/12) within 5 standard errors', () => {
  const r = new Rng(1);
  const n = 200000;
  const xs = Array.from({ length: n }, () => r.uniform());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const m = moments(xs);
  assert.ok(Math.abs(m.mean - 0.5) < 5 * Math.sqrt(1 / 12 / n), `mean ${m.mean}`);
  assert.ok(Math.abs(m.variance - 1 / 12) < 5 * Math.sqrt(1 / 180 / n), `variance ${m.variance}`);
  const ys = Array.from({ length: 1000 }, () => r.uniform(-3, 5));
  assert.ok(ys.every((y) => y >= -3 && y < 5));
});

s('randint: exclusive upper bound, every value hit, chi-square uniform', () => {
  const r = new Rng(2);
  const k = 7, n = 70000;
  const counts = new Array(k).fill(0);
  for (let i = 0; i < n; i++) counts[r.randint(3, 3 + k) - 3]++;
  const e = n / k;
  const chi2 = counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
  assert.ok(chi2 < 22.5, `chi2 ${chi2} (df 6, p = 0.001 cut-off 22.46)`);
  assert.is(r.randint(5, 6), 5);
  assert.throws(() => r.randint(4, 4), /lo < hi/);
});

s('normal: mean 0, variance 1, symmetric tails', () => {
  const r = new Rng(3);
  const n = 100000;
  const xs = Array.from({ length: n }, () => r.normal());
  const m = moments(xs);
  assert.ok(Math.abs(m.mean) < 5 / Math.sqrt(n), `mean ${m.mean}`);
  assert.ok(Math.abs(m.variance - 1) < 5 * Math.sqrt(2 / n), `variance ${m.variance}`);
  const beyond2 = xs.filter((x) => Math.abs(x) > 2).length / n;
  assert.ok(Math.abs(beyond2 - 0.0455) < 0.004, `P(|x| > 2) = ${beyond2}`);
  const shifted = moments(Array.from({ length: 20000 }, () => r.normal(10, 0.5)));
  assert.ok(Math.abs(shifted.mean - 10) < 0.02 && Math.abs(shifted.variance - 0.25) < 0.02);
});

s('permutation: a permutation, and every position uniform', () => {
  const r = new Rng(4);
  const p = r.permutation(1000);
  assert.equal(Array.from(p).sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  const n = 24000, first = new Array(4).fill(0);
  for (let i = 0; i < n; i++) first[r.permutation(4)[0]]++;
  for (const c of first) assert.ok(Math.abs(c / n - 0.25) < 0.015, `P(first) = ${c / n}`);
});

s('epoch order and image streams are functions of (seed, epoch, index) only', () => {
  assert.equal(epochOrder(5, 3, 50), epochOrder(5, 3, 50));
  assert.not.equal(epochOrder(5, 3, 50), epochOrder(5, 4, 50));
  assert.is(imageRng(5, 3, 10).uniform(), imageRng(5, 3, 10).uniform());
  assert.is.not(imageRng(5, 3, 10).uniform(), imageRng(5, 3, 11).uniform());
});

const GOLDEN = [575744521, 1571014381, 2481462101];

s.run();
