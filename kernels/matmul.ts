// Host half of the matmul kernels (shaders/linear.wgsl v1-v3, linear_tiled.wgsl v4,
// linear_sg.wgsl v5; layouts in linear_operands.wgsl): out = alpha * op(A) op(B) [+ out] [+ bias],
// batched, for linear layers and 1x1 convolutions. One op, `fwd`, serves a linear layer's three
// products through the transpositions (forward A B^T, dX A B, dW A^T B); the shape key tells them
// apart, so each is tuned on its own.
// Test: npm test -- linear. Bench: npm run bench -- --filter linear
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';
import { elementwiseFill } from './elementwise.ts';
import type { TuneJob } from './autotune.ts';
import { adapterHasSubgroups, chooseVersion, type Choice, type KernelFamily, type KernelVersion } from './versions.ts';

export interface MatmulOptions {
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] instead of [M, K]. */
  transA?: boolean;
  /** B is stored [N, K] instead of [K, N]. */
  transB?: boolean;
  /** out += result instead of out = result. */
  accumulate?: boolean;
  alpha?: number;
  /** A vector of N values added to every row. */
  bias?: Binding;
  /** Independent products along grid z; strides in elements (0 shares an operand). */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideOut?: number;
  /** A version of matmulFamily to run with (it must run the product); default: forced or the family's rule. */
  version?: string;
}

const REG_WG = [8, 8] as const; // 64 invocations, each a 4x4 tile: 32x32 outputs per workgroup
const TILE = 64;                // v3 workgroup tile
const SG_WG = 64;               // v5 invocations per 4x4 block of outputs

/**
 * v4's tuning parameters, each list's first value the default. Every combination fits the limits
 * WebGPU guarantees on any adapter: at most 256 invocations ((BM/4) * (BN/4)) and 16 KiB of
 * workgroup memory (4 * BK * (BM + BN) bytes: 16 KiB at 64 x 64 x 32).
 */
export const MATMUL_TILE_PARAMS = { bm: [64, 32], bn: [64, 32], bk: [16, 32] } as const;

/** Whether the vec4 register-tiled kernel (v2) can run this product. */
export function vec4Aligned(o: MatmulOptions): boolean {
  const contiguousA = o.transA ? o.M : o.K;
  const contiguousB = o.transB ? o.K : o.N;
  const strides = [o.strideA ?? 0, o.strideB ?? 0, o.strideOut ?? 0];
  return contiguousA % 4 === 0 && contiguousB % 4 === 0 && o.N % 4 === 0 && strides.every((s) => s % 4 === 0);
}

// the workgroup-memory versions are automatic (default, tuned) on GPUs only: CPU adapters'
// barriers make them slow there; forcing still runs them anywhere, as their tests do
const onGpus = (_o: MatmulOptions, adapter: { software: boolean }): boolean => !adapter.software;

const versions: Record<string, KernelVersion<MatmulOptions>> = {
  v1: { about: 'register tile 4x4, scalar loads, any shape', supports: () => true },
  v2: { about: 'register tile 4x4, vec4 loads, no workgroup memory or barriers (CPU adapters)', supports: vec4Aligned },
  v3: { about: '64x64 workgroup tile through workgroup memory, BK 16, 4x4 per thread (GPUs)', supports: () => true, automatic: onGpus },
  v4: { about: 'BM x BN x BK workgroup tiles (tuned parameters), vec4 global loads and stores, 4x4 register blocks (GPUs)',
    supports: vec4Aligned, automatic: onGpus, params: MATMUL_TILE_PARAMS },
  v5: { about: 'one workgroup per 4x4 block of outputs, the sum split over it and reduced by subgroupAdd (GPUs with subgroups)',
    needs: adapterHasSubgroups, supports: (_o, adapter) => adapterHasSubgroups(adapter), automatic: onGpus },
};

const REVISION = 'matmul-1';

function operandFloats(o: MatmulOptions): [number, number, number] {
  const batch = o.batch ?? 1;
  const span = (stride: number | undefined, one: number) => Math.max(one, (batch - 1) * (stride ?? 0) + one);
  return [span(o.strideA, o.M * o.K), span(o.strideB, o.K * o.N), span(o.strideOut, o.M * o.N)];
}

/** Timing one product: operands filled with 0.5 (no stale NaNs or denormals), every usable choice recorded on them. */
function tuneJob(_op: string, o: MatmulOptions): TuneJob {
  const pool = gpu().pool;
  const bytes = operandFloats(o).map((n) => Math.max(16, Math.ceil(n / 4) * 16));
  const bufs = bytes.map((n, i) => pool.acquire(n, `tune matmul ${'abo'[i]}`));
  const [a, b, out] = bufs.map((buffer, i) => ({ buffer, offset: 0, size: bytes[i] }));
  for (const r of [a, b, out]) elementwiseFill(r, r.size / 4, 0.5, 'matmul tune data');
  return {
    record: (id) => matmulForward(a, b, out, { ...o, bias: undefined, accumulate: false, version: id }, `matmul tune ${matmulFamily.shapeKey(o)}`),
    dispose: () => { for (const buf of bufs) pool.release(buf); },
  };
}

/**
 * matmul: out = alpha * op(A) op(B) [+ out] [+ bias]. Default: v3 on GPUs (autotune measures
 * v4's tiles and v5 there); on CPU adapters, which prefer barrier-free kernels, v2 where its
 * vec4 alignment holds, else v1.
 */
export const matmulFamily: KernelFamily<MatmulOptions> = {
  name: 'matmul', ops: ['fwd'], versions,
  defaultChoice: (_op, o, adapter, usable) => (!adapter.software && usable.includes('v3') ? 'v3' : vec4Aligned(o) ? 'v2' : 'v1'),
  shapeKey: (o) => `${o.M}x${o.K}x${o.N}${o.transA ? ' tA' : ''}${o.transB ? ' tB' : ''}${o.batch ? ` b${o.batch}` : ''}`,
  tune: { revision: REVISION, job: tuneJob },
};

/** The choice (version and parameters) this product runs with: requested, forced, tuned, or the default rule's. */
export function chooseMatmul(o: MatmulOptions): Choice {
  return chooseVersion(matmulFamily, 'fwd', o, o.version);
}

export function matmulVersion(o: MatmulOptions): string {
  return chooseMatmul(o).version;
}

/** v4's tile for a choice's parameters; throws, naming the tile, past this device's limits. */
export function matmulTile(params: Readonly<Record<string, number>> = {}): { bm: number; bn: number; bk: number } {
  const t = { bm: params.bm ?? MATMUL_TILE_PARAMS.bm[0], bn: params.bn ?? MATMUL_TILE_PARAMS.bn[0], bk: params.bk ?? MATMUL_TILE_PARAMS.bk[0] };
  const l = gpu().limits, bytes = 4 * t.bk * (t.bm + t.bn);
  if (t.bm % 4 || t.bn % 4 || t.bk % 4 || (t.bm / 4) * (t.bn / 4) > l.maxComputeInvocationsPerWorkgroup || bytes > l.maxComputeWorkgroupStorageSize) {
    throw new Error(`matmul v4: tile ${t.bm}x${t.bn}x${t.bk} needs BM, BN and BK multiples of 4, at most ` +
      `${l.maxComputeInvocationsPerWorkgroup} invocations and ${l.maxComputeWorkgroupStorageSize} bytes of workgroup memory (it takes ${bytes})`);
  }
  return t;
}

function checkOptions(o: MatmulOptions, label: string): void {
  for (const key of ['M', 'N', 'K', 'batch', 'strideA', 'strideB', 'strideOut'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw new Error(`${label}: ${key} must be a non-negative integer, got ${v}`);
  }
  if (o.alpha !== undefined && !Number.isFinite(o.alpha)) throw new Error(`${label}: alpha must be finite, got ${o.alpha}`);
}

/** Records out[M,N] = alpha * op(A) op(B) [+ out] [+ bias] (per batch). */
export function matmulForward(a: Binding, b: Binding, out: Binding, o: MatmulOptions, label = `matmul ${o.M}x${o.K}x${o.N}`): void {
  checkOptions(o, label);
  const batch = o.batch ?? 1;
  if (o.M === 0 || o.N === 0 || batch === 0) return;
  const choice = chooseMatmul(o), version = choice.version;
  const flags = (o.accumulate ? 1 : 0) | (o.bias ? 2 : 0);
  const params = packParams([
    ['u32', o.M], ['u32', o.N], ['u32', o.K], ['u32', flags],
    ['u32', o.strideA ?? 0], ['u32', o.strideB ?? 0], ['u32', o.strideOut ?? 0], ['f32', o.alpha ?? 1],
  ]);
  const constants: Record<string, number> = { TRANS_A: o.transA ? 1 : 0, TRANS_B: o.transB ? 1 : 0 };
  let grid: [number, number, number];
  let shader = 'linear';
  if (version === 'v3') {
    grid = [Math.ceil(o.N / TILE), Math.ceil(o.M / TILE), batch];
  } else if (version === 'v4') {
    const t = matmulTile(choice.params);
    Object.assign(constants, { BM: t.bm, BN: t.bn, BK: t.bk });
    shader = 'linear_tiled';
    grid = [Math.ceil(o.N / t.bn), Math.ceil(o.M / t.bm), batch];
  } else if (version === 'v5') {
    if (!gpu().features.has('subgroups')) throw new Error(`${label}: matmul v5 needs the 'subgroups' feature, which this device lacks`);
    constants.WG = SG_WG;
    shader = 'linear_sg';
    const blocks = Math.ceil(o.M / 4) * Math.ceil(o.N / 4), maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
    const gy = Math.ceil(blocks / maxDim);
    grid = [Math.ceil(blocks / gy), gy, batch];
  } else {
    constants.WG_X = REG_WG[0];
    constants.WG_Y = REG_WG[1];
    grid = [Math.ceil(o.N / (4 * REG_WG[0])), Math.ceil(o.M / (4 * REG_WG[1])), batch];
  }
  // an absent bias binds A again: both are read-only, and the kernel never reads it
  launch({ shader, entry: `linear_matmul_${version}`, bindings: ['read', 'read', 'read', 'write', 'uniform'], constants },
    [a, b, o.bias ?? a, out], params, grid, `${label} ${choice.id}`);
}

export function matmulFlops(o: Pick<MatmulOptions, 'M' | 'N' | 'K' | 'batch'>): number {
  return 2 * o.M * o.N * o.K * (o.batch ?? 1);
}

/** f64 reference of matmulForward; `out` (if given) is the prior value for accumulate. */
export function matmulCpu(a: ArrayLike<number>, b: ArrayLike<number>, o: MatmulOptions,
  out?: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const { M, N, K } = o;
  const batch = o.batch ?? 1;
  const sA = o.strideA ?? 0, sB = o.strideB ?? 0, sO = o.strideOut ?? M * N;
  const res = Float64Array.from({ length: Math.max(0, (batch - 1) * sO + M * N) }, (_, i) => (out ? out[i] : 0));
  for (let z = 0; z < batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a[z * sA + (o.transA ? k * M + m : m * K + k)];
          const bv = b[z * sB + (o.transB ? n * K + k : k * N + n)];
          s += av * bv;
        }
        const i = z * sO + m * N + n;
        res[i] = (o.alpha ?? 1) * s + (bias ? bias[n] : 0) + (o.accumulate ? res[i] : 0);
      }
    }
  }
  return res;
}
