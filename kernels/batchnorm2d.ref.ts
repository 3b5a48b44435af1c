// f64 CPU reference for batch norm 2d (PyTorch semantics, docs/kernels/batchnorm2d.md):
// the definition the GPU kernels are tested against. Two-pass mean then variance.
type Arr = ArrayLike<number>;

export interface BatchNormCpuOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  relu?: boolean;
  runningMean?: Arr | null;
  runningVar?: Arr | null;
  weight?: Arr | null;
  bias?: Arr | null;
  residual?: Arr | null;
}

export interface BatchNormCpuForward {
  y: Float64Array;
  mean: Float64Array;       // the statistics used to normalise (batch or running)
  invstd: Float64Array;
  runningMean: Float64Array | null;  // updated copies (training), or the inputs (eval)
  runningVar: Float64Array | null;
}

export function batchNorm2dFwdCpu(x: Arr, shape: readonly number[], o: BatchNormCpuOptions): BatchNormCpuForward {
  const [N, C, H, W] = shape;
  const HW = H * W, M = N * HW, eps = o.eps ?? 1e-5, momentum = o.momentum ?? 0.1;
  const mean = new Float64Array(C), invstd = new Float64Array(C);
  const rm = o.runningMean ? Float64Array.from(o.runningMean) : null;
  const rv = o.runningVar ? Float64Array.from(o.runningVar) : null;
  for (let c = 0; c < C; c++) {
    let m: number, v: number;
    if (o.training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) s += x[(n * C + c) * HW + k];
      m = s / M;
      let s2 = 0;
      for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) { const d = x[(n * C + c) * HW + k] - m; s2 += d * d; }
      v = s2 / M;
      if (rm && rv) {
        rm[c] = (1 - momentum) * rm[c] + momentum * m;
        rv[c] = (1 - momentum) * rv[c] + momentum * (s2 / (M - 1));
      }
    } else {
      m = o.runningMean![c];
      v = o.runningVar![c];
    }
    mean[c] = m;
    invstd[c] = 1 / Math.sqrt(v + eps);
  }
  const y = new Float64Array(N * C * HW);
  for (let i = 0; i < y.length; i++) {
    const c = Math.floor(i / HW) % C;
    let v = (x[i] - mean[c]) * invstd[c] * (o.weight ? o.weight[c] : 1) + (o.bias ? o.bias[c] : 0);
    if (o.residual) v += o.residual[i];
    y[i] = o.relu ? Math.max(v, 0) : v;
  }
  return { y, mean, invstd, runningMean: rm, runningVar: rv };
}

export interface BatchNormCpuBackward { dx: Float64Array; dweight: Float64Array; dbias: Float64Array; dresidual: Float64Array }

/** Gradients of the forward above; `y` (its output) masks dy when relu was fused. */
export function batchNorm2dBwdCpu(x: Arr, dy: Arr, shape: readonly number[], fwd: BatchNormCpuForward,
  o: { training: boolean; weight?: Arr | null; relu?: boolean }): BatchNormCpuBackward {
  const [N, C, H, W] = shape;
  const HW = H * W, M = N * HW;
  const g = Float64Array.from(dy, (v, i) => (o.relu && !(fwd.y[i] > 0) ? 0 : v));
  const dweight = new Float64Array(C), dbias = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < HW; k++) {
        const i = (n * C + c) * HW + k;
        dbias[c] += g[i];
        dweight[c] += g[i] * (x[i] - fwd.mean[c]) * fwd.invstd[c];
      }
    }
  }
  const dx = new Float64Array(g.length);
  for (let i = 0; i < dx.length; i++) {
    const c = Math.floor(i / HW) % C;
    const a = (o.weight ? o.weight[c] : 1) * fwd.invstd[c];
    if (!o.training) { dx[i] = a * g[i]; continue; }
    const xhat = (x[i] - fwd.mean[c]) * fwd.invstd[c];
    dx[i] = (a / M) * (M * g[i] - dbias[c] - xhat * dweight[c]);
  }
  return { dx, dweight, dbias, dresidual: g };
}
