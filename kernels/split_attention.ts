// Host half of shaders/split_attention.wgsl: radix sum, its fused global average (the pool
// that feeds fc1), rSoftmax, and the attention-weighted combine of the splits, each with its
// backward. f64 references: kernels/split_attention.ref.ts. Test: npm test -- split_attention.
// Bench: bench/split_attention.bench.ts.
//
// Versions (docs/kernels/split_attention.md): v1 scalar (any H*W), v2 vec4 (H*W % 4 == 0), the
// default where it applies; one choice per shape for every plane pass (split_attention_planes). Reductions over H*W use SA_TARGET_THREADS threads in all (T per plane),
// then the partial sum kernel (kernels/partial_sum.ts) adds each plane's T partials when T > 1.
// Every pass is per sample: tensors over one storage binding run in batch chunks
// (kernels/chunking.ts), the same kernels on each chunk's sub-ranges, with T chosen from the
// whole batch so that the sums are the same as in one pass.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { partialSum } from './partial_sum.ts';
import { batchChunks, type BatchChunk, type Batched } from './chunking.ts';
import { chooseVersion, type KernelFamily } from './versions.ts';
import type { SplitShape } from './split_attention.ref.ts';

export * from './split_attention.ref.ts';

export const SA_WG = 64;
export const SA_MAX_RADIX = 8;
export const SA_TARGET_THREADS = 2048;
const UNITS_PER_THREAD = 4;

export const splitAttentionFamily: KernelFamily<SplitShape> = {
  name: 'split_attention',
  ops: ['planes'],
  versions: {
    v1: { about: 'scalar loads and stores, any H*W', supports: () => true },
    v2: { about: 'vec4 loads and stores along the plane (H*W % 4 == 0)', supports: (s) => s.HW % 4 === 0 },
  },
  defaultChoice: (_op, _s, _a, usable) => (usable.includes('v2') ? 'v2' : 'v1'),
  shapeKey: (s) => `N${s.N} R${s.R} C${s.C} HW${s.HW}`,
};

interface Geometry { vec4: boolean; HWu: number; T: number; v: string }

function geometry(s: SplitShape): Geometry {
  const vec4 = s.HW > 1 && chooseVersion(splitAttentionFamily, 'planes', s).version === 'v2';
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

/** Runs body per batch chunk with the chunk's shape; the geometry (T included) stays the whole batch's. */
function forChunks(s: SplitShape, label: string, batched: readonly Batched[], body: (cs: SplitShape, ch: BatchChunk) => void): void {
  for (const ch of batchChunks(label, s.N, batched)) body(ch.count === s.N ? s : { ...s, N: ch.count }, ch);
}

const entry = (name: string, bindings: ('read' | 'write' | 'uniform')[], constants: Record<string, number> = {}) =>
  ({ shader: 'split_attention', entry: `split_attention_${name}`, bindings, constants: { WG: SA_WG, ...constants } });

/** s [N, C, H, W] = sum of the R splits of x [N, R*C, H, W]. */
export function splitAttentionRadixSumForward(x: Binding, out: Binding, s: SplitShape, label: string): void {
  const g = geometry(s), xs = s.R * s.C * s.HW, os = s.C * s.HW;
  forChunks(s, label, [[x, xs], [out, os]], (cs, ch) =>
    launch(entry(`radix_sum_fwd_${g.v}`, ['read', 'write', 'uniform']), [ch.of(x, xs), ch.of(out, os)], params(cs, g), planeGrid(cs, g, label), label));
}

/** dx [N, R*C, H, W] = ds broadcast to every split. */
export function splitAttentionRadixSumBackward(ds: Binding, dx: Binding, s: SplitShape, label: string): void {
  const g = geometry(s), xs = s.R * s.C * s.HW, os = s.C * s.HW;
  forChunks(s, label, [[ds, os], [dx, xs]], (cs, ch) =>
    launch(entry(`broadcast_${g.v}`, ['read', 'write', 'uniform']), [ch.of(ds, os), ch.of(dx, xs)], params(cs, g), planeGrid(cs, g, label), label));
}

/** out[j] = scale * the sum of partials[j*T .. j*T + T-1]: runs of T, one per plane. */
function sumRuns(partials: Binding, out: Binding, count: number, T: number, scale: number, label: string): void {
  partialSum(partials, out, { count, T, si: T, st: 1, n: count * T }, label, { scale });
}

/** g [N, C] = global average over H, W of the radix sum of x (fc1's input, without materialising the sum). */
export function splitAttentionPoolForward(x: Binding, out: Binding, s: SplitShape, label: string): void {
  const g = geometry(s), xs = s.R * s.C * s.HW;
  const pool = gpu().pool;
  const chunks = batchChunks(label, s.N, [[x, xs], [out, s.C]]);
  const partials = g.T > 1 ? pool.acquire(4 * chunks[0].count * s.C * g.T, 'split attention partials') : null;
  for (const ch of chunks) {
    const cs = ch.count === s.N ? s : { ...s, N: ch.count }, count = cs.N * s.C, cout = ch.of(out, s.C);
    // with one partial per plane the pool pass writes the mean itself
    launch(entry(`pool_${g.v}`, ['read', 'write', 'uniform']), [ch.of(x, xs), partials ?? cout], params(cs, g, { scale: partials ? 1 : 1 / s.HW }),
      grid1d(count * g.T, SA_WG), label);
    if (partials) sumRuns(partials, cout, count, g.T, 1 / s.HW, label);
  }
  if (partials) pool.release(partials);
}

/** dx [N, R*C, H, W] = dg [N, C] / (H*W) broadcast over the plane and the splits (with accumulate, dx + that). */
export function splitAttentionPoolBackward(dg: Binding, dx: Binding, s: SplitShape, label: string, accumulate = false): void {
  const g = geometry(s), xs = s.R * s.C * s.HW;
  forChunks(s, label, [[dg, s.C], [dx, xs]], (cs, ch) =>
    launch(entry(`broadcast_${g.v}`, ['read', 'write', 'uniform'], { ACCUMULATE: accumulate ? 1 : 0 }), [ch.of(dg, s.C), ch.of(dx, xs)],
      params(cs, g, { scale: 1 / s.HW, count: 1 }), planeGrid(cs, g, label), label));
}

/** a [N, R*C] radix-major from the cardinal-major logits z (sigmoid when R = 1). */
export function splitAttentionRSoftmaxForward(z: Binding, a: Binding, N: number, R: number, C: number, K: number, label: string): void {
  const s = { N, R, C, HW: 1 }, g = geometry(s);
  forChunks(s, label, [[z, R * C], [a, R * C]], (cs, ch) =>
    launch(entry('rsoftmax_fwd', ['read', 'write', 'uniform']), [ch.of(z, R * C), ch.of(a, R * C)], params(cs, g, { K }), grid1d(cs.N * C, SA_WG), label));
}

export function splitAttentionRSoftmaxBackward(a: Binding, da: Binding, dz: Binding, N: number, R: number, C: number, K: number, label: string): void {
  const s = { N, R, C, HW: 1 }, g = geometry(s);
  forChunks(s, label, [[a, R * C], [da, R * C], [dz, R * C]], (cs, ch) =>
    launch(entry('rsoftmax_bwd', ['read', 'read', 'write', 'uniform']), [ch.of(a, R * C), ch.of(da, R * C), ch.of(dz, R * C)],
      params(cs, g, { K }), grid1d(cs.N * C, SA_WG), label));
}

/** y [N, C, H, W] = sum_r att[n, r*C + c] x[n, r*C + c]. */
export function splitAttentionCombineForward(x: Binding, att: Binding, y: Binding, s: SplitShape, label: string): void {
  if (s.R > SA_MAX_RADIX) throw new Error(`${label}: radix ${s.R} over the supported ${SA_MAX_RADIX}`);
  const g = geometry(s), xs = s.R * s.C * s.HW, as = s.R * s.C, ys = s.C * s.HW;
  forChunks(s, label, [[x, xs], [att, as], [y, ys]], (cs, ch) =>
    launch(entry(`combine_fwd_${g.v}`, ['read', 'read', 'write', 'uniform']), [ch.of(x, xs), ch.of(att, as), ch.of(y, ys)], params(cs, g),
      planeGrid(cs, g, label), label));
}

/** dx = att dy per split; datt [N, R*C] = sum over H, W of dy x. */
export function splitAttentionCombineBackward(x: Binding, att: Binding, dy: Binding, dx: Binding, datt: Binding, s: SplitShape, label: string): void {
  if (s.R > SA_MAX_RADIX) throw new Error(`${label}: radix ${s.R} over the supported ${SA_MAX_RADIX}`);
  const g = geometry(s), xs = s.R * s.C * s.HW, as = s.R * s.C, ys = s.C * s.HW;
  const pool = gpu().pool;
  const chunks = batchChunks(label, s.N, [[x, xs], [att, as], [dy, ys], [dx, xs], [datt, as]]);
  const partials = g.T > 1 ? pool.acquire(4 * chunks[0].count * as * g.T, 'split attention partials') : null;
  for (const ch of chunks) {
    const cs = ch.count === s.N ? s : { ...s, N: ch.count }, cdatt = ch.of(datt, as);
    launch(entry(`combine_bwd_${g.v}`, ['read', 'read', 'read', 'write', 'write', 'uniform']),
      [ch.of(x, xs), ch.of(att, as), ch.of(dy, ys), ch.of(dx, xs), partials ?? cdatt], params(cs, g), grid1d(cs.N * s.C * g.T, SA_WG), label);
    if (partials) sumRuns(partials, cdatt, cs.N * as, g.T, 1, label);
  }
  if (partials) pool.release(partials);
}
