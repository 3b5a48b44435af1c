// Browser: autotune choices in localStorage when there is one, else for the page's lifetime.
import type { AutotuneStore } from './autotune_store.ts';

const KEY = 'resnest-webgpu:autotune';

export function localStore(): AutotuneStore {
  const ls = (globalThis as { localStorage?: Storage }).localStorage;
  let memory: Record<string, Record<string, string>> = {};
  const readAll = (): Record<string, Record<string, string>> => {
    if (!ls) return memory;
    try { return JSON.parse(ls.getItem(KEY) ?? '{}') as Record<string, Record<string, string>>; } catch { return {}; }
  };
  return {
    load: (adapter) => ({ ...(readAll()[adapter] ?? {}) }),
    save(adapter, entries) {
      const all = readAll();
      all[adapter] = { ...(all[adapter] ?? {}), ...entries };
      memory = all;
      if (ls) { try { ls.setItem(KEY, JSON.stringify(all)); } catch { /* quota: keep in memory only */ } }
    },
  };
}
