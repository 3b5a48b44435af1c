// Shared by conv2d v2 (conv2d_tiled) and v5 (conv2d_gemm); included with
// `//! include conv2d_gemm_tile`: the implicit GEMM's operand gathers and its workgroup tile.
// Per group g, C[m, n] = sum_k A(m, k) B(k, n), gathered on the fly from NCHW storage buffers:
//   mode 0 fwd        m = (n, i, j) output pixel, n = o, k = (c, a, b): A = x at the tap (zero
//                     outside), B = w[g*Cog + o, c, a, b]
//   mode 1 bwd_input  m = (n, r, s) input pixel, n = c, k = (o, a, b): A = dy at
//                     ((r + ph - a*dh)/sh, (s + pw - b*dw)/sw) where exact and inside, else zero;
//                     B = w[g*Cog + o, c, a, b]
//   mode 2 bwd_weight m = o, n = (c, a, b), k = (n, i, j) output pixels: A = dy, B = x at the tap
// Tile: BM (m) x BN (n) x BK (k) in workgroup memory (override constants, 64 x 64 x 16 unless
// the host sets them); (BM/4) x (BN/4) invocations of 4 x 4 outputs each, strided by BM/4 and
// BN/4 so that neighbouring invocations touch neighbouring pixels (coalesced NCHW loads and
// stores). Each including kernel stores the 4 x 4 results its own way.
//! include conv2d_gemm_geometry
override BM: u32 = 64u;
override BN: u32 = 64u;
override BK: u32 = 16u;
override WG: u32 = (BM / 4u) * (BN / 4u);

@group(0) @binding(0) var<storage, read> src_a: array<f32>;
@group(0) @binding(1) var<storage, read> src_b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> params: Gemm;

var<workgroup> As: array<f32, BK * BM>; // [BK][BM]
var<workgroup> Bs: array<f32, BK * BN>; // [BK][BN]

fn load_a(mode: u32, p: Gemm, g: u32, m: u32, kk: u32) -> f32 {
  if (m >= p.m || kk >= p.k) { return 0.0; }
  if (mode == 0u) {
    let at = x_tap(p, g, m, kk);
    return select(0.0, src_a[p.a_base + u32(max(at, 0))], at >= 0);
  }
  if (mode == 1u) {
    let taps = p.kh * p.kw;
    let o = kk / taps;
    let a = (kk % taps) / p.kw;
    let b = kk % p.kw;
    let s = m % p.w;
    let r = (m / p.w) % p.h;
    let n = m / (p.w * p.h);
    let th = i32(r) + p.ph - i32(a * p.dh);
    let tw = i32(s) + p.pw - i32(b * p.dw);
    if (th < 0 || tw < 0 || u32(th) % p.sh != 0u || u32(tw) % p.sw != 0u) { return 0.0; }
    let i = u32(th) / p.sh;
    let j = u32(tw) / p.sw;
    if (i >= p.ho || j >= p.wo) { return 0.0; }
    return src_a[p.a_base + ((n * p.co + g * p.cog + o) * p.ho + i) * p.wo + j];
  }
  let j = kk % p.wo;
  let i = (kk / p.wo) % p.ho;
  let n = kk / (p.wo * p.ho);
  return src_a[p.a_base + ((n * p.co + g * p.cog + m) * p.ho + i) * p.wo + j];
}

fn load_b(mode: u32, p: Gemm, g: u32, kk: u32, col: u32) -> f32 {
  if (kk >= p.k || col >= p.nn) { return 0.0; }
  let taps = p.kh * p.kw;
  if (mode == 0u) { return src_b[(g * p.cog + col) * p.cig * taps + kk]; }
  if (mode == 1u) {
    let o = kk / taps;
    return src_b[((g * p.cog + o) * p.cig + col) * taps + kk % taps];
  }
  let at = x_tap(p, g, kk, col);
  return select(0.0, src_b[p.b_base + u32(max(at, 0))], at >= 0);
}

// The 4 x 4 sums of invocation lid over k in [k_begin, k_end) for the tile at (m0, n0) of group
// g: acc[q*4 + r] belongs to row m0 + lid % (BM/4) + (BM/4)*q, column n0 + lid / (BM/4) + (BN/4)*r.
fn gemm_tile(mode: u32, p: Gemm, g: u32, m0: u32, n0: u32, k_begin: u32, k_end: u32, lid: u32) -> array<f32, 16> {
  let sm = BM / 4u;
  let sn = BN / 4u;
  let tx = lid % sm;
  let ty = lid / sm;
  var acc: array<f32, 16>;
  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    // A: along m for the pixel-major gathers (coalesced), along k for dy in bwd_weight
    for (var e = lid; e < BK * BM; e += WG) {
      var mm = e % BM; var ka = e / BM;
      if (mode == 2u) { ka = e % BK; mm = e / BK; }
      let kg = k0 + ka;
      As[ka * BM + mm] = select(0.0, load_a(mode, p, g, m0 + mm, kg), kg < k_end);
    }
    for (var e = lid; e < BK * BN; e += WG) {
      let kb = e % BK;
      let nb = e / BK;
      let kg = k0 + kb;
      Bs[kb * BN + nb] = select(0.0, load_b(mode, p, g, kg, n0 + nb), kg < k_end);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var q = 0u; q < 4u; q++) {
        av[q] = As[kk * BM + tx + sm * q];
        bv[q] = Bs[kk * BN + ty + sn * q];
      }
      for (var q = 0u; q < 4u; q++) {
        for (var r = 0u; r < 4u; r++) { acc[q * 4u + r] = fma(av[q], bv[r], acc[q * 4u + r]); }
      }
    }
    workgroupBarrier();
  }
  return acc;
}
