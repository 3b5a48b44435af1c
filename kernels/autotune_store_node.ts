// Node: autotune choices persist in one JSON file per user, keyed by adapter:
// $XDG_CACHE_HOME/resnest-webgpu/autotune.json (else ~/.cache/...). The browser bundle
// replaces this module with autotune_store_browser.ts, so no fs import reaches it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AutotuneStore } from './autotune.ts';

type FileShape = { version: 1; adapters: Record<string, Record<string, string>> };

export function autotuneCachePath(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'resnest-webgpu', 'autotune.json');
}

function readAll(path: string): FileShape {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as FileShape;
    if (parsed && parsed.version === 1 && typeof parsed.adapters === 'object') return parsed;
  } catch { /* missing or unreadable: start empty */ }
  return { version: 1, adapters: {} };
}

export function fileStore(path = autotuneCachePath()): AutotuneStore {
  return {
    load: (adapter) => ({ ...(readAll(path).adapters[adapter] ?? {}) }),
    save(adapter, entries) {
      try {
        const all = readAll(path); // merge: another process may have tuned other shapes meanwhile
        all.adapters[adapter] = { ...(all.adapters[adapter] ?? {}), ...entries };
        mkdirSync(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(all, null, 1));
        renameSync(tmp, path);
      } catch (e) {
        console.warn(`autotune: could not write ${path}: ${(e as Error).message}`);
      }
    },
  };
}

export const defaultStore = (): AutotuneStore => fileStore();
export const envVar = (name: string): string | undefined => process.env[name];
