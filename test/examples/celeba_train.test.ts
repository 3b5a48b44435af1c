// The trainer as a user runs it (a tiny config): an uninterrupted run, a run killed with SIGKILL
// and resumed, one stopped with SIGINT mid-epoch and resumed (both must reproduce the
// uninterrupted metrics to the last digit), eval and predict on its checkpoint, a sweep, an
// unwritable --out, a NaN loss. The killed and the stopped runs are child processes, as is the
// unwritable --out (its exit status before any work); the runs that only leave files and output
// to look at go through main() in this process. The stopped run (resumed in the README's form)
// and the sweep (stopped in its first cell, resumed) are trainer.ts's, shared with
// celeba_train_cli.test.ts, which looks at them from the command line's side.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheHome, inProcess, metrics, run, sharedRoot, start, stoppedAndResumed, sweepStoppedAndResumed, TINY, waitFor } from './trainer.ts';

const root = join(sharedRoot(), 'train');
mkdirSync(root, { recursive: true });
const env = { XDG_CACHE_HOME: cacheHome() };
const here = (args: string[]) => inProcess(args, { cacheHome: cacheHome() });

const s = suite('examples: celeba-train');
let reference: unknown[] = [];

s('an uninterrupted run writes metrics, checkpoints, report and curves', async () => {
  const out = join(root, 'a');
  const r = await here(['train', ...TINY, '--out', out]);
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
  const p = start(['train', ...TINY, '--out', out], { env });
  await waitFor(() => /epoch 2\/2 train/.test(p.stderr()), 'epoch 2 to start');
  p.child.kill('SIGKILL');
  const killed = await p.done;
  assert.is(killed.signal, 'SIGKILL');
  assert.ok(existsSync(join(out, 'epoch-01.safetensors')) && !existsSync(join(out, 'epoch-02.safetensors')));
  const r = await here(['train', ...TINY, '--out', out, '--resume']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /resumed from .*: 1 epochs done/);
  assert.equal(metrics(out), reference);
});

s('SIGINT mid-epoch saves a checkpoint and exits; --resume continues bit-for-bit', async () => {
  const { stopped, resumed, files } = await stoppedAndResumed(); // SIGINT to a child after its first step; then `train --out DIR --resume`
  assert.is(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /checkpoint saved to .*last\.safetensors \(epoch 1, step [12]\)/);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /steps into the next/);
  assert.equal(files.metrics, reference);
});

s('eval reproduces the report\'s validation accuracy; predict gives 40 probabilities per image', async () => {
  const out = join(root, 'a');
  const { code, stdout } = await here(['eval', '--checkpoint', join(out, 'selected.safetensors'), '--split', 'val']);
  assert.is(code, 0);
  const reported = /## Validation accuracy \(epoch \d+\): ([\d.]+)%/.exec(readFileSync(join(out, 'report.md'), 'utf8'))![1];
  assert.match(stdout, new RegExp(`val: mean accuracy ${reported.replace('.', '\\.')}%`));
  const image = join(cacheHome(), 'resnest-webgpu', 'synthetic-celeba-80-2024', 'img_align_celeba', '000001.jpg');
  const p = await here(['predict', '--checkpoint', join(out, 'selected.safetensors'), '--json', '--celeba-crop', image]);
  assert.is(p.code, 0, p.stderr);
  const [result] = JSON.parse(p.stdout) as { file: string; attributes: Record<string, number> }[];
  const probs = Object.values(result.attributes);
  assert.is(probs.length, 40);
  assert.ok(probs.every((v) => v > 0 && v < 1));
});

s('sweep trains each (alpha, gamma) of the grid and tabulates validation accuracy', async () => {
  const { out, resumed } = await sweepStoppedAndResumed(); // stopped in its first cell (a child), then --resume
  assert.is(resumed.code, 0, resumed.stderr);
  const table = readFileSync(join(out, 'sweep.md'), 'utf8');
  assert.match(table, /\| alpha \\ gamma \| 2 \|/);
  assert.match(table, /\| 0\.25 \| \d+\.\d\d \|/);
  assert.match(table, /\| 1 \| \d+\.\d\d \|/);
  assert.ok(existsSync(join(out, 'alpha1-gamma2', 'metrics.jsonl')));
});

s('an unwritable --out fails before training', async () => {
  const file = join(root, 'not-a-dir');
  writeFileSync(file, 'x');
  const r = await run(['train', ...TINY, '--out', join(file, 'run')], { env });
  assert.is(r.code, 1);
  assert.match(r.stderr, /--out .* is not writable.*nothing was trained/);
  assert.not.match(r.stderr, /epoch 1/);
});

s('a NaN loss stops the run with the step number and keeps the last good checkpoint', async () => {
  const out = join(root, 'a'); // holds the two good epochs of the first run
  const before = readFileSync(join(out, 'last.safetensors'));
  const r = await here(['train', ...TINY, '--out', out, '--resume', '--epochs', '3', '--lr', '1e30']);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /loss is not finite \(.*\) at step \d+/);
  assert.ok(readFileSync(join(out, 'last.safetensors')).equals(before), 'last good checkpoint untouched');
  assert.not.ok(existsSync(join(out, 'epoch-03.safetensors')));
});

s.run();
