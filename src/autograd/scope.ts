// tidy(): tensors created inside the scope and not returned are freed at its end, or handed
// to the tape when a recorded backward still needs them.
import { installAutograd, type Tensor } from '../tensor.ts';
import { adoptIfHeld } from './tape.ts';

const scopes: Set<Tensor>[] = [];

function registerInScope(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}
installAutograd({ created: registerInScope });

function collect(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (!value || typeof value !== 'object' || depth > 3) return;
  if ('shape' in value && 'backward' in value) { into.add(value as Tensor); return; }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const item of items) collect(item, into, depth + 1);
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) {
    if (kept.has(t)) continue;
    if (!adoptIfHeld(t)) t.dispose();
  }
  for (const t of kept) registerInScope(t); // returned tensors belong to the enclosing scope, if any
  return result;
}

/** Runs fn with no scope open: what it makes belongs to the caller for good (module caches). */
export function outsideScopes<T>(fn: () => T): T {
  const saved = scopes.splice(0);
  try { return fn(); } finally { scopes.push(...saved); }
}
