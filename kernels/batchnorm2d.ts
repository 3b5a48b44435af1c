// Host half of shaders/batchnorm2d_{fwd,bwd}.wgsl: batch norm over NCHW with fused residual add and ReLU.
// Forward: statistics (2 dispatches in training, 1 in eval) into a per-channel coefficient
// block, then one elementwise pass. Backward: a reduction, a per-channel finalize, one dx pass.
// f64 references: kernels/batchnorm2d.ref.ts. Test: npm test -- batchnorm2d. Bench: bench/batchnorm2d.bench.ts.
//
// Versions (docs/kernels/batchnorm2d.md), one choice per shape for every pass:
//   v1  scalar loads, any H*W; elementwise passes index flat (channel = i / HW % C);
//       ~1024 reduction threads in all
//   v2  vec4 loads, needs H*W % 4 == 0; elementwise passes on a (chunk, C, N) grid. Parameter
//       reductionThreads, the threads sharing the statistics and backward sums: 1024 (long
//       per-thread loops, best on CPU adapters; the default) or 32768 (enough for GPUs).
// The choice is measured per adapter and shape (kernels/autotune.ts); the default runs until then.
//
// Tensors over one storage binding run in batch chunks (kernels/chunking.ts): the elementwise
// passes per chunk, the statistics and backward sums per chunk into one block of partials per
// chunk, which the finalize passes merge with the per-thread partials (running stats are
// updated once, from the whole batch).
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import type { TuneJob } from './autotune.ts';
import { chooseVersion, parseChoice, type Choice, type KernelFamily } from './versions.ts';
import { batchChunks, type BatchChunk } from './chunking.ts';

export const BN_WG = 64;
export const BN_PER_THREAD = 4;
export const BN_MAX_PARTIALS = 256;
const V1_REDUCTION_THREADS = 1024;
const REVISION = '2';

/** batchnorm2d's shape: the input's [N, C, H, W]. */
export type BatchNorm2dShape = readonly number[];

const vec4able = (shape: BatchNorm2dShape): boolean => (shape[2] * shape[3]) % 4 === 0;
/**
 * Smallest plane v2 is the default on: its elementwise passes run a workgroup of 64 per
 * (plane chunk, channel, sample), mostly idle on planes of a few vec4s, while v1's index flat.
 * Training forward + backward with ReLU and residual, lavapipe: [8,2048,2,2] v1 1.6-1.9 ms,
 * v2 11.7-12.0; [8,1024,4,4] 2.8-3.1 against 7.9-8.9; [8,512,8,8] even; [8,256,16,16] v2 1.9-2.7x.
 */
const V2_MIN_PLANE = 64;

export const batchNorm2dFamily: KernelFamily<BatchNorm2dShape> = {
  name: 'batchnorm2d',
  ops: ['reduce'],
  versions: {
    v1: { about: 'scalar loads, any H*W, flat elementwise passes', supports: () => true },
    v2: { about: 'vec4 loads (H*W % 4 == 0), elementwise passes on a (chunk, C, N) grid', supports: vec4able,
      params: { reductionThreads: [1024, 32768] } },
  },
  defaultChoice: (_op, shape) => (vec4able(shape) && shape[2] * shape[3] >= V2_MIN_PLANE ? 'v2' : 'v1'),
  shapeKey: (shape) => shape.join(','),
  tune: { revision: REVISION, job: (_op, shape) => tuneJob(shape) },
};

/** How a choice runs a shape: derived, never passed in (the host functions take the shape and the choice). */
interface Plan {
  N: number; C: number; HW: number;
  /** the choice (version and parameters) it runs with */
  version: string;
  vec4: boolean;
  HWu: number;   // values per plane in the version's unit (floats or vec4s)
  T: number;     // partial reductions per channel
}

function plan(shape: BatchNorm2dShape, choice: Choice | string): Plan {
  const c = typeof choice === 'string' ? parseChoice(batchNorm2dFamily, choice) : choice;
  const [N, C, H, W] = shape;
  const HW = H * W;
  const vec4 = c.version === 'v2';
  if (vec4 && HW % 4 !== 0) throw new Error(`batchnorm2d ${c.id} needs H*W % 4 == 0, got shape [${shape}]`);
  const HWu = vec4 ? HW / 4 : HW;
  const threads = c.params.reductionThreads ?? V1_REDUCTION_THREADS;
  const T = Math.max(1, Math.min(HWu, BN_MAX_PARTIALS, Math.ceil(threads / C)));
  return { N, C, HW, version: c.id, vec4, HWu, T };
}

/** The choice for this shape: requested, forced (setKernelVersion('batchnorm2d', ...), applied where it runs), measured, or the default. */
export function batchNorm2dVersion(shape: BatchNorm2dShape, requested?: string): Choice {
  return chooseVersion(batchNorm2dFamily, 'reduce', shape, requested);
}

function tuneJob(shape: readonly number[]): TuneJob {
  const pool = gpu().pool;
  const C = shape[1];
  const x = pool.acquire(4 * shape.reduce((a, b) => a * b, 1), 'tune x'), coef = pool.acquire(16 * C, 'tune coef');
  const none = { weight: null, bias: null, runningMean: null, runningVar: null };
  return {
    record: (v) => batchNorm2dCoefficients(x, shape, v, none, coef,
      { training: true, eps: 1e-5, momentum: 0.1 }, `batchnorm2d tune x[${shape}] ${v}`),
    dispose: () => { pool.release(x); pool.release(coef); },
  };
}

const FLAG = { weight: 1, bias: 2, updateRunning: 4, training: 8, addDweight: 16, addDbias: 32 } as const;

const reduceParams = (g: Plan) => packParams([['u32', g.C], ['u32', g.N], ['u32', g.HWu], ['u32', g.T]]);

/** `chunks` blocks of C*T partials, `stride` vec4s apart. */
function finalizeParams(g: Plan, eps: number, momentum: number, flags: number, chunks = 1, stride = 0): ArrayBuffer {
  return packParams([['u32', g.C], ['u32', g.T], ['f32', g.N * g.HW], ['f32', eps], ['f32', momentum], ['u32', flags],
    ['u32', chunks], ['u32', stride]]);
}

/** Per-chunk partial blocks: one buffer, each chunk's C*T vec4s at a 256-byte aligned offset. */
function partialBlocks(g: Plan, chunks: number, label: string): { buffer: GPUBuffer; stride: number; block: (j: number) => Binding } {
  const bytes = g.C * g.T * 16;
  const align = gpu().limits.minStorageBufferOffsetAlignment;
  const stride = chunks > 1 ? Math.ceil(bytes / align) * align : bytes;
  const buffer = gpu().pool.acquire(stride * chunks, label);
  return { buffer, stride: stride / 16, block: (j) => (chunks > 1 ? { buffer, offset: j * stride, size: bytes } : buffer) };
}

/** The geometry of one chunk of samples. */
const chunkGeometry = (g: Plan, ch: BatchChunk): Plan => (ch.count === g.N ? g : { ...g, N: ch.count });

/** Workgroups and parameters of the elementwise passes (apply, dx). */
function mapGeometry(g: Plan): { params: ArrayBuffer; grid: [number, number, number] } {
  if (g.vec4) {
    return {
      params: packParams([['u32', g.C], ['u32', g.HWu], ['u32', 0], ['u32', 0]]),
      grid: [Math.ceil(g.HWu / (BN_WG * BN_PER_THREAD)), g.C, g.N],
    };
  }
  const total = g.N * g.C * g.HW;
  const threads = Math.max(1, Math.ceil(total / BN_PER_THREAD));
  return { params: packParams([['u32', g.C], ['u32', g.HW], ['u32', total], ['u32', threads]]), grid: grid1d(threads, BN_WG) };
}

const entry = (name: string, bindings: ('read' | 'write' | 'uniform')[], constants: Record<string, number> = {}) =>
  ({ shader: name.startsWith('batchnorm2d_bwd') ? 'batchnorm2d_bwd' : 'batchnorm2d_fwd', entry: name, bindings, constants: { WG: BN_WG, PER_THREAD: BN_PER_THREAD, ...constants } });

export interface BatchNorm2dParamBindings {
  weight: Binding | null;
  bias: Binding | null;
  runningMean: Binding | null;
  runningVar: Binding | null;
}

/**
 * coef[c] = (scale, shift, mean, invstd) as vec4 (C*16 bytes). Training: batch statistics,
 * and running stats updated in place when given. Eval: from the running stats.
 */
export function batchNorm2dCoefficients(x: Binding, shape: BatchNorm2dShape, choice: Choice | string, p: BatchNorm2dParamBindings, coef: Binding,
  o: { training: boolean; eps: number; momentum: number }, label: string): void {
  const g = plan(shape, choice);
  const flags = (p.weight ? FLAG.weight : 0) | (p.bias ? FLAG.bias : 0);
  if (!o.training) {
    if (!p.runningMean || !p.runningVar) throw new Error(`${label}: eval mode needs running statistics`);
    launch(entry('batchnorm2d_finalize_eval', ['read', 'read', 'read', 'read', 'write', 'uniform']),
      [p.runningMean, p.runningVar, p.weight ?? p.runningMean, p.bias ?? p.runningMean, coef],
      finalizeParams(g, o.eps, 0, flags), [Math.ceil(g.C / BN_WG), 1, 1], `${label} (eval coefficients)`);
    return;
  }
  const pool = gpu().pool;
  const plane = g.C * g.HW;
  const chunks = batchChunks(`${label} (statistics)`, g.N, [[x, plane]]);
  const parts = partialBlocks(g, chunks.length, 'batchnorm2d partials');
  const partials = parts.buffer;
  for (const ch of chunks) {
    launch(entry(`batchnorm2d_stats_${g.vec4 ? 'v2' : 'v1'}`, ['read', 'write', 'uniform']), [ch.of(x, plane), parts.block(ch.index)],
      reduceParams(chunkGeometry(g, ch)), grid1d(g.C * g.T, BN_WG), `${label} (statistics)`);
  }
  const update = p.runningMean !== null && p.runningVar !== null;
  // writable bindings may not alias, so each absent running stat gets its own stand-in
  const dummies = update ? null : [pool.acquire(16, 'batchnorm2d unused'), pool.acquire(16, 'batchnorm2d unused')];
  launch(entry('batchnorm2d_finalize_train', ['read', 'read', 'read', 'write', 'write', 'write', 'uniform']),
    [partials, p.weight ?? partials, p.bias ?? partials, coef, p.runningMean ?? dummies![0], p.runningVar ?? dummies![1]],
    finalizeParams(g, o.eps, o.momentum, flags | (update ? FLAG.updateRunning : 0), chunks.length, parts.stride),
    [Math.ceil(g.C / BN_WG), 1, 1], `${label} (finalize)`);
  pool.release(partials);
  for (const d of dummies ?? []) pool.release(d);
}

/** y = x * scale + shift (+ residual) (relu). */
export function batchNorm2dApply(x: Binding, coef: Binding, residual: Binding | null, y: Binding, shape: BatchNorm2dShape,
  choice: Choice | string, relu: boolean, label: string): void {
  const g = plan(shape, choice);
  const plane = g.C * g.HW;
  for (const ch of batchChunks(label, g.N, [[x, plane], [y, plane], ...(residual ? [[residual, plane] as const] : [])])) {
    const { params, grid } = mapGeometry(chunkGeometry(g, ch));
    const cx = ch.of(x, plane);
    launch(entry(`batchnorm2d_apply_${g.vec4 ? 'v2' : 'v1'}`, ['read', 'read', 'read', 'write', 'uniform'], { RELU: +relu, RESIDUAL: +(residual !== null) }),
      [cx, coef, residual ? ch.of(residual, plane) : cx, ch.of(y, plane)], params, grid, label);
  }
}

export interface BatchNorm2dBackwardOutputs {
  dx: Binding | null;
  dweight: Binding;     // C floats
  dbias: Binding;       // C floats
  /** dy masked by y > 0; needed when relu was fused (it is also the residual's gradient). */
  masked: Binding | null;
  /** add into dweight / dbias (a parameter's .grad) instead of writing them */
  accumulate?: { dweight?: boolean; dbias?: boolean };
}

/**
 * Backward of the forward above. `y` (the forward output) is read only when relu was fused;
 * then `out.masked` must be given and receives dy * (y > 0).
 */
export function batchNorm2dBackward(x: Binding, dy: Binding, y: Binding | null, coef: Binding, weight: Binding | null,
  shape: BatchNorm2dShape, choice: Choice | string, training: boolean, out: BatchNorm2dBackwardOutputs, label: string): void {
  const g = plan(shape, choice);
  const relu = y !== null;
  if (relu && !out.masked) throw new Error(`${label}: relu backward needs a buffer for the masked gradient`);
  const pool = gpu().pool;
  const plane = g.C * g.HW;
  const batched = [x, dy, ...(relu ? [y!, out.masked!] : []), ...(out.dx ? [out.dx] : [])].map((b) => [b, plane] as const);
  const chunks = batchChunks(label, g.N, batched);
  const parts = partialBlocks(g, chunks.length, 'batchnorm2d bwd partials');
  const partials = parts.buffer;
  const dummy = relu ? null : pool.acquire(16, 'batchnorm2d unused');
  for (const ch of chunks) {
    const cdy = ch.of(dy, plane);
    launch(entry(`batchnorm2d_bwd_reduce_${g.vec4 ? 'v2' : 'v1'}`, ['read', 'read', 'read', 'read', 'write', 'write', 'uniform'], { RELU: +relu }),
      [ch.of(x, plane), cdy, relu ? ch.of(y!, plane) : cdy, coef, parts.block(ch.index), relu ? ch.of(out.masked!, plane) : dummy!],
      reduceParams(chunkGeometry(g, ch)), grid1d(g.C * g.T, BN_WG), `${label} (reduce)`);
  }
  const bcoef = pool.acquire(g.C * 16, 'batchnorm2d bwd coefficients');
  const flags = (weight ? FLAG.weight : 0) | (training ? FLAG.training : 0)
    | (out.accumulate?.dweight ? FLAG.addDweight : 0) | (out.accumulate?.dbias ? FLAG.addDbias : 0);
  launch(entry('batchnorm2d_bwd_finalize', ['read', 'read', 'read', 'write', 'write', 'write', 'uniform']),
    [partials, weight ?? partials, coef, out.dweight, out.dbias, bcoef], finalizeParams(g, 0, 0, flags, chunks.length, parts.stride),
    [Math.ceil(g.C / BN_WG), 1, 1], `${label} (finalize)`);
  if (out.dx) {
    for (const ch of chunks) {
      const { params, grid } = mapGeometry(chunkGeometry(g, ch));
      launch(entry(`batchnorm2d_bwd_dx_${g.vec4 ? 'v2' : 'v1'}`, ['read', 'read', 'read', 'write', 'uniform']),
        [ch.of(x, plane), ch.of(relu ? out.masked! : dy, plane), bcoef, ch.of(out.dx, plane)], params, grid, `${label} (dx)`);
    }
  }
  pool.release(partials);
  pool.release(bcoef);
  if (dummy) pool.release(dummy);
}
