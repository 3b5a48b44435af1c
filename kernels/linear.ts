// Host half of the linear layer (shaders/linear.wgsl): y = x W^T + b through matmulForward,
// the bias gradient kernel, and f64 references of forward and backward.
// Test: npm test -- linear. Bench: npm run bench -- --filter linear
import { packParams, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';
import { matmulForward } from './matmul.ts';

const BIAS_WG = 64;

/** y[B, out] = x[B, in] W[out, in]^T (+ bias[out]). */
export function linearForward(x: Binding, w: Binding, bias: Binding | null, y: Binding,
  B: number, inF: number, outF: number, version?: string): void {
  matmulForward(x, w, y, { M: B, N: outF, K: inF, transB: true, bias: bias ?? undefined, version },
    `linear forward [${B},${inF}]x[${outF},${inF}]^T`);
}

/** dx[B, in] = dy[B, out] W[out, in] */
export function linearBackwardInput(dy: Binding, w: Binding, dx: Binding, B: number, inF: number, outF: number,
  version?: string): void {
  matmulForward(dy, w, dx, { M: B, N: inF, K: outF, version }, `linear dX [${B},${outF}]x[${outF},${inF}]`);
}

/** dW[out, in] (+)= dy[B, out]^T x[B, in] */
export function linearBackwardWeight(dy: Binding, x: Binding, dw: Binding, B: number, inF: number, outF: number,
  accumulate = false, version?: string): void {
  matmulForward(dy, x, dw, { M: outF, N: inF, K: B, transA: true, accumulate, version }, `linear dW [${B},${outF}]^Tx[${B},${inF}]`);
}

/** db[N] (+)= scale * column sums of dy[M, N]. */
export function linearBackwardBias(dy: Binding, db: Binding, M: number, N: number, accumulate = false, scale = 1): void {
  if (N === 0) return;
  launch({ shader: 'linear', entry: 'linear_bias_bwd', bindings: ['read', 'write', 'uniform'] },
    [dy, db], packParams([['u32', M], ['u32', N], ['u32', accumulate ? 1 : 0], ['f32', scale]]),
    [Math.ceil(N / BIAS_WG), 1, 1], `linear db [${M},${N}]`);
}

// ---- f64 CPU references ----
type Arr = ArrayLike<number>;

export function linearFwdCpu(x: Arr, w: Arr, bias: Arr | null, B: number, inF: number, outF: number): Float64Array {
  const y = new Float64Array(B * outF);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  }
  return y;
}

export function linearBwdCpu(x: Arr, w: Arr, dy: Arr, B: number, inF: number, outF: number): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(B * inF), dw = new Float64Array(outF * inF), db = new Float64Array(outF);
  for (let r = 0; r < B; r++) {
    for (let o = 0; o < outF; o++) {
      const g = dy[r * outF + o];
      db[o] += g;
      for (let i = 0; i < inF; i++) {
        dx[r * inF + i] += g * w[o * inF + i];
        dw[o * inF + i] += g * x[r * inF + i];
      }
    }
  }
  return { dx, dw, db };
}
