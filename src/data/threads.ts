// Node-only helpers for the data worker threads.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./worker_entry.mjs', import.meta.url);

/** Start a worker running the TypeScript module `entry`; `data` is available as workerData. */
export function startTsWorker(entry: URL, data: Record<string, unknown>): Worker {
  return new Worker(ENTRY, { workerData: { ...data, entry: entry.href } });
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}
