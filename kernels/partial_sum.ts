// Host half of shaders/partial_sum.wgsl: the one kernel that sums partials, for every family
// whose reductions are split (conv2d dW, split attention, batch chunks, the full reduction).
// f64 reference below. Test: npm test -- partial_sum.
import { packParams, type Binding } from '../src/gpu/index.ts';
import { bufferRegion, grid1d, launch } from './launch.ts';

export const PARTIAL_SUM_WG = 64;

/** Where each of `count` outputs finds its T partials among n floats: output i's t-th is at i*si + t*st. */
export interface PartialSumShape {
  count: number;
  T: number;
  si: number;
  st: number;
  /** Floats in parts; partials at or past it are skipped (a ragged last block). */
  n: number;
}

/** out[i] = (accumulate ? out[i] : 0) + scale * sum_t parts[i*si + t*st]. */
export function partialSum(parts: Binding, out: Binding, s: PartialSumShape, label: string, o: { scale?: number; accumulate?: boolean } = {}): void {
  for (const k of ['count', 'T', 'si', 'st', 'n'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 0 || s[k] > 0xffffffff) throw new Error(`${label}: partial sum ${k} must be a u32, got ${s[k]}`);
  }
  // four outputs an invocation where they and their partials are whole, aligned vec4s
  const vec4 = s.si === 1 && s.count % 4 === 0 && s.st % 4 === 0 && s.n % 4 === 0
    && bufferRegion(parts).offset % 16 === 0 && bufferRegion(out).offset % 16 === 0;
  launch({ shader: 'partial_sum', entry: vec4 ? 'partial_sum_vec4' : 'partial_sum', bindings: ['read', 'write', 'uniform'], constants: { WG: PARTIAL_SUM_WG } },
    [parts, out], packParams([['u32', s.count], ['u32', s.T], ['u32', s.si], ['u32', s.st], ['u32', s.n], ['u32', o.accumulate ? 1 : 0],
      ['f32', o.scale ?? 1], ['u32', 0]]), grid1d(vec4 ? s.count / 4 : s.count, PARTIAL_SUM_WG), `${label} (sum of partials)`);
}

/** f64 reference; `prior` is out before the call (for accumulate). */
export function partialSumCpu(parts: ArrayLike<number>, s: PartialSumShape, o: { scale?: number; accumulate?: boolean } = {},
  prior?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(s.count);
  for (let i = 0; i < s.count; i++) {
    let acc = 0;
    for (let t = 0; t < s.T; t++) {
      const j = i * s.si + t * s.st;
      if (j < s.n) acc += parts[j];
    }
    out[i] = (o.scale ?? 1) * acc + (o.accumulate && prior ? prior[i] : 0);
  }
  return out;
}
