// Worker threads for data loading (Node only). Node's modules are fetched when a function runs,
// not imported, so that the vision entry bundles for the browser.
type NodeModules = { os: typeof import('node:os'); threads: typeof import('node:worker_threads') };

function node(): NodeModules {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (!get) throw new Error('worker threads need Node (>= 20.16): use the transforms directly in a browser');
  return { os: get('node:os') as NodeModules['os'], threads: get('node:worker_threads') as NodeModules['threads'] };
}

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
export function startTsWorker(entry: URL, data: Record<string, unknown>): import('node:worker_threads').Worker {
  return new (node().threads.Worker)(ENTRY, { workerData: { ...data, entry: entry.href }, execArgv: workerExecArgv() });
}

export function defaultWorkerCount(): number {
  return Math.max(1, node().os.availableParallelism());
}
