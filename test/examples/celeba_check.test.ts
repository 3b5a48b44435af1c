// Bad data as a user meets it (copies of a small synthetic set): `check` lists every problem with
// its split and exits 1; a run stops at an unreadable image naming it and pointing at check and
// --skip-bad-images; --skip-bad-images names every image and label line it leaves out, in the
// log and in report.md; weights from --pretrained, or none on purpose. `check` and the commands
// refused before any work are child processes; runs on the GPU go through main() in this process
// (trainer.ts), which keeps the compiled pipelines from one run to the next.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNTHETIC_MARKER } from '../../examples/celeba-train/celeba/index.ts';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors_fs.ts';
import type { TensorToWrite } from '../../src/io/safetensors.ts';
import { copySet, tempDir } from '../vision/helpers.ts';
import { cacheHome, inProcess, run } from './trainer.ts';

const TINY = ['--arch', 'resnest-tiny', '--image-size', '32', '--batch', '8', '--epochs', '1', '--workers', '1', '--limit-train', '16'];

const here = (args: string[]) => inProcess(args, { cacheHome: cacheHome() });

const image = (dir: string, n: number) => join(dir, 'img_align_celeba', `${String(n).padStart(6, '0')}.jpg`);

/** Every segment up to the start of scan, then end-of-image: a JPEG whose image data is gone. */
function headerOnly(path: string): void {
  const jpg = readFileSync(path);
  const sos = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xda);
  writeFileSync(path, Buffer.concat([jpg.subarray(0, sos), Buffer.from([0xff, 0xd9])]));
}

/** Rows 3 (train), 34 (val) and 39 (test) unreadable in three ways; label line of 000005.jpg cut short. */
async function brokenCopy(tag: string): Promise<string> {
  const dir = await copySet(tag);
  headerOnly(image(dir, 3));
  rmSync(image(dir, 34));
  writeFileSync(image(dir, 39), 'not an image');
  const attr = join(dir, 'list_attr_celeba.txt');
  const lines = readFileSync(attr, 'utf8').split('\n');
  lines[6] = lines[6].replace(/ +-?1$/, '');
  writeFileSync(attr, lines.join('\n'));
  return dir;
}

const s = suite('examples: celeba-train check and bad data');

s('check --data DIR on clean data: counts per split, exit 0; the Kaggle layout and --image-dir too', async () => {
  const dir = await copySet('check-clean');
  const r = await run(['check', '--data', dir]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `${dir}: official layout`);
  assert.match(r.stdout, '| train | 32 | 32 | 0 |\n| val | 4 | 4 | 0 |\n| test | 4 | 4 | 0 |');
  assert.match(r.stdout, /no problems: ready to train/);
  assert.match(r.stdout, /Not the official CelebA \(its split sizes \(train 32, val 4, test 4\)/);
  assert.match(r.stderr, /decoding 40 images 1\/1 \[#+\]/);

  renameSync(join(dir, 'img_align_celeba'), join(dir, 'faces'));
  const moved = await run(['check', '--data', dir, '--image-dir', 'faces']);
  assert.is(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, `images in ${join(dir, 'faces')}`);
  const none = await run(['check', '--data', dir]);
  assert.is(none.code, 1);
  assert.match(none.stderr, /^error: --data .*: label files of the official layout found, but no image folder .*--image-dir DIR\n/);
  const stray = await run(['check', '--data', dir, '--epochs', '3']);
  assert.is(stray.code, 1);
  assert.match(stray.stderr, /check: unknown option --epochs \(check takes --data, --image-dir, --workers, --synthetic-count\)/);
});

s('missing files are named in words, never a bare ENOENT', async () => {
  const dir = tempDir('missing-files');
  const cases: [string[], RegExp][] = [
    [['check', '--data', join(dir, 'absent')], /^error: --data .*absent: no such directory\n/],
    [['eval', '--checkpoint', join(dir, 'absent.safetensors')], /^error: .*absent\.safetensors: no such checkpoint file\n/],
    [['predict', '--checkpoint', join(dir, 'absent.safetensors'), join(dir, 'face.jpg')], /^error: predict: no such file or folder: .*face\.jpg\n/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assert.is(r.code, 1, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.not.match(r.stderr, /ENOENT/);
  }
});

s('check lists every problem (file, reason, split) with counts per split and exits 1; no decoder internals or ENOENT', async () => {
  const dir = await brokenCopy('check-broken');
  const path = join(dir, 'list_attr_celeba.txt');
  writeFileSync(path, readFileSync(path, 'utf8').replace('Eyeglasses', 'EyeGlasses'));
  const r = await run(['check', '--data', dir]);
  assert.is(r.code, 1, r.stderr);
  const listed = r.stdout.split('\n').filter((l) => l.startsWith('  '));
  assert.equal(listed, [
    `  ${path}:7: 000005.jpg: expected 40 values, found 39`,
    `  ${path}:2: column 16 is "EyeGlasses", expected "Eyeglasses" (spelling)`,
    `  ${image(dir, 3)}: cannot decode image (corrupt or truncated JPEG: no image data after the header) [train]`,
    `  ${image(dir, 34)}: cannot read image (missing file) [val]`,
    `  ${image(dir, 39)}: cannot decode image (not a JPEG or PNG (unknown signature)) [test]`,
  ]);
  assert.match(r.stdout, '| train | 31 | 30 | 1 |\n| val | 4 | 3 | 1 |\n| test | 4 | 3 | 1 |');
  assert.match(r.stdout, /label lines left out or in question: 2/);
  assert.match(r.stdout, /5 problems: fix them, or train with --skip-bad-images/);
  assert.not.match(r.stdout + r.stderr, /ENOENT|huffman|Cannot (set|read) properties/);
});

s('an unreadable image stops a run naming it, epoch 1-based, pointing at check; --pretrained none said on purpose', async () => {
  const dir = await copySet('mid-run');
  headerOnly(image(dir, 3));
  const r = await here(['train', '--data', dir, ...TINY, '--pretrained', 'none', '--out', tempDir('mid-run-out')]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /--pretrained none: starting from random weights on purpose/);
  assert.match(r.stderr, `error: epoch 1: ${image(dir, 3)}: cannot decode image (corrupt or truncated JPEG: no image data after the header)\n`);
  assert.match(r.stderr, `'celeba-train check --data ${dir}' lists every problem of the data; --skip-bad-images trains without the bad images and label lines`);
  assert.not.match(r.stderr, /warning: this looks like real CelebA/); // the synthetic set is not
});

s('--skip-bad-images names every image and label line left out, per split, in the log and report.md; then --pretrained FILE', async () => {
  const dir = await brokenCopy('skip');
  rmSync(join(dir, SYNTHETIC_MARKER)); // now it looks like real CelebA
  const out = tempDir('skip-out');
  // the broken images are in the first 16 training rows, in val and in test; --limit-val 8 keeps them all
  const r = await here(['train', '--data', dir, ...TINY, '--skip-bad-images', '--out', out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: this looks like real CelebA, but no --pretrained weights were given/);
  assert.match(r.stderr, '--skip-bad-images: left out list_attr_celeba.txt:7: 000005.jpg: expected 40 values, found 39\n');
  assert.match(r.stderr, `--skip-bad-images: skipped (train) ${image(dir, 3)}: cannot decode image (corrupt or truncated JPEG: no image data after the header)\n`);
  assert.match(r.stderr, `--skip-bad-images: skipped (val) ${image(dir, 34)}: cannot read image (missing file)\n`);
  assert.match(r.stderr, `--skip-bad-images: skipped (test) ${image(dir, 39)}: cannot decode image (not a JPEG or PNG (unknown signature))\n`);
  assert.match(r.stderr, /epoch 1: .* \| 2 unreadable images skipped \(train and val\)/);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, '## Left out (--skip-bad-images)\n\n1 label line; unreadable images: train 1, val 1, test 1.\n\n' +
    '- list_attr_celeba.txt:7: 000005.jpg: expected 40 values, found 39\n' +
    `- [train] ${image(dir, 3)}: cannot decode image (corrupt or truncated JPEG: no image data after the header)\n` +
    `- [val] ${image(dir, 34)}: cannot read image (missing file)\n` +
    `- [test] ${image(dir, 39)}: cannot decode image (not a JPEG or PNG (unknown signature))\n`);
  assert.match(report, '- weights at the start: none given: random initialisation\n');
  assert.match(report, '- split sizes in the files: train 31, val 4, test 4; used: train 16, val 4, test 4\n');
  assert.match(report, /- wall time: [\d.]+ s \(1 epoch of training and validation [\d.]+ s, final evaluation [\d.]+ s\); [\d.]+ training images\/s/);
  assert.match(report, '| --skip-bad-images | true |');
  assert.match(report, /No comparison with the published figures \(val 92\.08%, test 91\.61%\): the data is not the official CelebA: its split sizes/);
  assert.not.match(report, /report % \| difference/);

  // The run's weights under official key names (no `model.` prefix) stand in for a converted backbone.
  const ckpt = await loadSafetensors(join(out, 'selected.safetensors'));
  const weights = join(out, 'backbone.safetensors');
  const backbone = new Map<string, TensorToWrite>();
  for (const [k, t] of ckpt.tensors) if (k.startsWith('model.')) backbone.set(k.slice(6), t as TensorToWrite);
  await saveSafetensors(weights, backbone);
  const clean = await copySet('pretrained');
  const out2 = tempDir('pretrained-out');
  const p = await here(['train', '--data', clean, '--pretrained', weights, '--out', out2, ...TINY]);
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stderr, `loaded backbone weights from ${weights} (fc replaced by a fresh 40-way head)`);
  assert.match(readFileSync(join(out2, 'report.md'), 'utf8'), `- weights at the start: ${weights} (backbone; fresh resnest-tiny fc head)`);
  // the walk-through's eval and predict forms on that run
  const ev = await here(['eval', '--checkpoint', join(out2, 'selected.safetensors'), '--data', clean]);
  assert.is(ev.code, 0, ev.stderr);
  const reported = readFileSync(join(out2, 'report.md'), 'utf8');
  for (const [split, title] of [['val', 'Validation'], ['test', 'Test']]) {
    const pctShown = new RegExp(`## ${title} accuracy \\(epoch 1\\): ([\\d.]+)%`).exec(reported)![1];
    assert.match(ev.stdout, `${split}: mean accuracy ${pctShown}% over 4 images`);
  }
  const pr = await here(['predict', '--checkpoint', join(out2, 'selected.safetensors'), '--celeba-crop', image(clean, 1)]);
  assert.is(pr.code, 0, pr.stderr);
  assert.is(pr.stdout.split('\n').filter((l) => /^  \S+ +(yes|no ) [01]\.\d{3}$/.test(l)).length, 40);
  const missing = await run(['train', '--data', clean, '--pretrained', join(out, 'nope.safetensors'), '--out', out2, ...TINY]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /error: --pretrained .*nope\.safetensors: no such file\n/);
});

s.run();
