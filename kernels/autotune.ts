// Version choice by measurement, for any kernel family with several versions of an op.
//
// Ops record synchronously, while timing needs the GPU to finish, so the choice happens in
// two steps: selectVersion() answers at once (a forced version, else the measured choice
// cached for this adapter and shape, else the family's fallback) and queues the untuned
// (op, shape) pairs; `await tunePending()` times every queued pair once, version by
// version, and keeps the fastest in memory and in the store (a JSON file per user in Node,
// localStorage in the browser). A trainer calls it once after its first step.
//
// Forcing a version (tests, benchmarks): setKernelVersion('conv2d_fwd', 'v2'), or the
// environment variable WG_KERNEL_VERSION=conv2d_fwd:v2,conv2d_bwd_weight:v1; a bare family
// name forces every op of it (conv2d:v1, split_attention:v1), and a choice may name tuning
// parameters (batchnorm2d:v2(reductionThreads=32768)); see kernels/versions.ts. A forced
// version applies where it can run the shape. The setter wins over the environment.
import { gpu, hasGpu } from '../src/gpu/index.ts';
import { timeGpu } from '../src/gpu/timer.ts';
import { envVar, fileStore, hasNodeFs } from './autotune_store_node.ts';
import { localStore } from './autotune_store_browser.ts';
import type { AutotuneStore } from './autotune_store.ts';

const defaultStore = (): AutotuneStore => (hasNodeFs() ? fileStore() : localStore());

export type { AutotuneStore } from './autotune_store.ts';

export interface TunableOp {
  op: string;                   // '<family>_<op>', e.g. conv2d_fwd
  revision: string;             // changes when the versions change; older choices are ignored
  versions: readonly string[];  // the versions able to run this shape
  fallback: string;             // until measured
}

/** Buffers for timing one shape; record(v) records one repetition of version v (dispatches only). */
export interface TuneJob { record(version: string): void; dispose(): void }

export interface TuneResult { op: string; key: string; best: string; ms: Record<string, number> }

// Process-wide settings: forced versions and where choices persist. The choices themselves
// and the queue of untuned shapes belong to the device (tuneState).
const forced = new Map<string, string>();
let store: AutotuneStore | null = null;
let envForced = new Map<string, string>();
let envRaw: string | undefined;

interface TuneState {
  chosen: Map<string, string>;
  pending: Map<string, { op: TunableOp; key: string; prepare: () => TuneJob }>;
  loaded: boolean;
}

const tuneState = (): TuneState => gpu().state<TuneState>('autotune', () => ({ chosen: new Map(), pending: new Map(), loaded: false }));

function parseEnv(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  // commas inside a choice's parentheses, v2(a=1,b=2), do not separate items
  for (const item of raw.split(/,(?![^(]*\))/).map((s) => s.trim()).filter(Boolean)) {
    const [op, version] = item.split(':');
    if (!op || !version) throw new Error(`WG_KERNEL_VERSION: "${item}" is not op:version (e.g. conv2d_fwd:v2)`);
    out.set(op, version);
  }
  return out;
}

/** Forces `version` for `op` (or every op of a family), or removes the forcing with null. */
export function setKernelVersion(op: string, version: string | null): void {
  if (version === null) forced.delete(op);
  else forced.set(op, version);
}

export function forcedVersion(op: string): string | undefined {
  const raw = envVar('WG_KERNEL_VERSION') ?? '';
  if (raw !== envRaw) { envForced = parseEnv(raw); envRaw = raw; }
  // the op itself, then its family: every shorter '_' prefix (split_attention_planes -> split_attention)
  const parts = op.split('_');
  const names = parts.map((_, i) => parts.slice(0, parts.length - i).join('_'));
  for (const source of [forced, envForced]) {
    for (const name of names) { const v = source.get(name); if (v !== undefined) return v; }
  }
  return undefined;
}

/** Replaces where choices persist (tests use an in-memory store). */
export function setAutotuneStore(s: AutotuneStore): void {
  store = s;
  if (hasGpu()) { const t = tuneState(); t.chosen.clear(); t.loaded = false; }
}

export function memoryStore(): AutotuneStore {
  const data: Record<string, Record<string, string>> = {};
  return { load: (a) => ({ ...(data[a] ?? {}) }), save: (a, e) => { data[a] = { ...(data[a] ?? {}), ...e }; } };
}

function adapterKey(): string {
  const i = gpu().adapter;
  return [i.backend, i.vendor, i.architecture, i.device, i.description].join('|');
}

function cache(): Map<string, string> {
  const t = tuneState();
  if (!t.loaded) {
    store ??= defaultStore();
    t.chosen.clear();
    for (const [k, v] of Object.entries(store.load(adapterKey()))) t.chosen.set(k, v);
    t.loaded = true;
  }
  return t.chosen;
}

const entryKey = (op: TunableOp, key: string): string => `${op.op}|${op.revision}|${key}`;

/** The version to run `op` with on a shape described by `key`; queues the shape for tuning if unmeasured. */
export function selectVersion(op: TunableOp, key: string, prepare: () => TuneJob): string {
  const f = forcedVersion(op.op);
  if (f !== undefined) {
    if (!op.versions.includes(f)) {
      throw new Error(`${op.op}: forced version ${f} is not one of ${op.versions.join(', ')} for ${key}`);
    }
    return f;
  }
  const id = entryKey(op, key);
  const known = cache().get(id);
  if (known !== undefined && op.versions.includes(known)) return known;
  const pending = tuneState().pending;
  if (op.versions.length > 1 && !pending.has(id)) pending.set(id, { op, key, prepare });
  return op.fallback;
}

export function pendingTunes(): number {
  return tuneState().pending.size;
}

/** Times every queued (op, shape) with each of its versions and keeps the fastest. */
export async function tunePending(opts: { repeats?: number; log?: (line: string) => void } = {}): Promise<TuneResult[]> {
  const repeats = opts.repeats ?? 3;
  const g = gpu();
  const results: TuneResult[] = [];
  const fresh: Record<string, string> = {};
  const pending = tuneState().pending;
  const jobs = [...pending.entries()];
  pending.clear();
  for (const [id, { op, key, prepare }] of jobs) {
    const job = prepare();
    const ms: Record<string, number> = {};
    try {
      for (const v of op.versions) {
        job.record(v); // first run compiles the pipelines
        await g.recorder.sync();
        const t = await timeGpu(() => job.record(v), repeats);
        ms[v] = Math.min(...t.ms);
      }
    } finally {
      job.dispose();
    }
    const best = op.versions.reduce((a, b) => (ms[b] < ms[a] ? b : a));
    cache().set(id, best);
    fresh[id] = best;
    results.push({ op: op.op, key, best, ms });
    opts.log?.(`autotune ${op.op} ${key}: ${best} (${op.versions.map((v) => `${v} ${ms[v].toFixed(2)} ms`).join(', ')})`);
  }
  if (results.length) (store ??= defaultStore()).save(adapterKey(), fresh);
  return results;
}

/** Forgets in-memory choices and queued shapes (tests). */
export function resetAutotune(): void {
  const t = tuneState();
  t.chosen.clear();
  t.pending.clear();
  t.loaded = false;
}
