// f64 CPU references for split attention (spec 1.5), written from the PyTorch reference's
// view/transpose/softmax/sum, the definition the GPU kernels are tested against.
// Shapes: x [N, R*C, H, W] (radix-major channels r*C + c), attention [N, R*C] radix-major,
// logits [N, R*C] cardinal-major (k*R*Cg + r*Cg + i).
type Arr = ArrayLike<number>;

export interface SplitShape { N: number; R: number; C: number; HW: number }

const xi = (s: SplitShape, n: number, r: number, c: number, p: number) => ((n * s.R + r) * s.C + c) * s.HW + p;

export function radixSumCpu(x: Arr, s: SplitShape): Float64Array {
  const out = new Float64Array(s.N * s.C * s.HW);
  for (let n = 0; n < s.N; n++) for (let c = 0; c < s.C; c++) for (let p = 0; p < s.HW; p++) {
    let v = 0;
    for (let r = 0; r < s.R; r++) v += x[xi(s, n, r, c, p)];
    out[(n * s.C + c) * s.HW + p] = v;
  }
  return out;
}

export function radixSumBwdCpu(ds: Arr, s: SplitShape): Float64Array {
  const dx = new Float64Array(s.N * s.R * s.C * s.HW);
  for (let n = 0; n < s.N; n++) for (let r = 0; r < s.R; r++) for (let c = 0; c < s.C; c++) for (let p = 0; p < s.HW; p++) {
    dx[xi(s, n, r, c, p)] = ds[(n * s.C + c) * s.HW + p];
  }
  return dx;
}

/** Global average of the radix sum: [N, C]. */
export function splitAttentionPoolCpu(x: Arr, s: SplitShape): Float64Array {
  const sum = radixSumCpu(x, s), out = new Float64Array(s.N * s.C);
  for (let j = 0; j < out.length; j++) {
    let v = 0;
    for (let p = 0; p < s.HW; p++) v += sum[j * s.HW + p];
    out[j] = v / s.HW;
  }
  return out;
}

export function splitAttentionPoolBwdCpu(dg: Arr, s: SplitShape): Float64Array {
  return radixSumBwdCpu(Float64Array.from({ length: s.N * s.C * s.HW }, (_, i) => dg[Math.floor(i / s.HW)] / s.HW), s);
}

/** The PyTorch reference: view [N, K, R, Cg], transpose to [N, R, K, Cg], softmax over R; sigmoid when R = 1. */
export function rSoftmaxCpu(z: Arr, N: number, R: number, C: number, K: number): Float64Array {
  const a = new Float64Array(N * R * C), Cg = C / K;
  if (R === 1) { for (let i = 0; i < a.length; i++) a[i] = 1 / (1 + Math.exp(-z[i])); return a; }
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let i = 0; i < Cg; i++) {
    const logits = Array.from({ length: R }, (_, r) => z[n * R * C + k * R * Cg + r * Cg + i]);
    const m = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - m)), total = e.reduce((p, q) => p + q, 0);
    for (let r = 0; r < R; r++) a[n * R * C + r * C + k * Cg + i] = e[r] / total;
  }
  return a;
}

export function rSoftmaxBwdCpu(a: Arr, da: Arr, N: number, R: number, C: number, K: number): Float64Array {
  const dz = new Float64Array(N * R * C), Cg = C / K;
  if (R === 1) { for (let i = 0; i < dz.length; i++) dz[i] = da[i] * a[i] * (1 - a[i]); return dz; }
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) for (let i = 0; i < Cg; i++) {
    const at = (r: number) => n * R * C + r * C + k * Cg + i;
    let dot = 0;
    for (let r = 0; r < R; r++) dot += a[at(r)] * da[at(r)];
    for (let r = 0; r < R; r++) dz[n * R * C + k * R * Cg + r * Cg + i] = a[at(r)] * (da[at(r)] - dot);
  }
  return dz;
}

export function splitAttentionCombineCpu(x: Arr, att: Arr, s: SplitShape): Float64Array {
  const y = new Float64Array(s.N * s.C * s.HW);
  for (let n = 0; n < s.N; n++) for (let c = 0; c < s.C; c++) for (let p = 0; p < s.HW; p++) {
    let v = 0;
    for (let r = 0; r < s.R; r++) v += att[(n * s.R + r) * s.C + c] * x[xi(s, n, r, c, p)];
    y[(n * s.C + c) * s.HW + p] = v;
  }
  return y;
}

export function splitAttentionCombineBwdCpu(x: Arr, att: Arr, dy: Arr, s: SplitShape): { dx: Float64Array; datt: Float64Array } {
  const dx = new Float64Array(s.N * s.R * s.C * s.HW), datt = new Float64Array(s.N * s.R * s.C);
  for (let n = 0; n < s.N; n++) for (let r = 0; r < s.R; r++) for (let c = 0; c < s.C; c++) {
    const j = (n * s.R + r) * s.C + c;
    for (let p = 0; p < s.HW; p++) {
      const g = dy[(n * s.C + c) * s.HW + p];
      dx[xi(s, n, r, c, p)] = att[j] * g;
      datt[j] += g * x[xi(s, n, r, c, p)];
    }
  }
  return { dx, datt };
}
