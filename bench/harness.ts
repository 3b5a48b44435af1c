// Benchmark harness: validate, warm up, time (timestamp queries when the adapter has them,
// wall clock otherwise), min/median, and each figure as a fraction of the adapter's own
// measured peaks (FMA throughput for compute-bound cases, copy bandwidth for memory-bound).
// Cases that cannot be recorded as dispatches only (a module's forward + backward through the
// autograd tape, a training step) give `runWall` instead: whole repetitions timed by wall
// clock around submit + queue drain, with submissions, dispatches and new buffers counted.
// Cases that ask for it (hostMemory) also get this process's peak resident set size over the
// case, starting from emptied buffer pools, and the pools are emptied again before the peers run.
import { gpu, timeGpu } from '../src/index.ts';
import { peakCopy, peakFma, peakDispatch, setKernelVersion } from '../src/kernels.ts';
import { watchHostMemory, type HostMemory } from './host_memory.ts';

/** What a peer measured: ms of one repetition, warmed up, and where it measured them its own host memory. */
export type PeerRun = number | { ms: number; host?: Omit<HostMemory, 'method'> };
export interface Peer { name: string; run: () => Promise<PeerRun> }

export interface BenchCase {
  family: string;
  name: string;
  version?: string;               // the version (choice) of its kernel family the case runs, 'a/b' for several; --version keeps
  flops?: number;                 // per repetition
  bytes?: number;                 // bytes moved per repetition
  validate?: () => Promise<void>; // throws on mismatch with the reference
  record?: () => void;            // records the commands of one repetition (dispatches and copies, no submits)
  runWall?: () => Promise<void>;  // instead of record: one whole repetition, returning once the GPU is done
  items?: number;                 // images per repetition (reported as items/s)
  warmup?: number;                // warm-up repetitions (default 2)
  repeats?: number;               // timed repetitions (default 3 quick, 7 full)
  dispose: () => void;
  peer?: Peer;
  peers?: Peer[];
  details?: () => Record<string, unknown>; // figures beyond timing (memory traces), kept in the report
  hostMemory?: boolean;           // measure this process's peak RSS from validation to the last repetition
}

/** Runs fn with `version` forced for a kernel family (its kernels take no version argument). */
export function withVersion<T>(family: string, version: string, fn: () => T): T {
  setKernelVersion(family, version);
  try { return fn(); } finally { setKernelVersion(family, null); }
}

/** Whether a case runs a version the --version filter (comma list; 'v2' also keeps v2's tuned choices) asks for. */
export function versionWanted(c: BenchCase, filter: string | undefined): boolean {
  if (!filter) return true;
  const ran = (c.version ?? '').split('/').filter(Boolean);
  return filter.split(',').some((f) => ran.some((v) => v === f || v.startsWith(`${f}(`)));
}

export interface Peaks { fmaGflops: number; copyGBs: number; dispatchUs: number; method: string }

export interface BenchResult {
  family: string; name: string; minMs: number; medianMs: number; method: string; repeats?: number;
  gflops?: number; gbs?: number; fracPeak?: number; // of FMA peak (flops) or copy bandwidth (bytes)
  itemsPerSec?: number;
  /** runWall cases: per repetition, in the timed repetitions (buffersCreated: every GPU buffer and texture) */
  perRep?: { submissions: number; dispatches: number; buffersCreated: number };
  warmup?: number;                // runWall cases: whole repetitions run before the timed ones
  host?: HostMemory;              // hostMemory cases: this process's RSS at the start and its peak
  peers: { name: string; ms: number; ratio: number; host?: Omit<HostMemory, 'method'> }[]; // ratio = peer ms / our ms (> 1: we are faster)
  valid: boolean | null;
  details?: Record<string, unknown>;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function measurePeaks(quick: boolean): Promise<Peaks> {
  const g = gpu();
  const sink = g.pool.acquire(4 * 64 * 4096);
  const repeats = quick ? 3 : 5;
  let fmaFlops = 0;
  const fma = await timeGpu(() => { fmaFlops = peakFma(sink, 1024, quick ? 256 : 1024); }, repeats);
  const n = 16 * 1024 * 1024; // 64 MB each way: well past the last-level cache of CPU adapters
  const src = g.pool.acquire(n * 4), dst = g.pool.acquire(n * 4);
  let copyBytes = 0;
  const copy = await timeGpu(() => { copyBytes = peakCopy(src, dst, n); }, repeats);
  // fixed cost of a dispatch in one pass (wall clock over 200 tiny dispatches, best of 3)
  let dispatchUs = Infinity;
  for (let round = 0; round < 3; round++) {
    await g.recorder.sync();
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) peakDispatch(sink);
    await g.recorder.sync();
    dispatchUs = Math.min(dispatchUs, ((performance.now() - t0) / 200) * 1000);
  }
  for (const b of [sink, src, dst]) g.pool.release(b);
  return {
    fmaGflops: fmaFlops / (Math.min(...fma.ms) * 1e6),
    copyGBs: copyBytes / (Math.min(...copy.ms) * 1e6),
    dispatchUs,
    method: fma.method,
  };
}

/** Destroys the pooled buffers and textures (once the queue is idle), so that what the process holds is what is in use. */
async function emptyPools(): Promise<void> {
  const g = gpu();
  await g.recorder.sync();
  g.pool.trim();
  g.scratch.trim();
  // Dawn frees a destroyed buffer's memory once a submission after its destruction completes
  g.device.queue.submit([g.device.createCommandEncoder().finish()]);
  await g.device.queue.onSubmittedWorkDone();
}

export async function runCase(c: BenchCase, peaks: Peaks, opts: { quick: boolean; repeats?: number }): Promise<BenchResult> {
  if (c.hostMemory) await emptyPools();
  const memory = c.hostMemory ? watchHostMemory() : null;
  let valid: boolean | null = null;
  if (c.validate) {
    try { await c.validate(); valid = true; } catch (e) {
      valid = false;
      console.error(`  ${c.name}: VALIDATION FAILED: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const g = gpu();
  const repeats = c.repeats ?? opts.repeats ?? (opts.quick ? 3 : 7);
  let timing: { ms: number[]; method: string };
  let perRep: BenchResult['perRep'];
  if (c.runWall) {
    for (let i = 0; i < (c.warmup ?? 2); i++) await c.runWall(); // pipelines, pool buckets, bind groups
    await g.recorder.sync();
    // every buffer and texture the project creates (pool, staging, uniforms, scratch), not the pool alone
    const created = () => { const r = g.resources.stats(); return r.buffers.created + r.textures.created; };
    const s0 = { ...g.recorder.stats }, created0 = created();
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await c.runWall();
      ms.push(performance.now() - t0);
    }
    perRep = {
      submissions: (g.recorder.stats.submissions - s0.submissions) / repeats,
      dispatches: (g.recorder.stats.dispatches - s0.dispatches) / repeats,
      buffersCreated: (created() - created0) / repeats,
    };
    timing = { ms, method: 'wall' };
  } else if (c.record) {
    for (let i = 0; i < (c.warmup ?? 2); i++) c.record(); // warm-up: pipeline compilation, first-use costs
    await g.recorder.sync();
    timing = await timeGpu(c.record, repeats);
  } else {
    throw new Error(`${c.name}: a case needs record or runWall`);
  }
  const minMs = Math.min(...timing.ms);
  const result: BenchResult = { family: c.family, name: c.name, minMs, medianMs: median(timing.ms), method: timing.method, repeats, peers: [], valid };
  if (memory) result.host = memory.stop();
  if (perRep) { result.perRep = perRep; result.warmup = c.warmup ?? 2; }
  if (c.details) result.details = c.details();
  if (c.items) result.itemsPerSec = (1000 * c.items) / minMs;
  if (c.flops) { result.gflops = c.flops / (minMs * 1e6); result.fracPeak = result.gflops / peaks.fmaGflops; }
  if (c.bytes) { result.gbs = c.bytes / (minMs * 1e6); if (!c.flops) result.fracPeak = result.gbs / peaks.copyGBs; }
  // hostMemory cases let go of their memory before the peers run, so that a peer's and ours are
  // not held at once (other cases' peers may use the case's data: the conv2d bench's matmul peer)
  if (c.hostMemory) { c.dispose(); await emptyPools(); }
  for (const peer of [...(c.peer ? [c.peer] : []), ...(c.peers ?? [])]) {
    try {
      const run = await peer.run();
      const ms = typeof run === 'number' ? run : run.ms;
      result.peers.push({ name: peer.name, ms, ratio: ms / minMs, ...(typeof run !== 'number' && run.host ? { host: run.host } : {}) });
    } catch (e) {
      console.error(`  ${c.name}: peer ${peer.name} failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (!c.hostMemory) { c.dispose(); await g.recorder.sync(); }
  return result;
}

const fmt = (x: number | undefined, digits = 2) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));

/** A peer's time with our speed relative to it: ratio = peer ms / our ms. */
export function peerText(p: BenchResult['peers'][number]): string {
  const rel = p.ratio >= 1 ? `ours ${fmt(p.ratio)}x faster` : `ours ${fmt(1 / p.ratio)}x slower`;
  return `${p.name} ${fmt(p.ms)} ms (${rel}${p.host ? `, peak RSS ${p.host.peakRssMB.toFixed(0)} MB` : ''})`;
}

export function formatRow(r: BenchResult): string {
  const rate = r.gflops !== undefined ? `${fmt(r.gflops)} GFLOP/s` : r.gbs !== undefined ? `${fmt(r.gbs)} GB/s` : '';
  const peers = r.peers.map(peerText).join(', ');
  const frac = r.fracPeak !== undefined ? `${(r.fracPeak * 100).toFixed(1)}% of peak` : '';
  const extra = [r.itemsPerSec !== undefined ? `${fmt(r.itemsPerSec)} img/s` : '',
    r.perRep ? `${fmt(r.perRep.submissions)} submits, ${fmt(r.perRep.buffersCreated)} new buffers, ${r.perRep.dispatches.toFixed(0)} dispatches per rep` : '',
    r.host ? `peak RSS ${r.host.peakRssMB.toFixed(0)} MB` : '']
    .filter(Boolean).join(', ');
  const bad = r.valid === false ? '  INVALID' : '';
  return `${r.name.padEnd(58)} ${fmt(r.minMs, 3).padStart(9)} ms  ${rate.padStart(16)}  ${frac.padStart(15)}  ${[extra, peers].filter(Boolean).join('; ')}${bad}`;
}
