// Shared by the celeba-train tests: the command run as a child process (where the process itself is
// under test: exit statuses, signals, the terminal path, argument checks before any work) and run
// in this process through the same main() (where only what it writes and returns is looked at).
// In this process the GPU device and its compiled pipelines outlive each command: a tiny one-epoch
// run took 8.7 s of CPU here against 12 s as a child (Node's start under tsx is about 2 s of CPU,
// the pipelines another 2-3 s with Mesa's shader cache warm); most of the rest is lavapipe's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../examples/celeba-train/main.ts';
import { memoryStore, setAutotuneStore } from '../../src/kernels.ts';

export const MAIN = fileURLToPath(new URL('../../examples/celeba-train/main.ts', import.meta.url));

/** The tiny configuration most trainer tests run: 24 training and 8 validation images, 2 epochs. */
export const TINY = ['--arch', 'resnest-tiny', '--image-size', '32', '--batch', '8', '--synthetic-count', '80', '--limit-train', '24',
  '--limit-val', '8', '--epochs', '2', '--workers', '1', '--momentum', '0.9', '--seed', '3'];

export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

const temps: string[] = [];
process.on('exit', () => { for (const t of temps) rmSync(t, { recursive: true, force: true }); });

/** A temporary directory (celeba-train-TAG-*), removed when this process exits. */
export function tempRoot(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `celeba-train-${tag}-`));
  temps.push(dir);
  return dir;
}

/** `celeba-train ARGS` in a child process (main.ts under tsx, or `entry` with plain node); `env` adds variables. */
export function start(args: string[], opts: { env?: NodeJS.ProcessEnv; entry?: string; cwd?: string; detached?: boolean } = {}):
{ child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const argv = opts.entry ? [opts.entry, ...args] : ['--import', 'tsx', MAIN, ...args];
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, detached: opts.detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<Run>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

export const run = (args: string[], opts: Parameters<typeof start>[1] = {}) => start(args, opts).done;

// generous: on 2 loaded cores a tiny model's first step (pipeline compilation) has taken minutes
export async function waitFor(cond: () => boolean, what: string, ms = 900_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `args` in a child and sends SIGINT once its stderr matches `when`; resolves when it has exited. */
export async function interrupted(args: string[], when: RegExp, opts: Parameters<typeof start>[1] = {}): Promise<Run> {
  const p = start(args, opts);
  await waitFor(() => when.test(p.stderr()), `${when} in the output of celeba-train ${args.join(' ')}`);
  p.child.kill('SIGINT');
  return p.done;
}

/** A command expected to be refused at once, in a child: killed after 2 minutes should it start working instead. */
export async function refusal(args: string[], opts: Parameters<typeof start>[1] = {}): Promise<Run> {
  const p = start(args, opts);
  const watchdog = setTimeout(() => p.child.kill('SIGKILL'), 120_000); // a refusal takes seconds; never let a run start
  try { return await p.done; } finally { clearTimeout(watchdog); }
}

let shared: string | null = null;
/** The trainer tests' temporary root in this process; its cache/ is every run's XDG_CACHE_HOME (one synthetic set). */
export const sharedRoot = (): string => (shared ??= tempRoot('shared'));
export const cacheHome = (): string => join(sharedRoot(), 'cache');

/** A finished run's files as they were when a fixture finished it (later tests may continue the run). */
export interface RunFiles { out: string; metrics: unknown[]; metricLines: number; report: string }
const snapshot = (out: string): RunFiles => ({
  out, metrics: metrics(out), metricLines: readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length,
  report: readFileSync(join(out, 'report.md'), 'utf8'),
});

let resumedRun: Promise<{ stopped: Run; resumed: Run; files: RunFiles }> | null = null;
/**
 * Made once, for the tests that look at it: the TINY run in a child, stopped with SIGINT after
 * its first step, then continued with the README's `train --out DIR --resume` (no other flags)
 * in this process. `files.out` holds the finished run.
 */
export function stoppedAndResumed(): Promise<{ stopped: Run; resumed: Run; files: RunFiles }> {
  resumedRun ??= (async () => {
    const out = join(sharedRoot(), 'stopped');
    const stopped = await interrupted(['train', ...TINY, '--out', out], /epoch 1\/2 train 1\/3/, { env: { XDG_CACHE_HOME: cacheHome() } });
    const resumed = await inProcess(['train', '--out', out, '--resume'], { cacheHome: cacheHome() });
    return { stopped, resumed, files: snapshot(out) };
  })();
  return resumedRun;
}

/** The TINY sweep of the grid alpha 0.25, 1 x gamma 2, one epoch per cell. */
export const sweepArgs = (out: string) => ['sweep', ...TINY, '--out', out, '--sweep-epochs', '1', '--sweep-alphas', '0.25,1', '--sweep-gammas', '2'];

/** Every file under `dir`, relative to it. */
export const listFiles = (dir: string): string[] => (readdirSync(dir, { recursive: true }) as string[]).sort();

export interface SweepFixture { out: string; stopped: Run; filesWhenStopped: string[]; again: Run; resumed: Run }
let sweepRun: Promise<SweepFixture> | null = null;
/**
 * Made once, for the tests that look at it: the TINY sweep in a child, stopped with SIGINT at its
 * first cell's first step (`filesWhenStopped`: what it left); the same command again (a child,
 * refused: the folder holds a sweep); then `sweep ... --resume` in this process, which finishes
 * the grid in `out`.
 */
export function sweepStoppedAndResumed(): Promise<SweepFixture> {
  sweepRun ??= (async () => {
    const out = join(sharedRoot(), 'sweep'), env = { XDG_CACHE_HOME: cacheHome() };
    const stopped = await interrupted(sweepArgs(out), /epoch 1\/1 train 1\/3/, { env });
    const filesWhenStopped = listFiles(out);
    const again = await refusal(sweepArgs(out), { env });
    const resumed = await inProcess([...sweepArgs(out), '--resume'], { cacheHome: cacheHome() });
    return { out, stopped, filesWhenStopped, again, resumed };
  })();
  return sweepRun;
}

// Kernel versions here are the fallbacks, as in a child with a fresh cache (the trainer tests'
// XDG_CACHE_HOME), whatever this machine's autotune cache holds: runs here and in children then
// compare bit for bit, and a tuned model's numbers match what predict computes from it.
setAutotuneStore(memoryStore());

let queue: Promise<unknown> = Promise.resolve();

/**
 * `celeba-train ARGS` through main() in this process: its status, and what it wrote to stdout and
 * stderr. `cacheHome` stands for the child's XDG_CACHE_HOME (where the synthetic set is kept);
 * `interruptWhen`: what Ctrl-C does to the command (its SIGINT handler runs) once stderr matches;
 * `cwd`: the folder relative paths start from.
 */
export function inProcess(args: string[], opts: InProcessOptions = {}): Promise<Run> {
  const job = queue.then(() => runHere(args, opts));
  queue = job.catch(() => undefined);
  return job;
}

interface InProcessOptions { cacheHome?: string; interruptWhen?: RegExp; cwd?: string }

async function runHere(args: string[], { cacheHome, interruptWhen, cwd }: InProcessOptions): Promise<Run> {
  let stdout = '', stderr = '', sent = false;
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
  const capture = (into: (s: string) => void) => ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    into(text(chunk));
    const cb = typeof encoding === 'function' ? encoding : callback;
    if (typeof cb === 'function') queueMicrotask(cb as () => void);
    return true;
  }) as typeof process.stdout.write;
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const savedCache = process.env.XDG_CACHE_HOME, savedCwd = process.cwd();
  if (cacheHome) process.env.XDG_CACHE_HOME = cacheHome;
  if (cwd) process.chdir(cwd);
  process.stdout.write = capture((s) => { stdout += s; });
  process.stderr.write = capture((s) => {
    stderr += s;
    if (interruptWhen && !sent && interruptWhen.test(stderr)) { sent = true; process.emit('SIGINT'); }
  });
  try {
    const code = await main([...args], { keepDevice: true });
    return { code, signal: null, stdout, stderr };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    process.chdir(savedCwd);
    if (cacheHome) {
      if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = savedCache;
    }
  }
}

/** metrics.jsonl without the wall-clock fields. */
export function metrics(out: string): unknown[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, imagesPerSec: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}
