// f64 CPU references for pooling (PyTorch CPU semantics), the definition the GPU kernels are
// tested against, and PyTorch's output-size rule.
type Arr = ArrayLike<number>;

/** pool2d's shape: input [N, C, H, W], output [N, C, OH, OW], and the window (kernel, stride, padding, dilation). */
export interface Pool2dShape {
  N: number; C: number; H: number; W: number; OH: number; OW: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}
export interface AvgPoolMode { countIncludePad: boolean; divisorOverride?: number | null }

/** PyTorch's pooling_output_shape: with ceil mode the last window must start inside the input or left padding. */
export function poolOutputSize(size: number, k: number, pad: number, stride: number, dilation: number, ceilMode: boolean): number {
  const num = size + 2 * pad - dilation * (k - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(num / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

function forEachOutput(g: Pool2dShape, body: (plane: number, oh: number, ow: number, o: number) => void): void {
  let o = 0;
  for (let p = 0; p < g.N * g.C; p++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) body(p, oh, ow, o++);
}

const firstValid = (start: number, d: number) => { let s = start; while (s < 0) s += d; return s; };

export function maxPool2dFwdCpu(x: Arr, g: Pool2dShape): { y: Float64Array; indices: Int32Array } {
  const y = new Float64Array(g.N * g.C * g.OH * g.OW), indices = new Int32Array(y.length);
  forEachOutput(g, (p, oh, ow, o) => {
    const hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
    let best = -Infinity, arg = firstValid(hs, g.dh) * g.W + firstValid(ws, g.dw);
    for (let kh = 0; kh < g.kh; kh++) {
      const ih = hs + kh * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      for (let kw = 0; kw < g.kw; kw++) {
        const iw = ws + kw * g.dw;
        if (iw < 0 || iw >= g.W) continue;
        const v = x[(p * g.H + ih) * g.W + iw];
        if (v > best || Number.isNaN(v)) { best = v; arg = ih * g.W + iw; }
      }
    }
    y[o] = best; indices[o] = arg;
  });
  return { y, indices };
}

export function maxPool2dBwdCpu(dy: Arr, indices: Int32Array, g: Pool2dShape): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  forEachOutput(g, (p, _oh, _ow, o) => { dx[p * g.H * g.W + indices[o]] += dy[o]; });
  return dx;
}

function avgWindow(g: Pool2dShape, oh: number, ow: number, mode: AvgPoolMode) {
  const hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
  const he = Math.min(hs + g.kh, g.H + g.ph), we = Math.min(ws + g.kw, g.W + g.pw);
  const pool = (he - hs) * (we - ws);
  const h0 = Math.max(hs, 0), w0 = Math.max(ws, 0), h1 = Math.min(he, g.H), w1 = Math.min(we, g.W);
  const divisor = mode.divisorOverride ? mode.divisorOverride : mode.countIncludePad ? pool : (h1 - h0) * (w1 - w0);
  return { h0, w0, h1, w1, divisor };
}

export function avgPool2dFwdCpu(x: Arr, g: Pool2dShape, mode: AvgPoolMode): Float64Array {
  const y = new Float64Array(g.N * g.C * g.OH * g.OW);
  forEachOutput(g, (p, oh, ow, o) => {
    const w = avgWindow(g, oh, ow, mode);
    if (w.h0 >= w.h1 || w.w0 >= w.w1) { y[o] = 0; return; }
    let s = 0;
    for (let ih = w.h0; ih < w.h1; ih++) for (let iw = w.w0; iw < w.w1; iw++) s += x[(p * g.H + ih) * g.W + iw];
    y[o] = s / w.divisor;
  });
  return y;
}

export function avgPool2dBwdCpu(dy: Arr, g: Pool2dShape, mode: AvgPoolMode): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  forEachOutput(g, (p, oh, ow, o) => {
    const w = avgWindow(g, oh, ow, mode);
    for (let ih = w.h0; ih < w.h1; ih++) for (let iw = w.w0; iw < w.w1; iw++) dx[(p * g.H + ih) * g.W + iw] += dy[o] / w.divisor;
  });
  return dx;
}

const start = (o: number, i: number, n: number) => Math.floor((o * i) / n);
const end = (o: number, i: number, n: number) => Math.ceil(((o + 1) * i) / n);

/** x: [N, C, H, W] -> [N, C, OH, OW] with PyTorch's adaptive windows. */
export function adaptiveAvgPool2dFwdCpu(x: Arr, shape: readonly number[], OH: number, OW: number): Float64Array {
  const [N, C, H, W] = shape;
  const y = new Float64Array(N * C * OH * OW);
  let o = 0;
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let s = 0;
        const h0 = start(oh, H, OH), h1 = end(oh, H, OH), w0 = start(ow, W, OW), w1 = end(ow, W, OW);
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += x[(p * H + ih) * W + iw];
        y[o++] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return y;
}

export function adaptiveAvgPool2dBwdCpu(dy: Arr, shape: readonly number[], OH: number, OW: number): Float64Array {
  const [N, C, H, W] = shape;
  const dx = new Float64Array(N * C * H * W);
  let o = 0;
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = start(oh, H, OH), h1 = end(oh, H, OH), w0 = start(ow, W, OW), w1 = end(ow, W, OW);
        const g = dy[o++] / ((h1 - h0) * (w1 - w0));
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[(p * H + ih) * W + iw] += g;
      }
    }
  }
  return dx;
}
