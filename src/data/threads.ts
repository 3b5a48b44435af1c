// Node-only helpers for the data worker threads.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./worker_entry.mjs', import.meta.url);

/**
 * The parent's flags minus `--import tsx` / `--loader tsx`: the entry registers tsx itself, and an
 * inherited import would load it a second time in every worker for nothing.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--import' || a === '--loader') && /(^|[/\\])tsx([/\\]|$)/.test(argv[i + 1] ?? '')) i++;
    else if (!/^--(import|loader)=.*tsx/.test(a)) out.push(a);
  }
  return out;
}

/** Start a worker running the TypeScript module `entry`; `data` is available as workerData. */
export function startTsWorker(entry: URL, data: Record<string, unknown>): Worker {
  return new Worker(ENTRY, { workerData: { ...data, entry: entry.href }, execArgv: workerExecArgv() });
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}
