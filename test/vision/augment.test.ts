import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyTrainParams, decodeImage, imageRng, Rng, sampleColorJitter, sampleResizedCrop, sampleTrainParams, transformImage } from '../../src/vision/index.ts';
import { celebaTrainTransform } from '../../examples/celeba-train/celeba/index.ts';
import { assertClose, FIXTURES } from './helpers.ts';

const s = suite('vision: random parameter distributions');
const params = JSON.parse(readFileSync(join(FIXTURES, 'params.json'), 'utf8'));

function stats(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}

s('RandomResizedCrop boxes on 178x218 match torchvision sampling statistics', () => {
  const ref = params.rrc_178x218 as { n: number; mean: number[]; std: number[] };
  const rng = new Rng(11);
  const n = 40000;
  const boxes = Array.from({ length: n }, () => sampleResizedCrop(rng, 218, 178, [0.5, 1], [3 / 4, 4 / 3]));
  for (const b of boxes) {
    assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 218 && b.left + b.width <= 178);
    const frac = (b.height * b.width) / (218 * 178);
    assert.ok(frac > 0.49 && frac <= 1, `area fraction ${frac}`);
  }
  const fields = ['top', 'left', 'height', 'width'] as const;
  fields.forEach((f, i) => {
    const got = stats(boxes.map((b) => b[f]));
    const se = Math.sqrt(got.std ** 2 / n + ref.std[i] ** 2 / ref.n);
    assert.ok(Math.abs(got.mean - ref.mean[i]) < 5 * se, `${f} mean ${got.mean} vs torchvision ${ref.mean[i]}`);
    assert.ok(Math.abs(got.std / ref.std[i] - 1) < 0.03, `${f} std ${got.std} vs torchvision ${ref.std[i]}`);
  });
});

s('aspect ratio is log-uniform when nothing is rejected', () => {
  const rng = new Rng(12);
  const logs = Array.from({ length: 20000 }, () => {
    const b = sampleResizedCrop(rng, 20000, 20000, [0.01, 0.02], [3 / 4, 4 / 3]);
    return Math.log(b.width / b.height);
  });
  const span = Math.log(16 / 9);
  const st = stats(logs);
  assert.ok(Math.abs(st.mean) < 0.005, `mean log-ratio ${st.mean}`);
  assert.ok(Math.abs(st.std - span / Math.sqrt(12)) < 0.004, `std ${st.std}`);
  const quarters = [0, 0, 0, 0];
  for (const l of logs) quarters[Math.min(3, Math.floor(((l + span / 2) / span) * 4))]++;
  for (const q of quarters) assert.ok(Math.abs(q / logs.length - 0.25) < 0.015, `quarter share ${q / logs.length}`);
});

s('ten rejected attempts, then the central fallback crop', () => {
  const rng = new Rng(13), twin = new Rng(13);
  assert.equal(sampleResizedCrop(rng, 218, 178, [2, 3]), { top: 0, left: 0, height: 218, width: 178 });
  for (let i = 0; i < 20; i++) twin.uniform(); // 10 attempts x (area, log-ratio)
  assert.is(rng.nextU32(), twin.nextU32(), 'exactly 10 attempts were drawn');
  assert.equal(sampleResizedCrop(rng, 100, 400, [2, 3]), { top: 0, left: 133, height: 100, width: 133 });
  assert.equal(sampleResizedCrop(rng, 400, 100, [2, 3]), { top: 133, left: 0, height: 133, width: 100 });
});

s('flip probability and jitter factors, ranges and op order', () => {
  const cfg = celebaTrainTransform(64);
  const rng = new Rng(14);
  const n = 20000;
  let flips = 0;
  const firstOp = [0, 0, 0, 0];
  const b: number[] = [], sat: number[] = [], hue: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = sampleTrainParams(rng, 218, 178, cfg);
    flips += +p.flip;
    firstOp[p.jitter.order[0]]++;
    assert.equal([...p.jitter.order].sort(), [0, 1, 2, 3]);
    assert.is(p.jitter.contrast, undefined, 'contrast 0 is disabled, not drawn');
    b.push(p.jitter.brightness!); sat.push(p.jitter.saturation!); hue.push(p.jitter.hue!);
  }
  assert.ok(Math.abs(flips / n - 0.5) < 0.015, `flip rate ${flips / n}`);
  for (const c of firstOp) assert.ok(Math.abs(c / n - 0.25) < 0.015, `first-op share ${c / n}`);
  for (const [xs, lo, hi] of [[b, 0.6, 1.4], [sat, 0.6, 1.4], [hue, -0.5, 0.5]] as const) {
    assert.ok(xs.every((x) => x >= lo && x < hi));
    const st = stats(xs);
    assert.ok(Math.abs(st.mean - (lo + hi) / 2) < 0.01 && Math.abs(st.std - (hi - lo) / Math.sqrt(12)) < 0.01);
  }
  const none = sampleColorJitter(new Rng(1), {});
  assert.equal(Object.keys(none), ['order']);
});

s('transformImage = applyTrainParams(sampleTrainParams) with the image stream', () => {
  const face = decodeImage(readFileSync(join(FIXTURES, 'face.png')));
  const cfg = celebaTrainTransform(24);
  const a = transformImage(face, cfg, imageRng(3, 1, 17));
  const p = sampleTrainParams(imageRng(3, 1, 17), face.height, face.width, cfg);
  assertClose(a.data, applyTrainParams(face, p, cfg).data, 0, 0, 'same params, same pixels');
  assert.throws(() => transformImage(face, cfg, null), /needs an Rng/);
});

s.run();
