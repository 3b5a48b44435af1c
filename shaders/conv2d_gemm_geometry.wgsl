// Shared by the implicit-GEMM convolutions (conv2d_tiled, conv2d_gemm, conv2d_gemm_sg; included
// with `//! include conv2d_gemm_geometry`): the uniform block every one of them takes, and the
// input tap x[n, g*Cig + c, i*sh - ph + a*dh, j*sw - pw + b*dw] of output pixel q = (n, i, j)
// and reduction index k = (c, a, b).
//   m, nn, k: the GEMM's sizes; k_split: pixels per split of a split weight gradient (v2; k
//   otherwise); tiles_n: column tiles per group; a_base, b_base, o_base: element offsets of a
//   batch chunk; accumulate: dW (v5, v6) or dX (v2, v5) += instead of =.
struct Gemm {
  n: u32, c: u32, h: u32, w: u32,
  co: u32, ho: u32, wo: u32, groups: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  ph: i32, pw: i32, dh: u32, dw: u32,
  cig: u32, cog: u32, a_base: u32, b_base: u32,
  m: u32, nn: u32, k: u32, k_split: u32,
  tiles_n: u32, o_base: u32, accumulate: u32, _pad: u32,
}

// Index of the tap in x (from the chunk's start), or -1 in the padding.
fn x_tap(p: Gemm, g: u32, q: u32, kk: u32) -> i32 {
  let taps = p.kh * p.kw;
  let c = kk / taps;
  let a = (kk % taps) / p.kw;
  let b = kk % p.kw;
  let j = q % p.wo;
  let i = (q / p.wo) % p.ho;
  let n = q / (p.wo * p.ho);
  let r = i32(i * p.sh + a * p.dh) - p.ph;
  let s = i32(j * p.sw + b * p.dw) - p.pw;
  if (r < 0 || r >= i32(p.h) || s < 0 || s >= i32(p.w)) { return -1; }
  return i32(((n * p.c + g * p.cig + c) * p.h + u32(r)) * p.w + u32(s));
}
