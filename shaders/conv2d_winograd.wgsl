// conv2d version 9: Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (forward, and dX as the
// stride-1 convolution of dY with the transposed, flipped weights), the 16 products as one
// grouped pointwise GEMM on v7's forward kernel (conv2d_sgtex.wgsl). Lavin & Gray's transforms:
//   V = B^T d B (a 4x4 input patch per 2x2 output tile), U = G w G^T, M = U (.) V summed over
//   input channels, y = A^T M A, where
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1]
// 2.25x fewer multiplies than the direct sum; each output is 4 transform adds and the GEMM's
// chain away from it (error against the f64 reference: docs/kernels/conv2d.md).
// Layouts, e = 4r + s the element of the 4x4 transform, G groups of the convolution, T tiles of
// the batch (n, ty, tx), c4g texels of 4 read channels a group, the GEMM's group e*G + g:
//   grid texel ((e*G + g)*T + tile)*c4g + c4 = V_e[tile, g*cg + 4*c4 + 0..3]
//   wtex texel as v7's pack with one tap and 16*G groups (conv2d_sgtex_pack.wgsl)
// (each GEMM group's operand contiguous: tiles 16*G*c4g texels apart ran the GEMM 1.4x slower)
//   M[((e*G + g)*cog_w + o)*T + tile]                 (the GEMM's output, NCHW of one "sample")
// conv2d_winograd_pack: invocations [0, in_threads) transform one (group, tile, texel of
// channels) each, channel texels fastest so that neighbouring lanes store neighbouring texels
// (tiles fastest, reading neighbouring pixels, ran 2-2.6x slower: scattered stores cost more
// than scattered reads on a CPU); the rest transform
// one (group, texel of 4 written channels, read channel) of the weights each into its 16 texels. conv2d_winograd_out: one (channel, tile) each, tiles fastest.
// conv2d_winograd_pack_tex: the same, the source read as it lies from a texture (rows of even length).
override WG: u32 = 64;
override HAS_BIAS: bool = false;

struct Pack {
  n: u32, c: u32, h: u32, w: u32,          // the source tensor (x, or dY for dX)
  groups: u32, cg: u32, c4g: u32, th: u32, // channels read a group, texels of them; tile rows
  tw: u32, offh: i32, offw: i32, base: u32, // tile columns; input origin of tile (0, 0); source offset
  in_threads: u32, transposed: u32, cig: u32, cog: u32, // the weights: forward or dX's view
  ncb: u32, b: u32, w_threads: u32, _pad: u32, // blocks of 32 written channels a group, written a group
}

struct Out {
  tiles: u32, cog_w: u32, dst_c: u32, th: u32,
  tw: u32, oh: u32, ow: u32, base: u32,
  total: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
// the source as it lies copied into a texture, read only by conv2d_winograd_pack_tex (no entry point uses both)
@group(0) @binding(0) var src_tex: texture_storage_2d<rgba32float, read>;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;
// the parity of a patch row's first element within the source (planes and rows of even length: offw's)
override LEAD_PARITY: u32 = 0u;
@group(0) @binding(1) var<storage, read> wsrc: array<f32>;
@group(0) @binding(2) var<storage, read_write> grid_out: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> w_out: array<vec4f>;
@group(0) @binding(4) var<uniform> pack: Pack;

fn patch_value(p: Pack, plane: u32, chan_ok: bool, y: i32, x: i32) -> f32 {
  if (!chan_ok || y < 0 || x < 0 || u32(y) >= p.h || u32(x) >= p.w) { return 0.0; }
  return src[plane + u32(y) * p.w + u32(x)];
}

// row r of the 4x4 patch, 4 channels at once (lane k of each vec4 is channel 4*c4 + k)
fn patch_row(p: Pack, planes: array<u32, 4>, ok: vec4<bool>, y: i32, x0: i32) -> array<vec4f, 4> {
  var row: array<vec4f, 4>;
  for (var s = 0; s < 4; s++) {
    row[s] = vec4f(patch_value(p, planes[0], ok.x, y, x0 + s), patch_value(p, planes[1], ok.y, y, x0 + s),
                   patch_value(p, planes[2], ok.z, y, x0 + s), patch_value(p, planes[3], ok.w, y, x0 + s));
  }
  return row;
}

// a row of t = B^T d times B
fn times_b(t: array<vec4f, 4>) -> array<vec4f, 4> {
  return array<vec4f, 4>(t[0] - t[2], t[1] + t[2], t[2] - t[1], t[1] - t[3]);
}

// invocation i's tile: its group, tile, texel of channels, the 4 channels' planes, which exist, the patch origin
struct InPlace { g: u32, tile: u32, c4: u32, planes: array<u32, 4>, ok: vec4<bool>, y0: i32, x0: i32 }

fn input_place(p: Pack, i: u32) -> InPlace {
  let tiles = p.n * p.th * p.tw;
  let c4 = i % p.c4g;
  let tile = (i / p.c4g) % tiles;
  let g = i / (tiles * p.c4g);
  let n = tile / (p.th * p.tw);
  let ty = (tile / p.tw) % p.th;
  let tx = tile % p.tw;
  var planes: array<u32, 4>;
  var ok: vec4<bool>;
  for (var k = 0u; k < 4u; k++) {
    let cl = 4u * c4 + k;
    ok[k] = cl < p.cg;
    planes[k] = p.base + (n * p.c + g * p.cg + min(cl, p.cg - 1u)) * p.h * p.w;
  }
  return InPlace(g, tile, c4, planes, ok, i32(2u * ty) + p.offh, i32(2u * tx) + p.offw);
}

// V = B^T d B of the 4x4 patch d0..d3 (rows; lane k of each vec4 is channel 4*c4 + k) into its 16 texels
fn store_input(p: Pack, at: InPlace, d0: array<vec4f, 4>, d1: array<vec4f, 4>, d2: array<vec4f, 4>, d3: array<vec4f, 4>) {
  var v: array<array<vec4f, 4>, 4>;
  for (var s = 0; s < 4; s++) { // rows of B^T d
    v[0][s] = d0[s] - d2[s]; v[1][s] = d1[s] + d2[s]; v[2][s] = d2[s] - d1[s]; v[3][s] = d1[s] - d3[s];
  }
  let tiles = p.n * p.th * p.tw;
  let e_stride = p.groups * tiles * p.c4g;
  let base = (at.g * tiles + at.tile) * p.c4g + at.c4;
  for (var r = 0u; r < 4u; r++) {
    let row = times_b(v[r]);
    for (var s = 0u; s < 4u; s++) { grid_out[base + (4u * r + s) * e_stride] = row[s]; }
  }
}

fn input_texels(p: Pack, i: u32) {
  let at = input_place(p, i);
  store_input(p, at, patch_row(p, at.planes, at.ok, at.y0, at.x0), patch_row(p, at.planes, at.ok, at.y0 + 1, at.x0),
    patch_row(p, at.planes, at.ok, at.y0 + 2, at.x0), patch_row(p, at.planes, at.ok, at.y0 + 3, at.x0));
}

fn src_texel(t: i32) -> vec4f {
  let u = u32(max(t, 0));
  return textureLoad(src_tex, vec2u(u & TW_MASK, u >> LOG_TW));
}

// columns x0..x0+3 of row y of one channel's plane from the two texels that hold them (the first
// element at LEAD_PARITY or 2 more within the first), zero outside the plane and past the channels
fn chan_row_tex(p: Pack, plane: u32, ok: bool, y: i32, x0: i32) -> vec4f {
  let at = i32(plane) + y * i32(p.w) + x0;
  let q = at >> 2u;
  let t0 = src_texel(q);
  let t1 = src_texel(q + 1);
  let f = array<f32, 8>(t0.x, t0.y, t0.z, t0.w, t1.x, t1.y, t1.z, t1.w);
  let hi = at - 4 * q >= 2;
  let row_ok = ok && y >= 0 && u32(y) < p.h;
  var v: vec4f;
  for (var s = 0u; s < 4u; s++) {
    let xs = x0 + i32(s);
    v[s] = select(0.0, select(f[LEAD_PARITY + s], f[LEAD_PARITY + 2u + s], hi), row_ok && xs >= 0 && u32(xs) < p.w);
  }
  return v;
}

// patch_row from the source's texels: two fetches a channel instead of four loads
fn patch_row_tex(p: Pack, planes: array<u32, 4>, ok: vec4<bool>, y: i32, x0: i32) -> array<vec4f, 4> {
  let a = chan_row_tex(p, planes[0], ok.x, y, x0);
  let b = chan_row_tex(p, planes[1], ok.y, y, x0);
  let c = chan_row_tex(p, planes[2], ok.z, y, x0);
  let d = chan_row_tex(p, planes[3], ok.w, y, x0);
  return array<vec4f, 4>(vec4f(a.x, b.x, c.x, d.x), vec4f(a.y, b.y, c.y, d.y), vec4f(a.z, b.z, c.z, d.z), vec4f(a.w, b.w, c.w, d.w));
}

fn input_texels_tex(p: Pack, i: u32) {
  let at = input_place(p, i);
  store_input(p, at, patch_row_tex(p, at.planes, at.ok, at.y0, at.x0), patch_row_tex(p, at.planes, at.ok, at.y0 + 1, at.x0),
    patch_row_tex(p, at.planes, at.ok, at.y0 + 2, at.x0), patch_row_tex(p, at.planes, at.ok, at.y0 + 3, at.x0));
}

// w'[g, a, b, tap] of the convolution run: forward w[g*cog + b, a, tap], dX w[g*cog + a, b, 8 - tap]
fn weight(p: Pack, g: u32, a: u32, b: u32, tap: u32) -> f32 {
  if (p.transposed == 0u) { return wsrc[((g * p.cog + b) * p.cig + a) * 9u + tap]; }
  return wsrc[((g * p.cog + a) * p.cig + b) * 9u + 8u - tap];
}

// G w G^T for the 4 written channels b..b+3 of read channel a, group g: element e of channel b + k is u[e][k]
fn transformed(p: Pack, g: u32, a: u32, b: u32) -> array<vec4f, 16> {
  var w: array<array<vec4f, 3>, 3>; // w[i][j] = w'[g, a, b + 0..3, tap 3i + j]
  for (var i = 0u; i < 3u; i++) {
    for (var j = 0u; j < 3u; j++) {
      var v = vec4f(0.0);
      for (var k = 0u; k < 4u; k++) {
        if (a < p.cg && b + k < p.b) { v[k] = weight(p, g, a, b + k, 3u * i + j); }
      }
      w[i][j] = v;
    }
  }
  var gw: array<array<vec4f, 3>, 4>; // G w
  for (var j = 0u; j < 3u; j++) {
    gw[0][j] = w[0][j];
    gw[1][j] = 0.5 * (w[0][j] + w[1][j] + w[2][j]);
    gw[2][j] = 0.5 * (w[0][j] - w[1][j] + w[2][j]);
    gw[3][j] = w[2][j];
  }
  var u: array<vec4f, 16>;
  for (var r = 0u; r < 4u; r++) { // (G w) G^T
    u[4u * r] = gw[r][0];
    u[4u * r + 1u] = 0.5 * (gw[r][0] + gw[r][1] + gw[r][2]);
    u[4u * r + 2u] = 0.5 * (gw[r][0] - gw[r][1] + gw[r][2]);
    u[4u * r + 3u] = gw[r][2];
  }
  return u;
}

// texel (cbg*KC + c4)*32 + 8*s + q = U[cbg*32 + 4*q + 0..3, 4*c4 + s], cbg = (e*G + g)*NCB + cb over the GEMM's 16*G groups;
// invocation t = (((g*NCB + cb)*KC + c4)*4 + s)*8 + q writes that texel for all 16 e
fn weight_texels(p: Pack, t: u32) {
  let q = t % 8u;
  let s = (t / 8u) % 4u;
  let c4 = (t / 32u) % p.c4g;
  let cb = (t / (32u * p.c4g)) % p.ncb;
  let g = t / (32u * p.c4g * p.ncb);
  let u = transformed(p, g, 4u * c4 + s, cb * 32u + 4u * q);
  for (var e = 0u; e < 16u; e++) {
    w_out[((((e * p.groups + g) * p.ncb + cb) * p.c4g + c4) * 32u) + 8u * s + q] = u[e];
  }
}

@compute @workgroup_size(WG)
fn conv2d_winograd_pack(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = pack;
  if (t < p.in_threads) { input_texels(p, t); return; }
  if (t - p.in_threads < p.w_threads) { weight_texels(p, t - p.in_threads); }
}

@compute @workgroup_size(WG)
fn conv2d_winograd_pack_tex(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                            @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = pack;
  if (t < p.in_threads) { input_texels_tex(p, t); return; }
  if (t - p.in_threads < p.w_threads) { weight_texels(p, t - p.in_threads); }
}

@group(0) @binding(0) var<storage, read> m_in: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> out: Out;

fn put(o: Out, at: u32, i: u32, j: u32, v: f32) {
  if (i < o.oh && j < o.ow) { y[at + i * o.ow + j] = v; }
}

@compute @workgroup_size(WG)
fn conv2d_winograd_out(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let o = out;
  if (t >= o.total) { return; }
  let tile = t % o.tiles;
  let co = t / o.tiles;
  let groups = o.dst_c / o.cog_w;
  let g = co / o.cog_w;
  let ch = co % o.cog_w;
  var m: array<vec4f, 4>;
  for (var r = 0u; r < 4u; r++) {
    for (var s = 0u; s < 4u; s++) {
      m[r][s] = m_in[(((4u * r + s) * groups + g) * o.cog_w + ch) * o.tiles + tile];
    }
  }
  let t0 = m[0] + m[1] + m[2];
  let t1 = m[1] - m[2] - m[3];
  var b = 0.0;
  if (HAS_BIAS) { b = bias[co]; }
  let n = tile / (o.th * o.tw);
  let ty = (tile / o.tw) % o.th;
  let tx = tile % o.tw;
  let at = o.base + (n * o.dst_c + co) * o.oh * o.ow;
  put(o, at, 2u * ty, 2u * tx, t0.x + t0.y + t0.z + b);
  put(o, at, 2u * ty, 2u * tx + 1u, t0.y - t0.z - t0.w + b);
  put(o, at, 2u * ty + 1u, 2u * tx, t1.x + t1.y + t1.z + b);
  put(o, at, 2u * ty + 1u, 2u * tx + 1u, t1.y - t1.z - t1.w + b);
}
