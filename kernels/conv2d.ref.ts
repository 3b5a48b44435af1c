// f64 CPU reference of the conv2d family: the definition every GPU version is tested against.
// Layouts as in PyTorch: x [N, C, H, W], weight [Co, C/groups, KH, KW], y [N, Co, Ho, Wo].
//   y[n,o,i,j]      = bias[o] + sum_{c,a,b} x[n, g*Cig + c, i*sh - ph + a*dh, j*sw - pw + b*dw] * w[o,c,a,b]
//   dX[n,g*Cig+c,.] = sum over the (o, a, b) that read that input pixel of dY[n,o,i,j] * w[o,c,a,b]
//   dW[o,c,a,b]     = sum_{n,i,j} dY[n,o,i,j] * x[n, g*Cig + c, i*sh - ph + a*dh, j*sw - pw + b*dw]
// with g = o / Cog the group of output channel o; taps that land in the padding read zero.

export interface Conv2dGeometry {
  n: number; c: number; h: number; w: number;       // input
  co: number; ho: number; wo: number;                // output
  kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  groups: number;
}

type Arr = ArrayLike<number>;

export const cig = (g: Conv2dGeometry): number => g.c / g.groups;
export const cog = (g: Conv2dGeometry): number => g.co / g.groups;

/** Output size along one axis (PyTorch's formula); <= 0 means the input is too small. */
export function convOutSize(size: number, k: number, stride: number, pad: number, dil: number): number {
  return Math.floor((size + 2 * pad - dil * (k - 1) - 1) / stride) + 1;
}

/** Multiply-adds of the forward pass; dX and dW have the same count. */
export function conv2dMacs(g: Conv2dGeometry): number {
  return g.n * g.co * g.ho * g.wo * cig(g) * g.kh * g.kw;
}

/** Calls visit(xIndex, yIndex, wIndex) for every multiply-add of the forward pass. */
function forEachTap(g: Conv2dGeometry, visit: (xi: number, yi: number, wi: number) => void): void {
  const ci = cig(g), co = cog(g);
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.co; o++) {
      const grp = Math.floor(o / co);
      for (let i = 0; i < g.ho; i++) {
        for (let j = 0; j < g.wo; j++) {
          const yi = ((n * g.co + o) * g.ho + i) * g.wo + j;
          for (let c = 0; c < ci; c++) {
            const xc = (n * g.c + grp * ci + c) * g.h;
            for (let a = 0; a < g.kh; a++) {
              const ih = i * g.sh - g.ph + a * g.dh;
              if (ih < 0 || ih >= g.h) continue;
              for (let b = 0; b < g.kw; b++) {
                const iw = j * g.sw - g.pw + b * g.dw;
                if (iw < 0 || iw >= g.w) continue;
                visit((xc + ih) * g.w + iw, yi, ((o * ci + c) * g.kh + a) * g.kw + b);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dFwdCpu(g: Conv2dGeometry, x: Arr, w: Arr, bias?: Arr | null): Float64Array {
  const y = new Float64Array(g.n * g.co * g.ho * g.wo);
  if (bias) {
    const plane = g.ho * g.wo;
    for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / plane) % g.co];
  }
  forEachTap(g, (xi, yi, wi) => { y[yi] += x[xi] * w[wi]; });
  return y;
}

export function conv2dBwdInputCpu(g: Conv2dGeometry, dy: Arr, w: Arr): Float64Array {
  const dx = new Float64Array(g.n * g.c * g.h * g.w);
  forEachTap(g, (xi, yi, wi) => { dx[xi] += dy[yi] * w[wi]; });
  return dx;
}

export function conv2dBwdWeightCpu(g: Conv2dGeometry, x: Arr, dy: Arr): Float64Array {
  const dw = new Float64Array(g.co * cig(g) * g.kh * g.kw);
  forEachTap(g, (xi, yi, wi) => { dw[wi] += dy[yi] * x[xi]; });
  return dw;
}

export function conv2dBwdBiasCpu(g: Conv2dGeometry, dy: Arr): Float64Array {
  const db = new Float64Array(g.co);
  const plane = g.ho * g.wo;
  for (let i = 0; i < g.n * g.co * plane; i++) db[Math.floor(i / plane) % g.co] += dy[i];
  return db;
}

// Single values of the same sums, for sampled checks of shapes too big for the full reference.
export function conv2dFwdAt(g: Conv2dGeometry, x: Arr, w: Arr, yi: number): number {
  const j = yi % g.wo, i = Math.floor(yi / g.wo) % g.ho, o = Math.floor(yi / (g.wo * g.ho)) % g.co;
  const n = Math.floor(yi / (g.wo * g.ho * g.co)), ci = cig(g), grp = Math.floor(o / cog(g));
  let s = 0;
  for (let c = 0; c < ci; c++) {
    for (let a = 0; a < g.kh; a++) {
      const ih = i * g.sh - g.ph + a * g.dh;
      if (ih < 0 || ih >= g.h) continue;
      for (let b = 0; b < g.kw; b++) {
        const iw = j * g.sw - g.pw + b * g.dw;
        if (iw >= 0 && iw < g.w) s += x[((n * g.c + grp * ci + c) * g.h + ih) * g.w + iw] * w[((o * ci + c) * g.kh + a) * g.kw + b];
      }
    }
  }
  return s;
}

export function conv2dBwdInputAt(g: Conv2dGeometry, dy: Arr, w: Arr, xi: number): number {
  const iw = xi % g.w, ih = Math.floor(xi / g.w) % g.h, cc = Math.floor(xi / (g.w * g.h)) % g.c;
  const n = Math.floor(xi / (g.w * g.h * g.c)), ci = cig(g), co = cog(g), grp = Math.floor(cc / ci), c = cc % ci;
  let s = 0;
  for (let o = grp * co; o < (grp + 1) * co; o++) {
    for (let a = 0; a < g.kh; a++) {
      const th = ih + g.ph - a * g.dh;
      if (th < 0 || th % g.sh !== 0 || th / g.sh >= g.ho) continue;
      for (let b = 0; b < g.kw; b++) {
        const tw = iw + g.pw - b * g.dw;
        if (tw < 0 || tw % g.sw !== 0 || tw / g.sw >= g.wo) continue;
        s += dy[((n * g.co + o) * g.ho + th / g.sh) * g.wo + tw / g.sw] * w[((o * ci + c) * g.kh + a) * g.kw + b];
      }
    }
  }
  return s;
}

export function conv2dBwdWeightAt(g: Conv2dGeometry, x: Arr, dy: Arr, wi: number): number {
  const b = wi % g.kw, a = Math.floor(wi / g.kw) % g.kh, ci = cig(g), c = Math.floor(wi / (g.kw * g.kh)) % ci;
  const o = Math.floor(wi / (g.kw * g.kh * ci)), grp = Math.floor(o / cog(g));
  let s = 0;
  for (let n = 0; n < g.n; n++) {
    for (let i = 0; i < g.ho; i++) {
      const ih = i * g.sh - g.ph + a * g.dh;
      if (ih < 0 || ih >= g.h) continue;
      for (let j = 0; j < g.wo; j++) {
        const iw = j * g.sw - g.pw + b * g.dw;
        if (iw >= 0 && iw < g.w) s += dy[((n * g.co + o) * g.ho + i) * g.wo + j] * x[((n * g.c + grp * ci + c) * g.h + ih) * g.w + iw];
      }
    }
  }
  return s;
}
