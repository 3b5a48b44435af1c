// The trainer as a user runs it (child processes on a tiny config): an uninterrupted run, a
// run killed with SIGKILL and resumed, one stopped with SIGINT mid-epoch and resumed (both
// must reproduce the uninterrupted metrics to the last digit), an unwritable --out, a NaN loss.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../examples/celeba-train/main.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'celeba-train-test-'));
const TINY = ['--arch', 'resnest-tiny', '--image-size', '32', '--batch', '8', '--synthetic-count', '80', '--limit-train', '24',
  '--limit-val', '8', '--epochs', '2', '--workers', '1', '--momentum', '0.9', '--seed', '3'];
const env = { ...process.env, XDG_CACHE_HOME: join(root, 'cache') };

interface Run { code: number | null; signal: NodeJS.Signals | null; stderr: string }

function start(args: string[]): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  child.stdout!.resume();
  const done = new Promise<Run>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done, stderr: () => stderr };
}

const run = (args: string[]) => start(args).done;

async function waitFor(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** metrics.jsonl without the wall-clock fields. */
function metrics(out: string): unknown[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, imagesPerSec: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}

const s = suite('examples: celeba-train');
let reference: unknown[] = [];

s('an uninterrupted run writes metrics, checkpoints, report and curves', async () => {
  const out = join(root, 'a');
  const r = await run(['train', ...TINY, '--out', out]);
  assert.is(r.code, 0, r.stderr);
  reference = metrics(out);
  assert.is(reference.length, 2);
  for (const f of ['epoch-01.safetensors', 'epoch-02.safetensors', 'last.safetensors', 'selected.safetensors', 'best-val.safetensors', 'report.md', 'curves.png']) {
    assert.ok(existsSync(join(out, f)), `${f} written`);
  }
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /least difference between train and validation accuracy/);
  assert.match(report, /\| 40 \| Young \|/);
  assert.ok(readFileSync(join(out, 'curves.png')).subarray(1, 4).toString() === 'PNG');
});

s('SIGKILL after the first epoch, then --resume: the same metrics to the last digit', async () => {
  const out = join(root, 'b');
  const p = start(['train', ...TINY, '--out', out]);
  await waitFor(() => /epoch 2\/2 train/.test(p.stderr()), 'epoch 2 to start');
  p.child.kill('SIGKILL');
  const killed = await p.done;
  assert.is(killed.signal, 'SIGKILL');
  assert.ok(existsSync(join(out, 'epoch-01.safetensors')) && !existsSync(join(out, 'epoch-02.safetensors')));
  const r = await run(['train', ...TINY, '--out', out, '--resume']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /resumed from .*: 1 epochs done/);
  assert.equal(metrics(out), reference);
});

s('SIGINT mid-epoch saves a checkpoint and exits; --resume continues bit-for-bit', async () => {
  const out = join(root, 'c');
  const p = start(['train', ...TINY, '--out', out]);
  await waitFor(() => /epoch 1\/2 train 1\/3/.test(p.stderr()), 'the first step');
  p.child.kill('SIGINT');
  const stopped = await p.done;
  assert.is(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /checkpoint saved to .*last\.safetensors \(epoch 1, step [12]\)/);
  const r = await run(['train', ...TINY, '--out', out, '--resume']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /steps into the next/);
  assert.equal(metrics(out), reference);
});

s('eval reproduces the report\'s validation accuracy; predict gives 40 probabilities per image', async () => {
  const out = join(root, 'a');
  const evalRun = start(['eval', '--checkpoint', join(out, 'selected.safetensors'), '--split', 'val']);
  let stdout = '';
  evalRun.child.stdout!.on('data', (d) => { stdout += d; });
  assert.is((await evalRun.done).code, 0);
  const reported = /## Validation accuracy \(epoch \d+\): ([\d.]+)%/.exec(readFileSync(join(out, 'report.md'), 'utf8'))![1];
  assert.match(stdout, new RegExp(`val: mean accuracy ${reported.replace('.', '\\.')}%`));
  const image = join(root, 'cache', 'resnest-webgpu', 'synthetic-celeba-80-2024', 'img_align_celeba', '000001.jpg');
  const p = start(['predict', '--checkpoint', join(out, 'selected.safetensors'), '--json', '--celeba-crop', image]);
  let json = '';
  p.child.stdout!.on('data', (d) => { json += d; });
  assert.is((await p.done).code, 0);
  const [result] = JSON.parse(json) as { file: string; attributes: Record<string, number> }[];
  const probs = Object.values(result.attributes);
  assert.is(probs.length, 40);
  assert.ok(probs.every((v) => v > 0 && v < 1));
});

s('sweep trains each (alpha, gamma) of the grid and tabulates validation accuracy', async () => {
  const out = join(root, 'sweep');
  const p = start(['sweep', ...TINY, '--out', out, '--sweep-epochs', '1', '--sweep-alphas', '0.25,1', '--sweep-gammas', '2']);
  assert.is((await p.done).code, 0, p.stderr());
  const table = readFileSync(join(out, 'sweep.md'), 'utf8');
  assert.match(table, /\| alpha \\ gamma \| 2 \|/);
  assert.match(table, /\| 0\.25 \| \d+\.\d\d \|/);
  assert.match(table, /\| 1 \| \d+\.\d\d \|/);
  assert.ok(existsSync(join(out, 'alpha1-gamma2', 'metrics.jsonl')));
});

s('an unwritable --out fails before training', async () => {
  const file = join(root, 'not-a-dir');
  writeFileSync(file, 'x');
  const r = await run(['train', ...TINY, '--out', join(file, 'run')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /--out .* is not writable.*nothing was trained/);
  assert.not.match(r.stderr, /epoch 1/);
});

s('a NaN loss stops the run with the step number and keeps the last good checkpoint', async () => {
  const out = join(root, 'a'); // holds the two good epochs of the first run
  const before = readFileSync(join(out, 'last.safetensors'));
  const r = await run(['train', ...TINY, '--out', out, '--resume', '--epochs', '3', '--lr', '1e30']);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /loss is not finite \(.*\) at step \d+/);
  assert.ok(readFileSync(join(out, 'last.safetensors')).equals(before), 'last good checkpoint untouched');
  assert.not.ok(existsSync(join(out, 'epoch-03.safetensors')));
});

s.run();
