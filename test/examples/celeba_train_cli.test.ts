// The trainer's command line as a user types it (tiny config): the README's resume command with
// no other flags, refused conflicting flags on resume, arguments checked before any work,
// checkpoint retention, a sweep stopped with SIGINT and resumed, the terminal path. Signals,
// refusals and the terminal path are child processes; resumed runs, whose files and output are
// what is checked, go through main() in this process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheHome, inProcess, refusal, sharedRoot, start, stoppedAndResumed, sweepArgs, sweepStoppedAndResumed, TINY, waitFor, type Run } from './trainer.ts';

const root = join(sharedRoot(), 'cli');
mkdirSync(root, { recursive: true });
const env = { XDG_CACHE_HOME: cacheHome() };
const here = (args: string[]) => inProcess(args, { cacheHome: cacheHome() });

/** A refused command: status 1, one line naming the fault, nothing started. */
function assertRefused(r: Run, args: string[], reason: RegExp): void {
  assert.is(r.code, 1, `${args.join(' ')}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], reason);
  assert.not.match(r.stderr, /epoch \d|synthetic CelebA/);
}

async function refused(args: string[], reason: RegExp): Promise<void> {
  assertRefused(await refusal(args, { env }), args, reason);
}

/** Runs the jobs two at a time. */
async function inPairs(jobs: (() => Promise<void>)[]): Promise<void> {
  const queue = [...jobs];
  const worker = async () => { for (let job = queue.shift(); job; job = queue.shift()) await job(); };
  await Promise.all([worker(), worker()]);
}

const s = suite('examples: celeba-train command line');
let out = join(root, 'not-made-yet');

s('SIGINT, then the README\'s `train --out DIR --resume` with no other flags finishes the run with its saved settings', async () => {
  const { stopped, resumed, files } = await stoppedAndResumed(); // SIGINT to a child after its first step, then the README's form
  assert.is(stopped.code, 130);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed from .*steps into the next/);
  assert.not.match(resumed.stderr, /synthetic CelebA-format set written/); // the run's own 80-image set, not the default one
  assert.match(files.report, /# CelebA attributes with resnest-tiny/);
  assert.match(files.report, /image size 32, batch 8, 2 epochs/);
  assert.is(files.metricLines, 2);
  out = files.out; // the finished run, continued below
});

s('--resume refuses flags that would change the run, naming each', async () => {
  await refused(['train', '--out', out, '--resume', '--image-size', '64', '--gamma', '1'],
    /--resume: .*last\.safetensors was trained with other settings: --image-size 64 \(the run has 32\), --gamma 1 \(the run has 2\)/);
  await refused(['train', '--out', out, '--resume', '--arch', 'resnest14'], /--arch resnest14 \(the run has resnest-tiny\)/);
});

s('--resume takes more --epochs and a new --lr; --keep-checkpoints 1 keeps one epoch file besides last, selected, best-val', async () => {
  const r = await here(['train', '--out', out, '--resume', '--epochs', '3', '--lr', '0.05', '--workers', '1', '--image-size', '32', '--keep-checkpoints', '1']);
  assert.is(r.code, 0, r.stderr);
  const history = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; lr: number; valAcc: number; trainAcc: number });
  assert.is(history.length, 3);
  assert.is(history[2].lr, 0.05);
  const files = readdirSync(out).filter((f) => f.endsWith('.safetensors')).sort();
  assert.equal(files, ['best-val.safetensors', 'epoch-03.safetensors', 'last.safetensors', 'selected.safetensors']);
  // the selection rule still sees every epoch: the report names the epoch of least gap
  const gap = history.map((h) => Math.abs(h.trainAcc - h.valAcc));
  const selected = gap.indexOf(Math.min(...gap)) + 1;
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), new RegExp(`Epoch \\*\\*${selected}\\*\\*`));
});

s('bad arguments fail at once with one line and status 1', async () => {
  // two at a time: each is a Node start-up on one core
  await inPairs(([
    [['sweep', '--sweep-epochs', 'abc'], /--sweep-epochs: 'abc' is not an integer >= 1/],
    [['sweep', '--sweep-alphas', '0.1,0.25,x,1'], /--sweep-alphas: 'x' is not a number in \(0, 1\], 'report' or 'within'/],
    [['eval', '--checkpoint', join(out, 'selected.safetensors'), '--split', 'vall'], /--split: 'vall' is not one of val, test, both/],
    [['eval', '--checkpoint', join(root, 'nope.safetensors')], /nope\.safetensors: no such checkpoint file/],
    [['train', '--batch', '0', '--out', join(root, 'x')], /--batch: '0' is not an integer >= 1/],
    [['train', '--lr', '-1', '--out', join(root, 'x')], /--lr: '-1' is not a number > 0/],
    [['train', '--image-size', '16', '--out', join(root, 'x')], /--image-size: '16' is not an integer >= 32/],
    [['train', '--alpha-rule', 'often', '--out', join(root, 'x')], /--alpha-rule: 'often' is not 'report', 'within', 'none' or a number in \[0, 1\]/],
    [['train', '--data', join(root, 'missing'), '--out', join(root, 'x')], /--data .*missing: no such directory/],
    [['train', '--pretrained', join(root, 'w.safetensors'), '--out', join(root, 'x')], /--pretrained .*w\.safetensors: no such file/],
    [['train', '--arch', 'resnet50', '--out', join(root, 'x')], /--arch: unknown architecture 'resnet50'/],
    [['train', '--epochs'], /--epochs needs a value/],
    [['sweep', '--out', join(out, 'report.md', 'sweep')], /--out .*report\.md\/sweep is not writable/],
    [['sweep', '--arch', 'resnet50', '--out', join(root, 'x')], /--arch: unknown architecture 'resnet50'/],
    [['predict', '--checkpoint', join(root, 'nope.safetensors'), 'a.jpg'], /no such file/],
  ] as [string[], RegExp][]).map(([args, reason]) => () => refused(args, reason)));
});

s('Ctrl-C stops a sweep (cell saved, status 130); `sweep --resume` continues the grid', async () => {
  const { out: sweepOut, stopped, filesWhenStopped, again, resumed } = await sweepStoppedAndResumed(); // SIGINT to a child in the first cell
  assert.is(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /sweep interrupted at alpha 0\.25, gamma 2/);
  assert.ok(filesWhenStopped.includes(join('alpha0.25-gamma2', 'last.safetensors')), filesWhenStopped.join(', '));
  assert.not.ok(filesWhenStopped.some((f) => f.startsWith('alpha1-gamma2')), 'the next cell never started');
  assertRefused(again, sweepArgs(sweepOut), /already holds a sweep .*add --resume/); // the same command again, without --resume
  assert.is(resumed.code, 0, resumed.stderr);
  const table = readFileSync(join(sweepOut, 'sweep.md'), 'utf8');
  assert.match(table, /\| 0\.25 \| \d+\.\d\d \|/);
  assert.match(table, /\| 1 \| \d+\.\d\d \|/);
});

s('on a terminal the driver\'s notices are filtered out, and Ctrl-C to the process group still saves and exits 130', async () => {
  const runOut = join(root, 'tty');
  // CELEBA_TRAIN_FILTER=1 takes the terminal path with pipes; its own process group, as a shell gives it
  const p = start(['train', ...TINY, '--out', runOut], { env: { ...env, CELEBA_TRAIN_FILTER: '1' }, detached: true });
  await waitFor(() => /epoch 1\/2 train 1\/3/.test(p.stderr()), 'the first step');
  process.kill(-p.child.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground group
  const { code, stderr } = await p.done;
  assert.is(code, 130, stderr);
  assert.match(stderr, /checkpoint saved to .*last\.safetensors \(epoch 1, step [12]\)/);
  assert.match(stderr, /resnest-tiny: 570,040 parameters/);
  assert.not.match(stderr, /artificially reduced/);
  assert.match(stderr, /ETA \d+:\d\d, run \d+:\d\d/);
});

s.run();
