// Node: autotune choices persist in one JSON file per user, keyed by adapter:
// $XDG_CACHE_HOME/resnest-webgpu/autotune.json (else ~/.cache/...). Node's modules come from
// process.getBuiltinModule at run time rather than from imports, so the browser bundle can
// carry this file without pulling in Node built-ins; it is only called under Node.
import type { AutotuneStore } from './autotune_store.ts';

interface NodeFs {
  readFileSync(p: string, enc: 'utf8'): string; writeFileSync(p: string, data: string): void;
  renameSync(a: string, b: string): void; mkdirSync(p: string, o: { recursive: true }): void;
}
interface NodeProcess { env: Record<string, string | undefined>; pid: number; getBuiltinModule?(id: string): unknown }

const proc = (globalThis as { process?: NodeProcess }).process;

/** True under a Node that can lend its fs module this way (20.16 and later). */
export const hasNodeFs = (): boolean => typeof proc?.getBuiltinModule === 'function';

export function autotuneCachePath(): string {
  const os = proc!.getBuiltinModule!('node:os') as { homedir(): string };
  const base = proc!.env.XDG_CACHE_HOME || `${os.homedir()}/.cache`;
  return `${base}/resnest-webgpu/autotune.json`;
}

type FileShape = { version: 1; adapters: Record<string, Record<string, string>> };

export function fileStore(path = autotuneCachePath()): AutotuneStore {
  const fs = proc!.getBuiltinModule!('node:fs') as NodeFs;
  const readAll = (): FileShape => {
    try {
      const parsed = JSON.parse(fs.readFileSync(path, 'utf8')) as FileShape;
      if (parsed && parsed.version === 1 && typeof parsed.adapters === 'object') return parsed;
    } catch { /* missing or unreadable: start empty */ }
    return { version: 1, adapters: {} };
  };
  return {
    load: (adapter) => ({ ...(readAll().adapters[adapter] ?? {}) }),
    save(adapter, entries) {
      try {
        const all = readAll(); // merge: another process may have tuned other shapes meanwhile
        all.adapters[adapter] = { ...(all.adapters[adapter] ?? {}), ...entries };
        fs.mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
        const tmp = `${path}.${proc!.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(all, null, 1));
        fs.renameSync(tmp, path);
      } catch (e) {
        console.warn(`autotune: could not write ${path}: ${(e as Error).message}`);
      }
    },
  };
}

export const envVar = (name: string): string | undefined => proc?.env?.[name];
