// conv2d version 2: implicit GEMM with workgroup-memory tiles, for GPUs (coalesced global
// loads, operands reused from workgroup memory). NCHW storage buffers, no layout changes.
// Per group g, C[m, n] = sum_k A(m, k) B(k, n), gathered on the fly:
//   fwd        m = (n, i, j) output pixel, n = o, k = (c, a, b): A = x at (i*sh - ph + a*dh, j*sw - pw + b*dw)
//              (zero outside), B = w[g*Cog + o, c, a, b]; C -> y[n, g*Cog + o, i, j] (+ bias)
//   bwd_input  m = (n, r, s) input pixel, n = c, k = (o, a, b): A = dy at ((r + ph - a*dh)/sh, (s + pw - b*dw)/sw)
//              where exact and inside, else zero; B = w[g*Cog + o, c, a, b]; C -> dx[n, g*Cig + c, r, s]
//   bwd_weight m = o, n = (c, a, b), k = (n, i, j) in one split of the pixels: A = dy, B = x as in fwd;
//              C -> partial[split, g*Cog + o, c, a, b] (partial_sum.wgsl sums the splits)
// Tiles: 64 (m) x 64 (n) x 16 (k), 256 invocations of 4 x 4 outputs each, strided by 16 so
// that neighbouring invocations touch neighbouring pixels (coalesced NCHW loads and stores).
const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
override HAS_BIAS: bool = false;

struct Tiled {
  n: u32, c: u32, h: u32, w: u32,
  co: u32, ho: u32, wo: u32, groups: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  ph: i32, pw: i32, dh: u32, dw: u32,
  cig: u32, cog: u32, a_base: u32, b_base: u32,
  m: u32, nn: u32, k: u32, k_split: u32,
  tiles_n: u32, o_base: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> src_a: array<f32>;
@group(0) @binding(1) var<storage, read> src_b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> params: Tiled;

var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

// Index of x[n, g*Cig + c, i*sh - ph + a*dh, j*sw - pw + b*dw] for output pixel q and
// k = (c, a, b), or -1 in the padding.
fn x_tap(p: Tiled, g: u32, q: u32, kk: u32) -> i32 {
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

fn load_a(mode: u32, p: Tiled, g: u32, m: u32, kk: u32) -> f32 {
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
  // bwd_weight: A = dy[n, g*Cog + m, i, j], k = output pixel
  let j = kk % p.wo;
  let i = (kk / p.wo) % p.ho;
  let n = kk / (p.wo * p.ho);
  return src_a[p.a_base + ((n * p.co + g * p.cog + m) * p.ho + i) * p.wo + j];
}

fn load_b(mode: u32, p: Tiled, g: u32, kk: u32, col: u32) -> f32 {
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

fn store(mode: u32, p: Tiled, g: u32, split: u32, m: u32, col: u32, v: f32) {
  if (m >= p.m || col >= p.nn) { return; }
  if (mode == 0u) {
    let plane = p.ho * p.wo;
    let n = m / plane;
    let o = g * p.cog + col;
    var r = v;
    if (HAS_BIAS) { r += bias[o]; }
    dst[p.o_base + (n * p.co + o) * plane + m % plane] = r;
  } else if (mode == 1u) {
    let plane = p.h * p.w;
    let n = m / plane;
    dst[p.o_base + (n * p.c + g * p.cig + col) * plane + m % plane] = v;
  } else {
    dst[split * p.co * p.nn + (g * p.cog + m) * p.nn + col] = v;
  }
}

fn tiled(mode: u32, wid: vec3u, nwg: vec3u, lid: u32) {
  let p = params;
  let tm = wid.x + wid.y * nwg.x;
  let tn = wid.z % p.tiles_n;
  let g = (wid.z / p.tiles_n) % p.groups;
  let split = wid.z / (p.tiles_n * p.groups);
  let m0 = tm * BM;
  let n0 = tn * BN;
  let k_begin = split * p.k_split;
  let k_end = min(p.k, k_begin + p.k_split);
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<f32, 16>;
  for (var k0 = k_begin; k0 < k_end; k0 += BK) {
    for (var q = 0u; q < 4u; q++) {
      let e = lid + 256u * q;
      // A: along m for the pixel-major gathers (coalesced), along k for dy in bwd_weight
      var mm = e % BM; var ka = e / BM;
      if (mode == 2u) { ka = e % BK; mm = e / BK; }
      let kg = k0 + ka;
      As[ka * BM + mm] = select(0.0, load_a(mode, p, g, m0 + mm, kg), kg < k_end);
      let kb = e % BK;
      let nb = e / BK;
      let kgb = k0 + kb;
      Bs[kb * BN + nb] = select(0.0, load_b(mode, p, g, kgb, n0 + nb), kgb < k_end);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var q = 0u; q < 4u; q++) {
        av[q] = As[kk * BM + tx + 16u * q];
        bv[q] = Bs[kk * BN + ty + 16u * q];
      }
      for (var q = 0u; q < 4u; q++) {
        for (var r = 0u; r < 4u; r++) { acc[q * 4u + r] = fma(av[q], bv[r], acc[q * 4u + r]); }
      }
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < 4u; q++) {
    for (var r = 0u; r < 4u; r++) { store(mode, p, g, split, m0 + tx + 16u * q, n0 + ty + 16u * r, acc[q * 4u + r]); }
  }
}

@compute @workgroup_size(256)
fn conv2d_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  tiled(0u, wid, nwg, lid);
}

@compute @workgroup_size(256)
fn conv2d_bwd_input_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  tiled(1u, wid, nwg, lid);
}

@compute @workgroup_size(256)
fn conv2d_bwd_weight_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  tiled(2u, wid, nwg, lid);
}
