import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyEval, decodeImage, Rng } from '../../../src/vision/index.ts';
import { CELEBA_ATTRIBUTES, CELEBA_IMAGE_COUNT, CELEBA_POSITIVE_COUNTS, parseCelebALabels, RENDERED_ATTRIBUTES, renderSyntheticFace, sampleSyntheticLabels, SYNTHETIC_MARKER } from '../../../examples/celeba-train/celeba/index.ts';
import { makeSyntheticCelebA as makeFromIndex } from '../../../examples/celeba-train/celeba/index.ts';
import { syntheticSet, tempDir } from '../../vision/helpers.ts';

const s = suite('celeba: synthetic CelebA');
const A = (name: string): number => CELEBA_ATTRIBUTES.indexOf(name as (typeof CELEBA_ATTRIBUTES)[number]);

s('writes the official layout and formatting', async () => {
  const dir = await syntheticSet(40, 1);
  const images = readdirSync(join(dir, 'img_align_celeba')).sort();
  assert.is(images.length, 40);
  assert.is(images[0], '000001.jpg');
  assert.is(images[39], '000040.jpg');
  const attr = readFileSync(join(dir, 'list_attr_celeba.txt'), 'utf8').split('\n');
  assert.is(attr[0], '40');
  assert.is(attr[1], CELEBA_ATTRIBUTES.join(' ') + ' ');
  for (const line of attr.slice(2, 42)) assert.match(line, /^\d{6}\.jpg( {2}1| -1){40}$/);
  assert.is(attr[42], '');
  const part = readFileSync(join(dir, 'list_eval_partition.txt'), 'utf8').trim().split('\n');
  assert.is(part[0], '000001.jpg 0');
  const counts = [0, 0, 0];
  for (const line of part) counts[Number(line.split(' ')[1])]++;
  assert.equal(counts, [32, 4, 4], 'CelebA proportions, contiguous like the release');
  const img = decodeImage(readFileSync(join(dir, 'img_align_celeba', '000007.jpg')));
  assert.equal([img.width, img.height], [178, 218]);
});

s('cached by (count, seed); regenerated when either changes; never clobbers a foreign dataset', async () => {
  const dir = tempDir('cache');
  const first = await makeFromIndex({ dir, count: 12, seed: 5 });
  assert.ok(first.generated);
  const stamp = statSync(join(dir, 'img_align_celeba', '000003.jpg')).mtimeMs;
  const again = await makeFromIndex({ dir, count: 12, seed: 5 });
  assert.not.ok(again.generated);
  assert.is(statSync(join(dir, 'img_align_celeba', '000003.jpg')).mtimeMs, stamp);
  const other = await makeFromIndex({ dir, count: 10, seed: 6 });
  assert.ok(other.generated);
  assert.is(readdirSync(join(dir, 'img_align_celeba')).length, 10, 'stale images removed');
  const foreign = tempDir('foreign');
  writeFileSync(join(foreign, 'list_attr_celeba.txt'), '0\nA\n');
  await makeFromIndex({ dir: foreign, count: 3, seed: 1 }).then(
    () => assert.unreachable('overwrote a dataset without the marker'),
    (err: Error) => assert.match(err.message, SYNTHETIC_MARKER),
  );
});

s('same (count, seed) gives byte-identical files; workers do not change the result', async () => {
  const a = tempDir('same-a'), b = tempDir('same-b');
  await makeFromIndex({ dir: a, count: 6, seed: 9 });
  await makeFromIndex({ dir: b, count: 6, seed: 9 });
  for (const f of ['list_attr_celeba.txt', 'img_align_celeba/000006.jpg']) {
    assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  }
});

s('labels are consistent: one hair colour or bald, No_Beard = not(Mustache or Goatee)', () => {
  const rng = new Rng(21);
  const hair = ['Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Gray_Hair'].map(A);
  for (let i = 0; i < 5000; i++) {
    const y = sampleSyntheticLabels(rng);
    const colours = hair.reduce((n, j) => n + y[j], 0);
    assert.is(colours + y[A('Bald')], 1);
    if (y[A('Bald')]) assert.is(y[A('Bangs')], 0);
    assert.is(y[A('No_Beard')], +!(y[A('Mustache')] || y[A('Goatee')]));
    if (y[A('Mustache')] || y[A('Goatee')] || y[A('Bald')]) assert.is(y[A('Male')], 1);
  }
});

s('unrendered attributes are noise at CelebA positive rates (4 standard errors)', () => {
  const rng = new Rng(22);
  const n = 20000;
  const sums = new Array(40).fill(0);
  for (let i = 0; i < n; i++) sampleSyntheticLabels(rng).forEach((v, j) => (sums[j] += v));
  const rendered = new Set(RENDERED_ATTRIBUTES.map(A));
  assert.ok(rendered.size >= 12);
  CELEBA_ATTRIBUTES.forEach((name, j) => {
    if (rendered.has(j)) return;
    const p = CELEBA_POSITIVE_COUNTS[j] / CELEBA_IMAGE_COUNT;
    assert.ok(Math.abs(sums[j] / n - p) < 4 * Math.sqrt((p * (1 - p)) / n), `${name}: ${sums[j] / n} vs ${p}`);
  });
});

// Each rendered attribute must still change a good patch of the 64x64 eval input: same pose and
// colours, one attribute toggled, count pixels that move by more than 0.15 (of the 0..1 range).
s('every rendered attribute is visible after CenterCrop(178) + Resize(64)', () => {
  const base = new Uint8Array(40);
  base[A('Male')] = 1; base[A('Brown_Hair')] = 1; base[A('No_Beard')] = 1;
  const eval64 = { kind: 'eval' as const, crop: 178, size: 64, mean: [0, 0, 0], std: [1, 1, 1] };
  const render = (y: Uint8Array) => {
    const rgba = renderSyntheticFace(y, new Rng(99)).data;
    const rgb = new Uint8Array(178 * 218 * 3);
    for (let p = 0; p < 178 * 218; p++) rgb.set(rgba.subarray(4 * p, 4 * p + 3), 3 * p);
    return applyEval({ width: 178, height: 218, data: rgb }, eval64).data;
  };
  const ref = render(base);
  const toggles: Record<string, (y: Uint8Array) => void> = {
    Eyeglasses: (y) => (y[A('Eyeglasses')] = 1),
    Wearing_Hat: (y) => (y[A('Wearing_Hat')] = 1),
    Smiling: (y) => (y[A('Smiling')] = 1),
    Mouth_Slightly_Open: (y) => (y[A('Mouth_Slightly_Open')] = 1),
    Mustache: (y) => { y[A('Mustache')] = 1; y[A('No_Beard')] = 0; },
    Goatee: (y) => { y[A('Goatee')] = 1; y[A('No_Beard')] = 0; },
    Bangs: (y) => (y[A('Bangs')] = 1),
    Bald: (y) => { y[A('Bald')] = 1; y[A('Brown_Hair')] = 0; },
    Male: (y) => (y[A('Male')] = 0),
    Pale_Skin: (y) => (y[A('Pale_Skin')] = 1),
    Wearing_Necktie: (y) => (y[A('Wearing_Necktie')] = 1),
    Black_Hair: (y) => { y[A('Black_Hair')] = 1; y[A('Brown_Hair')] = 0; },
    Blond_Hair: (y) => { y[A('Blond_Hair')] = 1; y[A('Brown_Hair')] = 0; },
    Gray_Hair: (y) => { y[A('Gray_Hair')] = 1; y[A('Brown_Hair')] = 0; },
  };
  for (const [name, toggle] of Object.entries(toggles)) {
    const y = base.slice();
    toggle(y);
    const out = render(y);
    let moved = 0;
    for (let p = 0; p < 64 * 64; p++) {
      let d = 0;
      for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(out[c * 4096 + p] - ref[c * 4096 + p]));
      if (d > 0.15) moved++;
    }
    assert.ok(moved >= 25, `${name} moves only ${moved} of 4096 pixels`);
  }
});

s('labels read back through the parser match what was sampled', async () => {
  const dir = await syntheticSet(40, 1);
  const labels = parseCelebALabels(
    readFileSync(join(dir, 'list_attr_celeba.txt'), 'utf8'), readFileSync(join(dir, 'list_eval_partition.txt'), 'utf8'));
  assert.is(labels.files.length, 40);
  assert.is(labels.problems.length, 0);
});

s('make-synthetic-celeba CLI (package.json bin) writes a set and then finds it cached', () => {
  const dir = tempDir('cli');
  const bin = fileURLToPath(new URL('../../../examples/celeba-train/synthetic/bin.mjs', import.meta.url));
  const run = () => spawnSync(process.execPath, [bin, dir, '--count', '3', '--seed', '2'], { encoding: 'utf8' });
  const first = run();
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stdout, /wrote 3 images \(seed 2\)/);
  assert.is(readdirSync(join(dir, 'img_align_celeba')).length, 3);
  assert.match(run().stdout, /nothing to do/);
  const bad = spawnSync(process.execPath, [bin, dir, '--count', 'x'], { encoding: 'utf8' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /usage: make-synthetic-celeba/);
});

s.run();
