// conv2d version 9, the weight gradient of a 3x3 stride-1 convolution through Winograd
// F(2x2, 3x3) (conv2d_winograd.wgsl has the forward): with M_e = sum_c U_e[o, c] V_e[c, tile]
// and y = A^T M A per tile, U = G w G^T,
//   dM = A dY A^T (per 2x2 tile of dY), dU_e[o, c] = sum_tiles dM_e[o, tile] V_e[c, tile],
//   dW = G^T dU G
// The 16 GEMMs dU_e run on v7's forward kernel (conv2d_sgtex.wgsl) with the tiles as the
// reduction, 4 tiles a texel: the batch's KT tile texels are cut into S ranges of KS (zeros
// past the last tile), and (e, group g, range s) is the kernel's group gamma = (e*G + g)*S + s,
// so that each range is a float32 chain and conv2d_winograd_dw_sum.wgsl adds the ranges.
//   grid texel (gamma*C + c)*KS + k                 = V_e[g*C + c, tiles 4t + 0..3]   (t = s*KS + k)
//   wtex texel ((gamma*NCB + cb)*KS + k)*32 + 8j + q = dM_e[g*Co + cb*32 + 4q + 0..3, tile 4t + j]
//   partial[(gamma*Co + o)*C + c]                   = range s's dU_e[g*Co + o, c]
// conv2d_winograd_dw_pack: invocations [0, x_threads) transform 4 tiles of one input channel
// each (one V texel per e); the rest 1 tile of 4 output channels each (one dM texel per e).
// dY's invocations take output-channel quads fastest, so that neighbouring lanes store
// neighbouring texels: tiles fastest scattered the stores, and the whole transform ran 2-2.6x
// slower (reading rows as aligned vec4s instead of scalars changed nothing measurable).
// The _xtex, _dytex and _tex entry points read x, dY or both as they lie from textures (x: rows
// of whole texels and of whole quads of tiles; dY: rows of even length).
override WG: u32 = 64;

struct DwPack {
  n: u32, c: u32, h: u32, w: u32,           // x: [N, G*C, H, W] (C channels a group)
  co: u32, ho: u32, wo: u32, groups: u32,   // dY: [N, G*Co, Ho, Wo]
  th: u32, tw: u32, ph: i32, pw: i32,       // tiles of the output plane; padding
  ks: u32, splits: u32, ncb: u32, x_base: u32,
  dy_base: u32, x_threads: u32, dy_threads: u32, _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
// x as it lies copied into a texture, read only by conv2d_winograd_dw_pack_xtex (no entry point uses both)
@group(0) @binding(0) var x_tex: texture_storage_2d<rgba32float, read>;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;
// columns of the first texel a window row fetches that lie before the window: (-pw) mod 4
override LEAD: u32 = 0u;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
// dY as it lies copied into a texture, read only by the _dytex and _tex entry points
@group(0) @binding(1) var dy_tex: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> v_out: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dm_out: array<vec4f>;
@group(0) @binding(4) var<uniform> pack: DwPack;

fn x_at(p: DwPack, plane: u32, y: i32, xx: i32) -> f32 {
  if (y < 0 || xx < 0 || u32(y) >= p.h || u32(xx) >= p.w) { return 0.0; }
  return x[plane + u32(y) * p.w + u32(xx)];
}

// B^T d B of a 4x4 patch d (rows), element e = 4r + s at [e]
fn bt_d_b(d: array<vec4f, 4>) -> array<f32, 16> {
  var v: array<f32, 16>;
  let t = array<vec4f, 4>(d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]); // rows of B^T d
  for (var r = 0u; r < 4u; r++) {
    v[4u * r] = t[r].x - t[r].z;
    v[4u * r + 1u] = t[r].y + t[r].z;
    v[4u * r + 2u] = t[r].z - t[r].y;
    v[4u * r + 3u] = t[r].y - t[r].w;
  }
  return v;
}

// the plane of channel c of tile `tile`'s sample, and the input origin of the tile
fn tile_origin(p: DwPack, g: u32, c: u32, tile: u32) -> vec3i {
  let n = tile / (p.th * p.tw);
  let ty = (tile / p.tw) % p.th;
  let tx = tile % p.tw;
  let plane = p.x_base + (n * p.groups * p.c + g * p.c + c) * p.h * p.w;
  return vec3i(i32(plane), i32(2u * ty) - p.ph, i32(2u * tx) - p.pw);
}

// V of tile `tile` of one channel (zeros past the batch)
fn v_tile(p: DwPack, g: u32, c: u32, tile: u32) -> array<f32, 16> {
  if (tile >= p.n * p.th * p.tw) { return array<f32, 16>(); }
  let o = tile_origin(p, g, c, tile);
  var d: array<vec4f, 4>;
  for (var r = 0; r < 4; r++) {
    d[r] = vec4f(x_at(p, u32(o.x), o.y + r, o.z), x_at(p, u32(o.x), o.y + r, o.z + 1), x_at(p, u32(o.x), o.y + r, o.z + 2), x_at(p, u32(o.x), o.y + r, o.z + 3));
  }
  return bt_d_b(d);
}

fn store_v(p: DwPack, g: u32, c: u32, t: u32, a: array<f32, 16>, b: array<f32, 16>, cc: array<f32, 16>, d: array<f32, 16>) {
  let s = t / p.ks;
  let k = t % p.ks;
  for (var e = 0u; e < 16u; e++) {
    let gamma = (e * p.groups + g) * p.splits + s;
    v_out[(gamma * p.c + c) * p.ks + k] = vec4f(a[e], b[e], cc[e], d[e]);
  }
}

// the V texels of 4 tiles whose patches are the 4 x 10 window's columns 2j..2j+3
fn store_window(p: DwPack, g: u32, c: u32, t: u32, win: array<array<f32, 10>, 4>) {
  var v: array<array<f32, 16>, 4>;
  for (var j = 0u; j < 4u; j++) {
    var d: array<vec4f, 4>;
    for (var r = 0u; r < 4u; r++) { d[r] = vec4f(win[r][2u * j], win[r][2u * j + 1u], win[r][2u * j + 2u], win[r][2u * j + 3u]); }
    v[j] = bt_d_b(d);
  }
  store_v(p, g, c, t, v[0], v[1], v[2], v[3]);
}

// 4 tiles of one channel, 4t..4t+3: where rows of tiles are whole quads (so that every lane of a
// dispatch takes one path: mixed, layer3's 7-tile rows ran 1.1-1.6x slower) their patches
// overlap in a 4 x 10 window read once, 40 loads instead of 64 (a load is a loop over the lanes;
// layer1's transform 10-25% faster)
fn x_texels(p: DwPack, i: u32) {
  let kt = p.splits * p.ks;
  let t = i % kt;
  let c = (i / kt) % p.c;
  let g = i / (kt * p.c);
  let tile0 = 4u * t;
  if (p.tw % 4u == 0u && tile0 < p.n * p.th * p.tw) {
    let o = tile_origin(p, g, c, tile0);
    var win: array<array<f32, 10>, 4>;
    for (var r = 0; r < 4; r++) {
      for (var k = 0; k < 10; k++) { win[r][k] = x_at(p, u32(o.x), o.y + r, o.z + k); }
    }
    store_window(p, g, c, t, win);
    return;
  }
  store_v(p, g, c, t, v_tile(p, g, c, tile0), v_tile(p, g, c, tile0 + 1u), v_tile(p, g, c, tile0 + 2u), v_tile(p, g, c, tile0 + 3u));
}

fn x_tex_at(t: i32) -> vec4f {
  let u = u32(max(t, 0));
  return textureLoad(x_tex, vec2u(u & TW_MASK, u >> LOG_TW));
}

// x_texels' whole quads of tiles from x's texels of 4 pixels (rows of whole texels): each row of
// the 4 x 10 window is 4 texel fetches instead of 10 loads (a load is a loop over the lanes, a
// fetch one row load per lane)
fn x_texels_tex(p: DwPack, i: u32) {
  let kt = p.splits * p.ks;
  let t = i % kt;
  let c = (i / kt) % p.c;
  let g = i / (kt * p.c);
  let tile0 = 4u * t;
  if (tile0 >= p.n * p.th * p.tw) {
    let z = array<f32, 16>();
    store_v(p, g, c, t, z, z, z, z);
    return;
  }
  let o = tile_origin(p, g, c, tile0);
  let row_texels = i32(p.w / 4u);
  let q0 = (o.z - i32(LEAD)) / 4; // o.z - LEAD is a multiple of 4, at least -4
  var win: array<array<f32, 10>, 4>;
  for (var r = 0; r < 4; r++) {
    let y = o.y + r;
    let row_ok = y >= 0 && u32(y) < p.h;
    let at = (o.x + y * i32(p.w)) / 4 + q0;
    var tx: array<vec4f, 4>;
    for (var k = 0; k < 4; k++) {
      tx[k] = select(vec4f(0.0), x_tex_at(at + k), row_ok && q0 + k >= 0 && q0 + k < row_texels);
    }
    for (var k = 0u; k < 10u; k++) { win[r][k] = tx[(LEAD + k) / 4u][(LEAD + k) % 4u]; }
  }
  store_window(p, g, c, t, win);
}

fn dy_at(p: DwPack, n: u32, ch: u32, i: u32, j: u32) -> f32 {
  if (ch >= p.groups * p.co || i >= p.ho || j >= p.wo) { return 0.0; }
  return dy[p.dy_base + ((n * p.groups * p.co + ch) * p.ho + i) * p.wo + j];
}

// invocation i's tile of 4 output channels, i = ((g*NCB + cb)*KT*4 + tile)*8 + q: its first
// channel o within the group, sample and top-left output pixel, whether it lies in the batch
struct DyTile { g: u32, cb: u32, q: u32, tile: u32, o: u32, n: u32, i0: u32, j0: u32, in_batch: bool }

fn dy_tile(p: DwPack, i: u32) -> DyTile {
  let kt4 = p.splits * p.ks * 4u;
  let q = i % 8u;
  let tile = (i / 8u) % kt4;
  let cb = (i / (8u * kt4)) % p.ncb;
  let g = i / (8u * kt4 * p.ncb);
  return DyTile(g, cb, q, tile, cb * 32u + 4u * q, tile / (p.th * p.tw), 2u * ((tile / p.tw) % p.th), 2u * (tile % p.tw),
    tile < p.n * p.th * p.tw);
}

fn dy_texels(p: DwPack, i: u32) {
  let d = dy_tile(p, i);
  var y00 = vec4f(0.0); var y01 = vec4f(0.0); var y10 = vec4f(0.0); var y11 = vec4f(0.0);
  if (d.in_batch) {
    for (var k = 0u; k < 4u; k++) {
      let ch = d.g * p.co + d.o + k;
      let ok = d.o + k < p.co;
      let base = select(p.groups * p.co, ch, ok); // past the group's channels: read as zero
      y00[k] = dy_at(p, d.n, base, d.i0, d.j0); y01[k] = dy_at(p, d.n, base, d.i0, d.j0 + 1u);
      y10[k] = dy_at(p, d.n, base, d.i0 + 1u, d.j0); y11[k] = dy_at(p, d.n, base, d.i0 + 1u, d.j0 + 1u);
    }
  }
  store_dm(p, d.g, d.cb, d.q, d.tile, y00, y01, y10, y11);
}

// dM = A dY A^T of one tile of 4 output channels into its 16 texels
fn store_dm(p: DwPack, g: u32, cb: u32, q: u32, tile: u32, y00: vec4f, y01: vec4f, y10: vec4f, y11: vec4f) {
  // A dY A^T with A = [1 0; 1 1; 1 -1; 0 -1]: rows of A dY, then each row times A^T
  let r0 = array<vec4f, 2>(y00, y01);
  let r1 = array<vec4f, 2>(y00 + y10, y01 + y11);
  let r2 = array<vec4f, 2>(y00 - y10, y01 - y11);
  let r3 = array<vec4f, 2>(-y10, -y11);
  let rows = array<array<vec4f, 2>, 4>(r0, r1, r2, r3);
  let t = tile / 4u;
  let j = tile % 4u;
  let s = t / p.ks;
  let kk = t % p.ks;
  for (var r = 0u; r < 4u; r++) {
    let a = rows[r][0];
    let b = rows[r][1];
    let m = array<vec4f, 4>(a, a + b, a - b, -b);
    for (var c = 0u; c < 4u; c++) {
      let gamma = ((4u * r + c) * p.groups + g) * p.splits + s;
      dm_out[((gamma * p.ncb + cb) * p.ks + kk) * 32u + 8u * j + q] = m[c];
    }
  }
}

// dY[n, ch, i, j0..j0+1] (j0 even, rows of even length: one texel holds both) from dY's texels;
// zero past the plane's rows and for channels that do not exist
fn dy_pair(p: DwPack, n: u32, ch: u32, ok: bool, i: u32, j0: u32) -> vec2f {
  let at = ((n * p.groups * p.co + min(ch, p.groups * p.co - 1u)) * p.ho + min(i, p.ho - 1u)) * p.wo + j0;
  let v = textureLoad(dy_tex, vec2u((at / 4u) & TW_MASK, (at / 4u) >> LOG_TW));
  return select(vec2f(0.0), select(v.xy, v.zw, (at & 2u) != 0u), ok && i < p.ho);
}

// dy_texels with dY read as pairs from its texels: 8 fetches a lane instead of 16 loads
fn dy_texels_tex(p: DwPack, i: u32) {
  let d = dy_tile(p, i);
  var y00 = vec4f(0.0); var y01 = vec4f(0.0); var y10 = vec4f(0.0); var y11 = vec4f(0.0);
  if (d.in_batch) {
    for (var k = 0u; k < 4u; k++) {
      let ok = d.o + k < p.co;
      let top = dy_pair(p, d.n, d.g * p.co + d.o + k, ok, d.i0, d.j0);
      let bottom = dy_pair(p, d.n, d.g * p.co + d.o + k, ok, d.i0 + 1u, d.j0);
      y00[k] = top.x; y01[k] = top.y; y10[k] = bottom.x; y11[k] = bottom.y;
    }
  }
  store_dm(p, d.g, d.cb, d.q, d.tile, y00, y01, y10, y11);
}

@compute @workgroup_size(WG)
fn conv2d_winograd_dw_pack_dytex(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                                 @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = pack;
  if (t < p.x_threads) { x_texels(p, t); return; }
  if (t - p.x_threads < p.dy_threads) { dy_texels_tex(p, t - p.x_threads); }
}

@compute @workgroup_size(WG)
fn conv2d_winograd_dw_pack_tex(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                               @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = pack;
  if (t < p.x_threads) { x_texels_tex(p, t); return; }
  if (t - p.x_threads < p.dy_threads) { dy_texels_tex(p, t - p.x_threads); }
}

@compute @workgroup_size(WG)
fn conv2d_winograd_dw_pack(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = pack;
  if (t < p.x_threads) { x_texels(p, t); return; }
  if (t - p.x_threads < p.dy_threads) { dy_texels(p, t - p.x_threads); }
}

@compute @workgroup_size(WG)
fn conv2d_winograd_dw_pack_xtex(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                                @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = pack;
  if (t < p.x_threads) { x_texels_tex(p, t); return; }
  if (t - p.x_threads < p.dy_threads) { dy_texels(p, t - p.x_threads); }
}
