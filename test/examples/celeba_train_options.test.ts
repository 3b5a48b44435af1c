// The trainer's option handling in-process (no GPU, no child processes): flag parsing and its
// errors, what --resume keeps and refuses, list arguments, the help text, checkpoint pruning,
// the run ETA and the terminal's stderr filter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, flagHelp, parseTrainFlags } from '../../examples/celeba-train/options.ts';
import { resumeOptions } from '../../examples/celeba-train/resume.ts';
import { readList } from '../../examples/celeba-train/main.ts';
import { pruneEpochFiles, runEta } from '../../examples/celeba-train/train.ts';
import { filterDriverNotices } from '../../examples/celeba-train/launch.ts';
import { COMMAND_HELP } from '../../examples/celeba-train/help.ts';
import { expand } from '../../examples/celeba-train/predict.ts';
import type { EpochMetrics } from '../../examples/celeba-train/checkpoint.ts';
import { tempDir } from '../vision/helpers.ts';

const s = suite('examples: celeba-train options');

s('flags are read with their ranges, and the given ones are recorded', () => {
  const { opts, given } = parseTrainFlags(['--batch', '8', '--lr=0.05', '--resume', '--workers', '2', '--data', 'rel/dir']);
  assert.is(opts.batch, 8);
  assert.is(opts.lr, 0.05);
  assert.ok(opts.lrGiven && opts.resume);
  assert.is(opts.data, join(process.cwd(), 'rel/dir'), '--data is stored absolute, so a resume from elsewhere finds it');
  assert.equal([...given].sort(), ['batch', 'data', 'lr', 'resume', 'workers']);
  const bad: [string[], RegExp][] = [
    [['--batch', '2.5'], /--batch: '2.5' is not an integer >= 1/],
    [['--momentum', '1'], /--momentum: '1' is not a number >= 0 and < 1/],
    [['--factor', '0'], /--factor: '0' is not a number > 0 and < 1/],
    [['--loss', 'mse'], /--loss: 'mse' is not one of focal, bce/],
    [['--resume=yes'], /--resume: 'yes' is not true or false/],
    [['--gamma', '--batch', '8'], /--gamma needs a value/],
    [['--limit-train', ''], /--limit-train: '' is not an integer >= 1/],
    [['--alpha-rule', '1.5'], /--alpha-rule: '1.5' is not 'report', 'within', 'none' or a number in \[0, 1\]/],
    [['--bogus'], /unknown option --bogus/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parseTrainFlags(argv), message, argv.join(' '));
});

s('--resume keeps the saved settings, takes the changeable flags, refuses the others by name', () => {
  const saved = { ...DEFAULTS, arch: 'resnest-tiny', imageSize: 32, gamma: 2, epochs: 2, lr: 0.2, workers: 1 };
  const now = parseTrainFlags(['--out', 'o', '--resume', '--epochs', '5', '--lr', '0.01', '--image-size', '32']);
  const opts = resumeOptions(saved, now.given, now.opts, 'o/last.safetensors');
  assert.equal([opts.arch, opts.imageSize, opts.epochs, opts.lr, opts.lrGiven, opts.workers, opts.out], ['resnest-tiny', 32, 5, 0.01, true, 1, 'o']);
  const plain = parseTrainFlags(['--out', 'o', '--resume']);
  const kept = resumeOptions(saved, plain.given, plain.opts, 'o/last.safetensors');
  assert.equal([kept.epochs, kept.lr, kept.lrGiven, kept.imageSize], [2, 0.2, false, 32]);
  const clash = parseTrainFlags(['--out', 'o', '--resume', '--image-size', '64', '--gamma', '1', '--limit-train', '5']);
  assert.throws(() => resumeOptions(saved, clash.given, clash.opts, 'o/last.safetensors'),
    /o\/last\.safetensors was trained with other settings: --image-size 64 \(the run has 32\), --gamma 1 \(the run has 2\), --limit-train 5 \(the run has none\)/);
  // a checkpoint from before --keep-checkpoints existed takes the default
  const { keepCheckpoints: _k, ...old } = saved;
  assert.is(resumeOptions(old as typeof saved, plain.given, plain.opts, 'x').keepCheckpoints, DEFAULTS.keepCheckpoints);
});

s('list arguments name the entry at fault', () => {
  assert.equal(readList('--sweep-alphas', '0.1,0.25,1', 0, 1), [0.1, 0.25, 1]);
  assert.throws(() => readList('--sweep-alphas', '0.1,,1', 0, 1), /--sweep-alphas: entry 2 '' is not a number in \[0, 1\]/);
  assert.throws(() => readList('--sweep-gammas', '2,-1', 0, Infinity), /entry 2 '-1'/);
});

s('every flag in --help has its placeholder and default; every command has help with the exit statuses', () => {
  for (const line of flagHelp().split('\n')) {
    assert.match(line, /^  --[a-z-]+( (N|DIR|FILE|NAME|RULE))? +\S/, line);
    assert.match(line, /default/, line);
  }
  for (const command of ['overview', 'train', 'eval', 'predict', 'sweep', 'demo']) {
    assert.match(COMMAND_HELP[command], /exit status:[\s\S]*130/, command);
  }
  assert.match(COMMAND_HELP.check, /--data DIR[\s\S]*--image-dir DIR[\s\S]*exit status:\n  0 +the data is clean\n  1 /);
  assert.match(COMMAND_HELP.sweep, /--sweep-epochs N[\s\S]*--sweep-alphas LIST[\s\S]*--resume/);
});

s('pruning keeps the N most recent epoch files and nothing else is touched', () => {
  const dir = tempDir('prune');
  for (const f of ['epoch-01.safetensors', 'epoch-02.safetensors', 'epoch-03.safetensors', 'epoch-10.safetensors', 'last.safetensors', 'selected.safetensors']) writeFileSync(join(dir, f), '');
  pruneEpochFiles(dir, 10, 2);
  assert.equal(readdirSync(dir).sort(), ['epoch-10.safetensors', 'last.safetensors', 'selected.safetensors']);
  pruneEpochFiles(dir, 10, 0);
  assert.equal(readdirSync(dir).sort(), ['last.safetensors', 'selected.safetensors']);
});

s('the run ETA: finished epochs set the pace; before any, this epoch plus validation', () => {
  const h = (seconds: number) => ({ seconds } as EpochMetrics);
  assert.is(runEta([h(100), h(120)], 3, 30, 60), 30 + 0.05 * 90 + 3 * 110);
  assert.is(runEta([], 2, 40, 60), 40 + 0.05 * 100 + 2 * 105);
});

s('the terminal filter drops the driver\'s notices, keeps everything else, in any chunking', () => {
  const text = 'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n' +
    'resnest-tiny: 570,040 parameters\n\repoch 1/2 train 1/3 [#...] ETA 0:10\x1b[K\rWarning: real problem here\n';
  const want = 'resnest-tiny: 570,040 parameters\n\repoch 1/2 train 1/3 [#...] ETA 0:10\x1b[K\rWarning: real problem here\n';
  for (const size of [1, 7, 64, text.length]) {
    const state = { pending: '' };
    let out = '';
    for (let i = 0; i < text.length; i += size) out += filterDriverNotices(state, text.slice(i, i + size));
    assert.is(out + state.pending, want, `chunks of ${size}`);
  }
});

s('predict\'s inputs are checked before any work: a missing path or a folder without images is named', () => {
  const dir = tempDir('predict');
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'b.png'), ''); writeFileSync(join(dir, 'a.JPG'), ''); writeFileSync(join(dir, 'notes.txt'), '');
  assert.equal(expand([dir]), [join(dir, 'a.JPG'), join(dir, 'b.png')]);
  assert.throws(() => expand([join(dir, 'b.png'), join(dir, 'missing.jpg')]), /predict: no such file or folder: .*missing\.jpg/);
  assert.throws(() => expand([join(dir, 'empty')]), /predict: no \.jpg or \.png images in .*empty/);
});

s.run();
