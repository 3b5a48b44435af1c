import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, positiveRates, splitIndices } from '../../../src/vision/index.ts';
import { CelebAFormatError, loadCelebAImage, readCelebA } from '../../../examples/celeba-train/celeba/index.ts';
import { copySet, syntheticSet } from '../../vision/helpers.ts';

const s = suite('celeba: reading a CelebA directory');

function editLine(dir: string, file: string, line: number, edit: (l: string) => string): void {
  const path = join(dir, file);
  const lines = readFileSync(path, 'utf8').split('\n');
  lines[line - 1] = edit(lines[line - 1]);
  writeFileSync(path, lines.join('\n'));
}

function rejectsAt(fn: () => unknown, file: string, line: number, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, CelebAFormatError);
    assert.match((err as Error).message, `${file}:${line}: `);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error at ${file}:${line}`);
}

s('reads splits, labels and per-split positive rates from the files', async () => {
  const dir = await syntheticSet();
  const ds = readCelebA(dir);
  assert.is(ds.files.length, 40);
  assert.is(ds.attributes.length, 40);
  assert.equal([splitIndices(ds, 'train').length, splitIndices(ds, 'val').length, splitIndices(ds, 'test').length], [32, 4, 4]);
  assert.match(ds.paths[0], /img_align_celeba\/000001\.jpg$/);
  // Rates straight from the text: count "  1" in column j of the train lines.
  const lines = readFileSync(join(dir, 'list_attr_celeba.txt'), 'utf8').split('\n').slice(2, 34);
  const rates = positiveRates(ds, 'train');
  for (const j of [0, 8, 20, 31, 39]) {
    const pos = lines.filter((l) => l.split(/\s+/)[j + 1] === '1').length;
    assert.ok(Math.abs(rates[j] - pos / 32) < 1e-12, `attribute ${j}`);
  }
  const img = loadCelebAImage(ds, 3);
  assert.equal([img.width, img.height], [178, 218]);
});

s('accepts the PNG release (img_align_celeba_png, label files keep .jpg names)', async () => {
  const dir = await copySet('png');
  const ref = readCelebA(dir);
  mkdirSync(join(dir, 'img_align_celeba_png'));
  for (let i = 0; i < ref.files.length; i++) {
    const rgb = decodeImage(readFileSync(ref.paths[i]));
    const png = new PNG({ width: rgb.width, height: rgb.height });
    for (let p = 0; p < rgb.width * rgb.height; p++) {
      png.data.set(rgb.data.subarray(3 * p, 3 * p + 3), 4 * p);
      png.data[4 * p + 3] = 255;
    }
    writeFileSync(join(dir, 'img_align_celeba_png', ref.files[i].replace('.jpg', '.png')), PNG.sync.write(png));
  }
  const want = decodeImage(readFileSync(ref.paths[5])).data;
  rmSync(join(dir, 'img_align_celeba'), { recursive: true });
  const ds = readCelebA(dir);
  assert.match(ds.paths[5], /img_align_celeba_png\/000006\.png$/);
  assert.equal(Array.from(loadCelebAImage(ds, 5).data), Array.from(want));
});

s('missing image: file and line, unless skipBadImages', async () => {
  const dir = await copySet('missing');
  rmSync(join(dir, 'img_align_celeba', '000004.jpg'));
  rejectsAt(() => readCelebA(dir), 'list_attr_celeba.txt', 6, /image 000004\.jpg is missing/);
  assert.is(readCelebA(dir, { skipBadImages: true }).files.length, 40, 'the loader skips and counts it');
});

s('label line with 39 values / a value that is not 1 or -1', async () => {
  const dir = await copySet('values');
  editLine(dir, 'list_attr_celeba.txt', 9, (l) => l.slice(0, -3));
  rejectsAt(() => readCelebA(dir), 'list_attr_celeba.txt', 9, /000007\.jpg: expected 40 values, found 39/);
  editLine(dir, 'list_attr_celeba.txt', 9, (l) => l + ' 01');
  rejectsAt(() => readCelebA(dir), 'list_attr_celeba.txt', 9, /value "01" for Young is not 1 or -1/);
  const lenient = readCelebA(dir, { skipBadImages: true });
  assert.is(lenient.files.length, 39);
  assert.not.ok(lenient.files.includes('000007.jpg'));
  assert.equal(lenient.problems.map((p) => `${p.file}:${p.line}`), ['list_attr_celeba.txt:9']);
});

s('count line that disagrees', async () => {
  const dir = await copySet('count');
  editLine(dir, 'list_attr_celeba.txt', 1, () => '41');
  rejectsAt(() => readCelebA(dir), 'list_attr_celeba.txt', 1, /count line says 41 images but 40/);
  assert.is(readCelebA(dir, { skipBadImages: true }).problems.length, 1);
});

s('partition file naming an unknown image, or with a bad split', async () => {
  const dir = await copySet('partition');
  editLine(dir, 'list_eval_partition.txt', 12, () => '999999.jpg 0');
  rejectsAt(() => readCelebA(dir), 'list_eval_partition.txt', 12, /unknown image 999999\.jpg/);
  editLine(dir, 'list_eval_partition.txt', 12, () => '000012.jpg 7');
  rejectsAt(() => readCelebA(dir), 'list_eval_partition.txt', 12, /split "7" is not 0, 1 or 2/);
});

s('missing label file or image folder is a clear error', async () => {
  const dir = await copySet('nofiles');
  renameSync(join(dir, 'list_eval_partition.txt'), join(dir, 'partition.bak'));
  assert.throws(() => readCelebA(dir), /list_eval_partition\.txt: cannot read .*ENOENT/);
  rmSync(join(dir, 'img_align_celeba'), { recursive: true });
  assert.throws(() => readCelebA(dir), /no image folder/);
});

s.run();
