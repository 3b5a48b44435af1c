// The trainer's command line as a user types it (child processes, tiny config): the README's
// resume command with no other flags, refused conflicting flags on resume, arguments checked
// before any work, checkpoint retention, and a sweep stopped with SIGINT and resumed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../examples/celeba-train/main.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'celeba-train-cli-'));
const TINY = ['--arch', 'resnest-tiny', '--image-size', '32', '--batch', '8', '--synthetic-count', '80', '--limit-train', '24',
  '--limit-val', '8', '--epochs', '2', '--workers', '1', '--momentum', '0.9', '--seed', '3'];
const env = { ...process.env, XDG_CACHE_HOME: join(root, 'cache') };

interface Run { code: number | null; stdout: string; stderr: string }

function start(args: string[]): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}
const run = (args: string[]) => start(args).done;

// generous: on 2 loaded cores a tiny model's first step (pipeline compilation) has taken minutes
async function waitFor(cond: () => boolean, what: string, ms = 900_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A refused command: status 1, one line naming the fault, nothing started. */
async function refused(args: string[], reason: RegExp): Promise<void> {
  const p = start(args);
  const watchdog = setTimeout(() => p.child.kill('SIGKILL'), 120_000); // a refusal takes seconds; never let a run start
  const r = await p.done;
  clearTimeout(watchdog);
  assert.is(r.code, 1, `${args.join(' ')}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0], reason);
  assert.not.match(r.stderr, /epoch \d|synthetic CelebA/);
}

/** Runs the jobs two at a time. */
async function inPairs(jobs: (() => Promise<void>)[]): Promise<void> {
  const queue = [...jobs];
  const worker = async () => { for (let job = queue.shift(); job; job = queue.shift()) await job(); };
  await Promise.all([worker(), worker()]);
}

const s = suite('examples: celeba-train command line');
const out = join(root, 'run');

s('SIGINT, then the README\'s `train --out DIR --resume` with no other flags finishes the run with its saved settings', async () => {
  const p = start(['train', ...TINY, '--out', out]);
  await waitFor(() => /epoch 1\/2 train 1\/3/.test(p.stderr()), 'the first step');
  p.child.kill('SIGINT');
  assert.is((await p.done).code, 130);
  const r = await run(['train', '--out', out, '--resume']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /resumed from .*steps into the next/);
  assert.not.match(r.stderr, /synthetic CelebA-format set written/); // the run's own 80-image set, not the default one
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /# CelebA attributes with resnest-tiny/);
  assert.match(report, /image size 32, batch 8, 2 epochs/);
  assert.is(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
});

s('--resume refuses flags that would change the run, naming each', async () => {
  await refused(['train', '--out', out, '--resume', '--image-size', '64', '--gamma', '1'],
    /--resume: .*last\.safetensors was trained with other settings: --image-size 64 \(the run has 32\), --gamma 1 \(the run has 2\)/);
  await refused(['train', '--out', out, '--resume', '--arch', 'resnest14'], /--arch resnest14 \(the run has resnest-tiny\)/);
});

s('--resume takes more --epochs and a new --lr; --keep-checkpoints 1 keeps one epoch file besides last, selected, best-val', async () => {
  const r = await run(['train', '--out', out, '--resume', '--epochs', '3', '--lr', '0.05', '--workers', '1', '--image-size', '32', '--keep-checkpoints', '1']);
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
  const sweepOut = join(root, 'sweep');
  const args = ['sweep', ...TINY, '--out', sweepOut, '--sweep-epochs', '1', '--sweep-alphas', '0.25,1', '--sweep-gammas', '2'];
  const p = start(args);
  await waitFor(() => /epoch 1\/1 train 1\/3/.test(p.stderr()), 'the first cell\'s first step');
  p.child.kill('SIGINT');
  const stopped = await p.done;
  assert.is(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /sweep interrupted at alpha 0\.25, gamma 2/);
  assert.ok(existsSync(join(sweepOut, 'alpha0.25-gamma2', 'last.safetensors')));
  assert.not.ok(existsSync(join(sweepOut, 'alpha1-gamma2')), 'the next cell never started');
  await refused(args, /already holds a sweep .*add --resume/);
  const r = await run([...args, '--resume']);
  assert.is(r.code, 0, r.stderr);
  const table = readFileSync(join(sweepOut, 'sweep.md'), 'utf8');
  assert.match(table, /\| 0\.25 \| \d+\.\d\d \|/);
  assert.match(table, /\| 1 \| \d+\.\d\d \|/);
});

s('on a terminal the driver\'s notices are filtered out, and Ctrl-C to the process group still saves and exits 130', async () => {
  const runOut = join(root, 'tty');
  // CELEBA_TRAIN_FILTER=1 takes the terminal path with pipes; its own process group, as a shell gives it
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'train', ...TINY, '--out', runOut],
    { env: { ...env, CELEBA_TRAIN_FILTER: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  child.stdout!.resume();
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => /epoch 1\/2 train 1\/3/.test(stderr), 'the first step');
  process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground group
  assert.is(await done, 130, stderr);
  assert.match(stderr, /checkpoint saved to .*last\.safetensors \(epoch 1, step [12]\)/);
  assert.match(stderr, /resnest-tiny: 570,040 parameters/);
  assert.not.match(stderr, /artificially reduced/);
  assert.match(stderr, /ETA \d+:\d\d, run \d+:\d\d/);
});

s.run();
