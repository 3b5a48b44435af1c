import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyEval, createLoader, ImageReadError, decodeImage, imageRng, splitIndices, transformImage, type Batch, type EpochReport, type LoaderOptions } from '../../src/vision/index.ts';
import { celebaTrainTransform, readCelebA, type CelebADataset } from '../../examples/celeba-train/celeba/index.ts';
import { copySet, syntheticSet } from './helpers.ts';

const s = suite('vision: worker-thread loader');
const EVAL = { kind: 'eval' as const, crop: 178, size: 24 };
const TRAIN = celebaTrainTransform(24);

async function collect(opts: LoaderOptions, limit = Infinity): Promise<{ batches: Batch[]; state: string; report?: EpochReport }> {
  const loader = createLoader(opts);
  const batches: Batch[] = [];
  let report: EpochReport | undefined;
  try {
    const it = loader.epoch();
    for (let r = await it.next(); ; r = await it.next()) {
      if (r.done) { report = r.value; break; }
      batches.push(r.value);
      if (batches.length >= limit) break;
    }
    return { batches, state: JSON.stringify(loader.state()), report };
  } finally {
    await loader.close();
  }
}

/** Fails instead of hanging: the loader must reject, never wait forever. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);
}

let ds: CelebADataset;
s.before(async () => {
  ds = readCelebA(await syntheticSet());
});

s('eval batches: NCHW f32 in its own buffer, labels [B,40] of 0/1, in split order', async () => {
  const { batches, report } = await collect({ dataset: ds, split: 'train', batchSize: 10, transform: EVAL, workers: 2 });
  assert.equal(batches.map((b) => b.size), [10, 10, 10, 2]);
  assert.equal(batches[0].shape, [10, 3, 24, 24]);
  assert.equal(Array.from(batches.flatMap((b) => Array.from(b.indices))), Array.from(splitIndices(ds, 'train')));
  const b = batches[1];
  assert.instance(b.images.buffer, ArrayBuffer, 'transferable, not shared');
  assert.is(b.images.byteOffset, 0);
  assert.is(b.images.buffer.byteLength, 10 * 3 * 24 * 24 * 4, 'exactly one batch: no copy into a bigger pool');
  assert.is(b.labels.length, 10 * 40);
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 40; j++) assert.is(b.labels[i * 40 + j], ds.labels[b.indices[i] * 40 + j]);
  }
  const img = decodeImage(readFileSync(ds.paths[b.indices[3]]));
  const want = applyEval(img, EVAL).data;
  assert.equal(Array.from(b.images.subarray(3 * want.length, 4 * want.length)), Array.from(want));
  assert.equal(report, { epoch: 0, batches: 4, images: 32, skipped: 0, excluded: 0 });
  const dropped = await collect({ dataset: ds, split: 'val', batchSize: 3, transform: EVAL, workers: 1, dropLast: true });
  assert.equal(dropped.batches.map((x) => x.size), [3]);
});

s('train epochs are reproducible from (seed, epoch), whatever the workers and prefetch', async () => {
  const base = { dataset: ds, batchSize: 8, transform: TRAIN, seed: 42 };
  const a = await collect({ ...base, workers: 1, prefetch: 1 });
  const b = await collect({ ...base, workers: 2, prefetch: 4 });
  assert.is(a.batches.length, 4);
  a.batches.forEach((x, i) => {
    assert.equal(Array.from(x.indices), Array.from(b.batches[i].indices));
    assert.ok(x.images.every((v, k) => v === b.batches[i].images[k]), `batch ${i} pixels`);
  });
  const seen = a.batches.flatMap((x) => Array.from(x.indices)).sort((p, q) => p - q);
  assert.equal(seen, Array.from(splitIndices(ds, 'train')), 'each train image exactly once');
  assert.not.equal(seen, a.batches.flatMap((x) => Array.from(x.indices)), 'shuffled');
  const k = a.batches[2].indices[5];
  const want = transformImage(decodeImage(readFileSync(ds.paths[k])), TRAIN, imageRng(42, 0, k)).data;
  assert.equal(Array.from(a.batches[2].images.subarray(5 * want.length, 6 * want.length)), Array.from(want));
});

s('state() resumes at the same batch with identical data, across epochs', async () => {
  const opts = { dataset: ds, batchSize: 8, transform: TRAIN, seed: 3, workers: 1 };
  const loader = createLoader(opts);
  const seen: Batch[] = [];
  let saved = '';
  for await (const b of loader.epoch()) seen.push(b);
  for await (const b of loader.epoch()) {
    seen.push(b);
    if (b.index === 1) { saved = JSON.stringify(loader.state()); break; }
  }
  await loader.close();
  assert.equal(JSON.parse(saved).epoch, 1);
  assert.not.equal(Array.from(seen[0].indices), Array.from(seen[4].indices), 'new order each epoch');
  const resumed = createLoader({ ...opts, state: JSON.parse(saved) });
  const rest: Batch[] = [];
  for await (const b of resumed.epoch()) rest.push(b);
  await resumed.close();
  const full = await collect({ ...opts, state: { ...JSON.parse(saved), batch: 0 } });
  assert.equal(rest.map((b) => b.index), [2, 3]);
  rest.forEach((b, i) => {
    const ref = full.batches[i + 2];
    assert.equal(Array.from(b.indices), Array.from(ref.indices));
    assert.ok(b.images.every((v, j) => v === ref.images[j]));
  });
  assert.throws(() => createLoader({ ...opts, batchSize: 4, state: JSON.parse(saved) }), /loader state is for/);
});

s('a corrupt, truncated or missing image: the epoch rejects naming it, or skipBadImages counts it', async () => {
  const dir = await copySet('bad-images');
  const img = (n: number) => join(dir, 'img_align_celeba', `${String(n).padStart(6, '0')}.jpg`);
  const garbled = readFileSync(img(3));
  for (let i = 300; i < garbled.length - 2; i += 11) garbled[i] ^= 0x5a;
  writeFileSync(img(3), garbled);
  writeFileSync(img(9), readFileSync(img(9)).subarray(0, 2000));
  rmSync(img(14));
  const bad = readCelebA(dir, { skipBadImages: true });
  await within(collect({ dataset: bad, batchSize: 4, transform: EVAL, workers: 1 }), 20000).then(
    () => assert.unreachable('epoch succeeded'),
    (err: Error) => {
      assert.instance(err, ImageReadError);
      assert.match((err as ImageReadError).path, /000003\.jpg$/);
      assert.match(err.message, /^epoch 1: \S*000003\.jpg: cannot decode image \(corrupt or truncated JPEG/);
    },
  );
  const reports: EpochReport[] = [];
  const skipping = await collect({
    dataset: bad, batchSize: 8, transform: EVAL, workers: 1, skipBadImages: true, onEpochEnd: (r) => reports.push(r),
  });
  assert.equal(skipping.batches.map((b) => b.size), [7, 6, 8, 8]);
  const skipped = skipping.batches.flatMap((b) => b.skipped);
  assert.equal(skipped.map((x) => x.path.slice(-10)), ['000003.jpg', '000009.jpg', '000014.jpg']);
  assert.match(skipped[0].reason, /000003\.jpg: cannot decode image \(corrupt or truncated JPEG/);
  assert.match(skipped[1].reason, /000009\.jpg: cannot decode image \(corrupt or truncated JPEG: marker was not found/);
  assert.match(skipped[2].reason, /000014\.jpg: cannot read image \(missing file\)/);
  assert.equal(reports, [{ epoch: 0, batches: 4, images: 29, skipped: 3, excluded: 0 }]);
  assert.equal(Array.from(skipping.batches[0].indices), [0, 1, 3, 4, 5, 6, 7]);
  assert.is(skipping.batches[0].images.length, 7 * 3 * 24 * 24);
  assert.is(skipping.batches[0].labels.length, 7 * 40);
});

s('a worker that dies rejects with the image it was working on (no hang)', async () => {
  const err = await within(
    collect({ dataset: ds, batchSize: 4, transform: EVAL, workers: 1, crashOnImage: '000007.jpg' }),
    20000,
  ).then(() => null, (e: Error) => e);
  assert.ok(err, 'epoch should fail');
  assert.match(err!.message, /data worker 0 exited with code 70 while processing \S*000007\.jpg/);
});

s('rejects impossible configurations up front', () => {
  assert.throws(() => createLoader({ dataset: ds, split: 'val', batchSize: 8, transform: EVAL, dropLast: true }), /not one batch/);
  assert.throws(() => createLoader({ dataset: ds, batchSize: 0, transform: EVAL }), /batchSize/);
});

s.run();
