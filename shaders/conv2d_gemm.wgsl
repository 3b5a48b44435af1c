// conv2d version 5: implicit GEMM for GPUs with the tile sizes as parameters and one dispatch
// per pass (the weight gradient reduces over all pixels in its workgroup, no partials pass).
// NCHW storage buffers. Per group g, C[m, n] = sum_k A(m, k) B(k, n), gathered on the fly:
//   fwd        m = (n, i, j) output pixel, n = o, k = (c, a, b): A = x at (i*sh - ph + a*dh, j*sw - pw + b*dw)
//              (zero outside), B = w[g*Cog + o, c, a, b]; C -> y[n, g*Cog + o, i, j] (+ bias)
//   bwd_input  m = (n, r, s) input pixel, n = c, k = (o, a, b): A = dy at ((r + ph - a*dh)/sh, (s + pw - b*dw)/sw)
//              where exact and inside, else zero; B = w[g*Cog + o, c, a, b]; C -> dx[n, g*Cig + c, r, s]
//   bwd_weight m = o, n = (c, a, b), k = (n, i, j) every output pixel: A = dy, B = x as in fwd;
//              C -> dw[g*Cog + o, c, a, b] (+ dw when accumulating over batch chunks)
// Tiles: BM (m) x BN (n) x BK (k) in workgroup memory, override constants chosen by the host;
// (BM/4) x (BN/4) invocations of 4 x 4 outputs each, strided by BM/4 and BN/4 so that
// neighbouring invocations touch neighbouring pixels (coalesced NCHW loads and stores).
override BM: u32 = 64u;
override BN: u32 = 64u;
override BK: u32 = 16u;
override HAS_BIAS: bool = false;
override WG: u32 = (BM / 4u) * (BN / 4u);

struct Gemm {
  n: u32, c: u32, h: u32, w: u32,
  co: u32, ho: u32, wo: u32, groups: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  ph: i32, pw: i32, dh: u32, dw: u32,
  cig: u32, cog: u32, a_base: u32, b_base: u32,
  m: u32, nn: u32, k: u32, accumulate: u32,
  tiles_n: u32, o_base: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> src_a: array<f32>;
@group(0) @binding(1) var<storage, read> src_b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> params: Gemm;

var<workgroup> As: array<f32, BK * BM>; // [BK][BM]
var<workgroup> Bs: array<f32, BK * BN>; // [BK][BN]

// Index of x[n, g*Cig + c, i*sh - ph + a*dh, j*sw - pw + b*dw] for output pixel q and
// k = (c, a, b), or -1 in the padding.
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

fn store(mode: u32, p: Gemm, g: u32, m: u32, col: u32, v: f32) {
  if (m >= p.m || col >= p.nn) { return; }
  if (mode == 0u) {
    let plane = p.ho * p.wo;
    let o = g * p.cog + col;
    var r = v;
    if (HAS_BIAS) { r += bias[o]; }
    dst[p.o_base + (m / plane * p.co + o) * plane + m % plane] = r;
  } else if (mode == 1u) {
    let plane = p.h * p.w;
    dst[p.o_base + (m / plane * p.c + g * p.cig + col) * plane + m % plane] = v;
  } else {
    let at = (g * p.cog + m) * p.nn + col;
    dst[at] = select(v, v + dst[at], p.accumulate != 0u);
  }
}

fn gemm(mode: u32, wid: vec3u, nwg: vec3u, lid: u32) {
  let p = params;
  let tm = wid.x + wid.y * nwg.x;
  let tn = wid.z % p.tiles_n;
  let g = wid.z / p.tiles_n;
  let m0 = tm * BM;
  let n0 = tn * BN;
  let sm = BM / 4u;
  let sn = BN / 4u;
  let tx = lid % sm;
  let ty = lid / sm;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    // A: along m for the pixel-major gathers (coalesced), along k for dy in bwd_weight
    for (var e = lid; e < BK * BM; e += WG) {
      var mm = e % BM; var ka = e / BM;
      if (mode == 2u) { ka = e % BK; mm = e / BK; }
      As[ka * BM + mm] = load_a(mode, p, g, m0 + mm, k0 + ka);
    }
    for (var e = lid; e < BK * BN; e += WG) {
      let kb = e % BK;
      let nb = e / BK;
      Bs[kb * BN + nb] = load_b(mode, p, g, k0 + kb, n0 + nb);
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
  for (var q = 0u; q < 4u; q++) {
    for (var r = 0u; r < 4u; r++) { store(mode, p, g, m0 + tx + sm * q, n0 + ty + sn * r, acc[q * 4u + r]); }
  }
}

@compute @workgroup_size(WG)
fn conv2d_fwd_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  gemm(0u, wid, nwg, lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_input_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  gemm(1u, wid, nwg, lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  gemm(2u, wid, nwg, lid);
}
