// Host half of shaders/split_attention.wgsl: radix sum, its fused global average (the pool
// that feeds fc1), rSoftmax, and the attention-weighted combine of the splits, each with its
// backward. f64 references: kernels/split_attention.ref.ts. Test: npm test -- split_attention.
// Bench: bench/split_attention.bench.ts.
//
// Versions (docs/kernels/split_attention.md): v1 scalar (any H*W), v2 vec4 (H*W % 4 == 0),
// chosen by shape. Reductions over H*W use SA_TARGET_THREADS threads in all (T per plane),
// then a segment sum when T > 1.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import type { SplitShape } from './split_attention.ref.ts';

export * from './split_attention.ref.ts';

export const SA_WG = 64;
export const SA_MAX_RADIX = 8;
export const SA_TARGET_THREADS = 2048;
const UNITS_PER_THREAD = 4;

interface Geometry { vec4: boolean; HWu: number; T: number; v: string }

function geometry(s: SplitShape): Geometry {
  const vec4 = s.HW % 4 === 0;
  const HWu = vec4 ? s.HW / 4 : s.HW;
  const T = Math.max(1, Math.min(HWu, 256, Math.ceil(SA_TARGET_THREADS / (s.N * s.C))));
  return { vec4, HWu, T, v: vec4 ? 'v2' : 'v1' };
}

function params(s: SplitShape, g: Geometry, o: { R?: number; K?: number; scale?: number; count?: number; T?: number } = {}): ArrayBuffer {
  return packParams([['u32', s.C], ['u32', g.HWu], ['u32', o.R ?? s.R], ['u32', s.N], ['u32', o.T ?? g.T], ['u32', o.K ?? 1],
    ['f32', o.scale ?? 1], ['u32', o.count ?? 0]]);
}

/** (plane chunk, c, n): about UNITS_PER_THREAD units per thread along each plane. */
function planeGrid(s: SplitShape, g: Geometry, label: string): [number, number, number] {
  const max = gpu().limits.maxComputeWorkgroupsPerDimension;
  if (s.C > max || s.N > max) throw new Error(`${label}: C = ${s.C} or N = ${s.N} exceeds ${max} workgroups per dimension`);
  return [Math.ceil(g.HWu / (SA_WG * UNITS_PER_THREAD)), s.C, s.N];
}

const entry = (name: string, bindings: ('read' | 'write' | 'uniform')[]) =>
  ({ shader: 'split_attention', entry: `split_attention_${name}`, bindings, constants: { WG: SA_WG } });

/** s [N, C, H, W] = sum of the R splits of x [N, R*C, H, W]. */
export function radixSumKernel(x: Binding, out: Binding, s: SplitShape, label: string): void {
  const g = geometry(s);
  launch(entry(`radix_sum_fwd_${g.v}`, ['read', 'write', 'uniform']), [x, out], params(s, g), planeGrid(s, g, label), label);
}

/** dx [N, R*C, H, W] = ds broadcast to every split. */
export function radixSumBwdKernel(ds: Binding, dx: Binding, s: SplitShape, label: string): void {
  const g = geometry(s);
  launch(entry(`broadcast_${g.v}`, ['read', 'write', 'uniform']), [ds, dx], params(s, g), planeGrid(s, g, label), label);
}

function segmentSum(partials: Binding, out: Binding, count: number, T: number, scale: number, label: string): void {
  const s = { N: 1, R: 1, C: 1, HW: 1 };
  launch(entry('segment_sum', ['read', 'write', 'uniform']), [partials, out],
    params(s, { vec4: false, HWu: 1, T, v: 'v1' }, { scale, count, T }), grid1d(count, SA_WG), `${label} (sum of partials)`);
}

/** g [N, C] = global average over H, W of the radix sum of x (fc1's input, without materialising the sum). */
export function splitAttentionPoolKernel(x: Binding, out: Binding, s: SplitShape, label: string): void {
  const g = geometry(s);
  const pool = gpu().pool;
  const count = s.N * s.C;
  const partials = g.T > 1 ? pool.acquire(4 * count * g.T, 'split attention partials') : null;
  // with one partial per plane the pool pass writes the mean itself
  launch(entry(`pool_${g.v}`, ['read', 'write', 'uniform']), [x, partials ?? out], params(s, g, { scale: partials ? 1 : 1 / s.HW }),
    grid1d(count * g.T, SA_WG), label);
  if (partials) {
    segmentSum(partials, out, count, g.T, 1 / s.HW, label);
    pool.release(partials);
  }
}

/** dx [N, R*C, H, W] = dg [N, C] / (H*W), broadcast over the plane and the splits. */
export function splitAttentionPoolBwdKernel(dg: Binding, dx: Binding, s: SplitShape, label: string): void {
  const g = geometry(s);
  launch(entry(`broadcast_${g.v}`, ['read', 'write', 'uniform']), [dg, dx], params(s, g, { scale: 1 / s.HW, count: 1 }), planeGrid(s, g, label), label);
}

/** a [N, R*C] radix-major from the cardinal-major logits z (sigmoid when R = 1). */
export function rSoftmaxKernel(z: Binding, a: Binding, N: number, R: number, C: number, K: number, label: string): void {
  const s = { N, R, C, HW: 1 }, g = geometry(s);
  launch(entry('rsoftmax_fwd', ['read', 'write', 'uniform']), [z, a], params(s, g, { K }), grid1d(N * C, SA_WG), label);
}

export function rSoftmaxBwdKernel(a: Binding, da: Binding, dz: Binding, N: number, R: number, C: number, K: number, label: string): void {
  const s = { N, R, C, HW: 1 }, g = geometry(s);
  launch(entry('rsoftmax_bwd', ['read', 'read', 'write', 'uniform']), [a, da, dz], params(s, g, { K }), grid1d(N * C, SA_WG), label);
}

/** y [N, C, H, W] = sum_r att[n, r*C + c] x[n, r*C + c]. */
export function splitAttentionCombineKernel(x: Binding, att: Binding, y: Binding, s: SplitShape, label: string): void {
  if (s.R > SA_MAX_RADIX) throw new Error(`${label}: radix ${s.R} over the supported ${SA_MAX_RADIX}`);
  const g = geometry(s);
  launch(entry(`combine_fwd_${g.v}`, ['read', 'read', 'write', 'uniform']), [x, att, y], params(s, g), planeGrid(s, g, label), label);
}

/** dx = att dy per split; datt [N, R*C] = sum over H, W of dy x. */
export function splitAttentionCombineBwdKernel(x: Binding, att: Binding, dy: Binding, dx: Binding, datt: Binding, s: SplitShape, label: string): void {
  if (s.R > SA_MAX_RADIX) throw new Error(`${label}: radix ${s.R} over the supported ${SA_MAX_RADIX}`);
  const g = geometry(s);
  const pool = gpu().pool;
  const count = s.N * s.R * s.C;
  const partials = g.T > 1 ? pool.acquire(4 * count * g.T, 'split attention partials') : null;
  launch(entry(`combine_bwd_${g.v}`, ['read', 'read', 'read', 'write', 'write', 'uniform']), [x, att, dy, dx, partials ?? datt],
    params(s, g), grid1d(s.N * s.C * g.T, SA_WG), label);
  if (partials) {
    segmentSum(partials, datt, count, g.T, 1, label);
    pool.release(partials);
  }
}
