// Shared test helpers: device setup and allclose with atol + rtol*|ref|.
import * as assert from 'uvu/assert';
import { initGpu } from '../src/gpu/index.ts';
import { Rng } from '../src/rng.ts';

export const setupGpu = async (): Promise<void> => { await initGpu(); };

export interface Tolerance { atol: number; rtol: number }

/** Asserts |actual - expected| <= atol + rtol*|expected| elementwise; reports the worst and first mismatches. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = 'values'): void {
  assert.is(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  let worstAbs = 0, worstRel = 0, bad = 0;
  const first: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const err = Math.abs(a - e);
    const ok = err <= tol.atol + tol.rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e));
    worstAbs = Math.max(worstAbs, err);
    worstRel = Math.max(worstRel, err / Math.max(Math.abs(e), 1e-30));
    if (!ok) { bad++; if (first.length < 5) first.push(`[${i}] got ${a}, want ${e}`); }
  }
  if (bad) {
    assert.unreachable(`${what}: ${bad}/${expected.length} outside atol=${tol.atol} rtol=${tol.rtol}; ` +
      `max abs err ${worstAbs.toExponential(2)}, max rel err ${worstRel.toExponential(2)}; first: ${first.join('; ')}`);
  }
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Asserts that fn throws an Error whose message matches every pattern. */
export function assertThrowsWith(fn: () => unknown, ...patterns: RegExp[]): void {
  try { fn(); } catch (e) {
    const msg = (e as Error).message;
    for (const p of patterns) assert.match(msg, p, `error message "${msg}" should match ${p}`);
    return;
  }
  assert.unreachable(`expected an error matching ${patterns.join(', ')}`);
}
