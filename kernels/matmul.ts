// Host half of the matmul entries of shaders/linear.wgsl: out = alpha * op(A) op(B)
// [+ out] [+ bias], batched, for linear layers and 1x1 convolutions.
// Test: npm test -- linear. Bench: npm run bench -- --filter linear
import { packParams, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';
import { chooseVersion, type KernelFamily, type KernelVersion } from './versions.ts';

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

/** Whether the vec4 register-tiled kernel (v2) can run this product. */
export function vec4Aligned(o: MatmulOptions): boolean {
  const contiguousA = o.transA ? o.M : o.K;
  const contiguousB = o.transB ? o.K : o.N;
  const strides = [o.strideA ?? 0, o.strideB ?? 0, o.strideOut ?? 0];
  return contiguousA % 4 === 0 && contiguousB % 4 === 0 && o.N % 4 === 0 && strides.every((s) => s % 4 === 0);
}

const versions: Record<string, KernelVersion<MatmulOptions>> = {
  v1: { about: 'register tile 4x4, scalar loads, any shape', supports: () => true },
  v2: { about: 'register tile 4x4, vec4 loads, no workgroup memory or barriers (CPU adapters)', supports: vec4Aligned },
  v3: { about: '64x64 workgroup tile through workgroup memory, BK 16, 4x4 per thread (GPUs)', supports: () => true },
};

/**
 * matmul: out = alpha * op(A) op(B) [+ out] [+ bias]. Default: v3 on GPUs; on CPU adapters,
 * which prefer barrier-free kernels, v2 where its vec4 alignment holds, else v1.
 */
export const matmulFamily: KernelFamily<MatmulOptions> = {
  name: 'matmul', ops: ['fwd'], versions,
  defaultChoice: (_op, o, adapter) => (!adapter.software ? 'v3' : vec4Aligned(o) ? 'v2' : 'v1'),
  shapeKey: (o) => `${o.M}x${o.K}x${o.N}${o.transA ? ' tA' : ''}${o.transB ? ' tB' : ''}${o.batch ? ` b${o.batch}` : ''}`,
};

export function matmulVersion(o: MatmulOptions): string {
  return chooseVersion(matmulFamily, 'fwd', o, o.version).version;
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
  const version = matmulVersion(o);
  const flags = (o.accumulate ? 1 : 0) | (o.bias ? 2 : 0);
  const params = packParams([
    ['u32', o.M], ['u32', o.N], ['u32', o.K], ['u32', flags],
    ['u32', o.strideA ?? 0], ['u32', o.strideB ?? 0], ['u32', o.strideOut ?? 0], ['f32', o.alpha ?? 1],
  ]);
  const constants: Record<string, number> = { TRANS_A: o.transA ? 1 : 0, TRANS_B: o.transB ? 1 : 0 };
  let grid: [number, number, number];
  if (version === 'v3') {
    grid = [Math.ceil(o.N / TILE), Math.ceil(o.M / TILE), batch];
  } else {
    constants.WG_X = REG_WG[0];
    constants.WG_Y = REG_WG[1];
    grid = [Math.ceil(o.N / (4 * REG_WG[0])), Math.ceil(o.M / (4 * REG_WG[1])), batch];
  }
  // an absent bias binds A again: both are read-only, and the kernel never reads it
  launch({ shader: 'linear', entry: `linear_matmul_${version}`, bindings: ['read', 'read', 'read', 'write', 'uniform'], constants },
    [a, b, o.bias ?? a, out], params, grid, `${label} ${version}`);
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
