// The trainer's data side without a GPU: the three CelebA layouts, --image-dir, attribute names,
// Kaggle's CSV files, missing images listed up front, the alpha rules, and when report.md may set
// the published figures beside a run's.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CELEBA_ATTRIBUTES, CelebAFormatError, SYNTHETIC_MARKER } from '../../examples/celeba-train/celeba/index.ts';
import { readDataset, type TrainingData } from '../../examples/celeba-train/dataset.ts';
import { attributeNameProblems, notOfficialReason } from '../../examples/celeba-train/attributes.ts';
import { alphaVector } from '../../examples/celeba-train/setup.ts';
import { comparisonAbsentReason } from '../../examples/celeba-train/report_facts.ts';
import { DEFAULTS } from '../../examples/celeba-train/options.ts';
import { writeReport } from '../../examples/celeba-train/report.ts';
import type { EpochMetrics } from '../../examples/celeba-train/checkpoint.ts';
import { copySet, syntheticSet, tempDir } from '../vision/helpers.ts';

const s = suite('examples: celeba-train data');

function throwsMatching(fn: () => unknown, ...patterns: RegExp[]): void {
  try {
    fn();
  } catch (err) {
    for (const p of patterns) assert.match((err as Error).message, p);
    return;
  }
  assert.unreachable(`expected an error matching ${patterns.join(', ')}`);
}

/** The synthetic set rewritten as Kaggle's copy: CSV label files, images one folder deeper. */
function toKaggle(dir: string): void {
  const [, names, ...rows] = readFileSync(join(dir, 'list_attr_celeba.txt'), 'utf8').trim().split('\n');
  const csv = [`image_id,${names.trim().split(/\s+/).join(',')}`, ...rows.map((r) => r.trim().split(/\s+/).join(','))];
  writeFileSync(join(dir, 'list_attr_celeba.csv'), csv.join('\r\n') + '\r\n');
  const part = readFileSync(join(dir, 'list_eval_partition.txt'), 'utf8').trim().split('\n').map((l) => l.replace(' ', ','));
  writeFileSync(join(dir, 'list_eval_partition.csv'), ['image_id,partition', ...part].join('\n') + '\n');
  rmSync(join(dir, 'list_attr_celeba.txt'));
  rmSync(join(dir, 'list_eval_partition.txt'));
  renameSync(join(dir, 'img_align_celeba'), join(dir, 'inner'));
  mkdirSync(join(dir, 'img_align_celeba'));
  renameSync(join(dir, 'inner'), join(dir, 'img_align_celeba', 'img_align_celeba'));
}

s('official, torchvision (DIR/celeba/) and Kaggle layouts read to the same table', async () => {
  const official = readDataset(await syntheticSet());
  assert.is(official.layout.kind, 'official');
  assert.equal(official.fullSizes, { train: 32, val: 4, test: 4 });

  const tv = await copySet('torchvision');
  mkdirSync(join(tv, 'celeba'));
  for (const f of ['list_attr_celeba.txt', 'list_eval_partition.txt', 'img_align_celeba', SYNTHETIC_MARKER]) renameSync(join(tv, f), join(tv, 'celeba', f));
  const kg = await copySet('kaggle');
  toKaggle(kg);
  for (const [dir, kind, imageDir] of [[tv, 'torchvision', 'celeba/img_align_celeba'], [kg, 'kaggle', 'img_align_celeba/img_align_celeba']]) {
    const ds = readDataset(dir);
    assert.is(ds.layout.kind, kind);
    assert.is(ds.imageDir, join(dir, imageDir));
    assert.equal(ds.files, official.files);
    assert.equal(Array.from(ds.splits), Array.from(official.splits));
    assert.ok(ds.labels.every((v, i) => v === official.labels[i]), `${kind}: labels`);
    assert.is(ds.paths[3], join(dir, imageDir, '000004.jpg'));
  }
});

s('--image-dir names the folder (relative to --data or absolute); a wrong one is a clear error', async () => {
  const dir = await copySet('image-dir');
  renameSync(join(dir, 'img_align_celeba'), join(dir, 'faces'));
  throwsMatching(() => readDataset(dir), /label files of the official layout found, but no image folder/, /--image-dir DIR/);
  assert.is(readDataset(dir, { imageDir: 'faces' }).paths[0], join(dir, 'faces', '000001.jpg'));
  assert.is(readDataset(dir, { imageDir: join(dir, 'faces') }).paths[0], join(dir, 'faces', '000001.jpg'));
  throwsMatching(() => readDataset(dir, { imageDir: 'nope' }), /--image-dir nope: no such directory/);
  throwsMatching(() => readDataset(join(dir, 'absent')), /--data .*absent: no such directory/);
  throwsMatching(() => readDataset(join(dir, 'faces')), /not a CelebA folder; looked for official .*torchvision .*celeba\/list_attr_celeba\.txt.*kaggle .*list_attr_celeba\.csv/);
  rmSync(join(dir, 'list_eval_partition.txt'));
  throwsMatching(() => readDataset(dir, { imageDir: 'faces' }), /found the official layout's .*list_attr_celeba\.txt but not .*list_eval_partition\.txt/);
});

s('every missing image is counted up front, the first named with its label line; no raw ENOENT', async () => {
  const dir = await copySet('missing');
  for (const n of ['000002', '000007', '000040']) rmSync(join(dir, 'img_align_celeba', `${n}.jpg`));
  throwsMatching(() => readDataset(dir), /^3 listed images are missing from .*img_align_celeba: 000002\.jpg \(list_attr_celeba\.txt:4\), 000007\.jpg \(list_attr_celeba\.txt:9\), 000040\.jpg/,
    /celeba-train check --data /, /--skip-bad-images/);
  assert.is(readDataset(dir, { lenient: true }).files.length, 40);
  rmSync(join(dir, 'list_attr_celeba.txt'));
  mkdirSync(join(dir, 'list_attr_celeba.txt'));
  try { readDataset(dir); assert.unreachable('read a directory as a label file'); } catch (err) {
    assert.match((err as Error).message, /list_attr_celeba\.txt: cannot read \(is a directory\)/);
    assert.not.match((err as Error).message, /E[A-Z]{3,}/);
  }
});

s('attribute names: spelling, order and count are refused naming the column; check gets each as a sentence', async () => {
  const names = [...CELEBA_ATTRIBUTES] as string[];
  assert.equal(attributeNameProblems(names), []);
  const misspelt = names.map((n) => (n === 'Eyeglasses' ? 'EyeGlasses' : n));
  assert.equal(attributeNameProblems(misspelt), ['column 16 is "EyeGlasses", expected "Eyeglasses" (spelling)']);
  const swapped = [...names];
  [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
  assert.equal(attributeNameProblems(swapped), [
    'column 1 is Arched_Eyebrows, which CelebA has in column 2 (order)', 'column 2 is 5_o_Clock_Shadow, which CelebA has in column 1 (order)']);
  assert.equal(attributeNameProblems(names.slice(0, 39)), ['39 attribute names, CelebA has 40', 'Young is missing']);
  assert.equal(attributeNameProblems([...names.slice(0, 39), 'Old']), ['column 40 is "Old", expected "Young" (spelling)']);

  const dir = await copySet('names');
  const path = join(dir, 'list_attr_celeba.txt');
  writeFileSync(path, readFileSync(path, 'utf8').replace('Eyeglasses', 'EyeGlasses'));
  throwsMatching(() => readDataset(dir), /list_attr_celeba\.txt:2: the attribute names are not CelebA's 40 in file order: column 16 is "EyeGlasses", expected "Eyeglasses"/);
});

s("Kaggle CSV: a bad row or header is an error naming the .csv file and line, or left out and recorded", async () => {
  const dir = await copySet('kaggle-bad');
  toKaggle(dir);
  const attr = join(dir, 'list_attr_celeba.csv');
  const lines = readFileSync(attr, 'utf8').split('\r\n');
  lines[5] = lines[5].replace(/,-?1$/, ',0'); // line 6: 000005.jpg, Young = 0
  writeFileSync(attr, lines.join('\r\n'));
  throwsMatching(() => readDataset(dir), /^list_attr_celeba\.csv:6: 000005\.jpg: value "0" for Young is not 1 or -1/);
  const lenient = readDataset(dir, { lenient: true });
  assert.is(lenient.files.length, 39);
  assert.equal(lenient.problems, [{ file: 'list_attr_celeba.csv', line: 6, message: '000005.jpg: value "0" for Young is not 1 or -1' }]);
  writeFileSync(join(dir, 'list_eval_partition.csv'), 'image,split\n000001.jpg,0\n');
  try { readDataset(dir, { lenient: true }); assert.unreachable('bad header accepted'); } catch (err) {
    assert.instance(err, CelebAFormatError);
    assert.match((err as Error).message, /^list_eval_partition\.csv:1: expected the header "image_id,partition"/);
  }
});

/** A label table with the given train positives per attribute out of `n` (val and test rows follow). */
function labelTable(positives: number[], n: number): Pick<TrainingData, 'attributes' | 'labels' | 'splits'> {
  const k = positives.length;
  const labels = new Uint8Array((n + 2) * k);
  positives.forEach((p, j) => { for (let i = 0; i < p; i++) labels[i * k + j] = 1; });
  for (let j = 0; j < k; j++) labels[n * k + j] = labels[(n + 1) * k + j] = 1; // val/test rows must not count
  return { attributes: positives.map((_, j) => `a${j}`), labels, splits: Uint8Array.from({ length: n + 2 }, (_, i) => (i < n ? 0 : i - n + 1)) };
}

s("alpha rules: 'within' gives 0.25 when one class has strictly more than twice the other's samples, else 0.5", () => {
  // 9 train rows: positives 0, 2, 3 (6 = 2 x 3: not more), 4, 5, 6 (boundary again), 7, 9
  const ds = labelTable([0, 2, 3, 4, 5, 6, 7, 9], 9) as TrainingData;
  assert.equal(alphaVector(ds, 'within'), [0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]);
  // the report's rule across attributes: 0.25 above a 25% positive rate (2/9 = 22% is below)
  assert.equal(alphaVector(ds, 'report'), [0.75, 0.75, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
  assert.equal(alphaVector(ds, 'none'), new Array(8).fill(-1));
  assert.equal(alphaVector(ds, '0.4'), new Array(8).fill(0.4));
  throwsMatching(() => alphaVector(ds, 'inside'), /--alpha-rule must be 'report', 'within', 'none' or a number, got 'inside'/);
});

s('the published figures belong only beside a run on the official CelebA, in full', async () => {
  const official = { train: 162770, val: 19867, test: 19962 };
  assert.is(notOfficialReason(CELEBA_ATTRIBUTES, official), null);
  assert.match(notOfficialReason(CELEBA_ATTRIBUTES, { ...official, val: 19866 })!, /split sizes \(train 162,770, val 19,866, test 19,962\) are not CelebA's \(train 162,770, val 19,867, test 19,962\)/);
  assert.match(notOfficialReason(CELEBA_ATTRIBUTES.slice(1), official)!, /attribute names are not CelebA's 40/);

  const dir = await copySet('not-official');
  const synthetic = readDataset(dir);
  assert.is(comparisonAbsentReason(DEFAULTS, synthetic), 'the data is the synthetic CelebA-format set');
  rmSync(join(dir, SYNTHETIC_MARKER));
  const copy = readDataset(dir);
  assert.match(comparisonAbsentReason(DEFAULTS, copy)!, /^the data is not the official CelebA: its split sizes \(train 32, val 4, test 4\)/);
  const asOfficial = { ...copy, fullSizes: official };
  assert.is(comparisonAbsentReason(DEFAULTS, asOfficial), null);
  assert.is(comparisonAbsentReason({ ...DEFAULTS, limitVal: 100 }, asOfficial), 'the run used only part of the splits (--limit-val)');
});

s('report.md: the published figures beside each attribute on the official CelebA only, the run\'s facts always', async () => {
  const dir = await copySet('report');
  rmSync(join(dir, SYNTHETIC_MARKER));
  const copy = readDataset(dir);
  // the official sizes stand in for a full copy: the report reads them, not the images
  const official: TrainingData = { ...copy, fullSizes: { train: 162770, val: 19867, test: 19962 } };
  const acc = CELEBA_ATTRIBUTES.map((_, j) => 0.8 + j / 1000);
  const history: EpochMetrics[] = [1, 2].map((epoch) => ({
    epoch, lr: 0.1, trainLoss: 0.1 / epoch, trainAcc: 0.85 + epoch / 100, valLoss: 0.12, valAcc: 0.86, trainAttrAcc: acc, valAttrAcc: acc,
    seconds: 100, imagesPerSec: 5, skipped: 0,
  }));
  const result = { loss: 0.1, accuracy: acc, meanAccuracy: 0.8195, images: 4, skipped: [] };
  const out = tempDir('report-out');
  const opts = { ...DEFAULTS, data: dir, out, pretrained: 'resnest50.safetensors' };
  await writeReport(opts, official, history, 2, 2, result, result, null, 30);
  let report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, '| # | attribute | accuracy % | report % | difference |');
  // 5_o_Clock_Shadow: 80.00% here, 94.48% (val) and 94.79% (test) published
  assert.match(report, '| 1 | 5_o_Clock_Shadow | 80.00 | 94.48 | -14.48 |');
  assert.match(report, '| 1 | 5_o_Clock_Shadow | 80.00 | 94.79 | -14.79 |');
  assert.match(report, 'Published: val 92.08%, test 91.61% (epoch 25 of 30).');
  assert.match(report, '- weights at the start: resnest50.safetensors (backbone; fresh resnest50 fc head)\n');
  assert.match(report, '- split sizes in the files: train 162,770, val 19,867, test 19,962; used: train 32, val 4, test 4\n');
  assert.match(report, '- wall time: 3 min 50 s (2 epochs of training and validation 3 min 20 s, final evaluation 30.0 s); 5.00 training images/s');
  for (const row of ['| --image-size | 320 |', '| --batch | 32 |', '| --alpha-rule | report |', '| --gamma | 2 |', '| --pretrained | resnest50.safetensors |']) assert.match(report, row);
  assert.not.match(report, /Left out/);

  await writeReport(opts, copy, history, 2, 2, result, result, null, 30);
  report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.not.match(report, /report %/);
  assert.not.match(report, /Published:/);
  assert.match(report, 'No comparison with the published figures (val 92.08%, test 91.61%): the data is not the official CelebA: its split sizes (train 32, val 4, test 4)');
});

s.run();
