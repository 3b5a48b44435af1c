// conv2d version 8, the weight gradient of a pointwise convolution (1x1, stride 1, no padding,
// one group) laid out for v7's forward kernel (conv2d_sgtex.wgsl) with the pixels as its
// reduction:  dw[o, c] = sum_{n, p} dY[n, o, p] * x[n, c, p]
// Each sample's plane runs in texels of 4 pixels (PT of them, zeros past the plane); the batch's
// KT = N*PT texels are cut into S ranges of KS (zeros past KT), and range s is a "group" of the
// forward kernel, so that (s, o, c) is one float32 chain and a second dispatch adds the ranges.
// Texels go to storage buffers, copied into the textures by the host, as v7's packs
// (conv2d_sgtex_pack.wgsl).
//   grid texel c*S*KS + g                      = x[n, c, 4t + 0..3]    (g = n*PT + t)
//   wtex texel ((s*NCB + cb)*KS + k)*32 + 8j + q = dY[n, cb*32 + 4q + 0..3, 4t + j]   (g = s*KS + k)
// Where ranges are planes (KS = PT, S = N) x's grid is (n*C + c)*PT + t, its own NCHW buffer
// where planes are whole texels: the host copies it instead (x_texels = 0).
// Invocations [0, x_texels) lay out x, the next ones dY: one per (s, cb, k, q), writing its 4
// texels j = 0..3 from 4 runs of 4 pixels, one per channel. Entry conv2d_pack_pixels_vec4_v8
// reads each run as one vec4 (planes of whole texels, dY's offset a multiple of 4): a read is
// a per-lane loop on a CPU whatever its width.
override WG: u32 = 64;
// The divisors of the texel placement come in as override constants (division by them is a
// multiply and a shift; by a uniform's value, 8 scalar divisions a lane on a CPU adapter):
override PT: u32 = 1;     // texels a plane
override KS: u32 = 1;     // texels a range
override SPLITS: u32 = 1; // ranges
override NCB: u32 = 1;    // blocks of 32 output channels

struct PixelsJob {
  n: u32, c: u32, co: u32, plane: u32,
  x_base: u32, dy_base: u32, x_texels: u32, dy_threads: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
// the same binding as vec4s, read only by conv2d_pack_pixels_vec4_v8 (no entry point uses both)
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> grid_out: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> w_out: array<vec4f>;
@group(0) @binding(4) var<uniform> job: PixelsJob;

// x[n, c, 4t + 0..3] of reduction texel g = n*PT + t; zero past the plane and the batch
fn x_texel(p: PixelsJob, i: u32) {
  let kt = SPLITS * KS;
  let c = i / kt;
  let g = i % kt;
  let n = g / PT;
  let px = (g % PT) * 4u;
  var v = vec4f(0.0);
  if (n < p.n) {
    let at = p.x_base + (n * p.c + c) * p.plane + px;
    for (var j = 0u; j < 4u; j++) {
      if (px + j < p.plane) { v[j] = x[at + j]; }
    }
  }
  grid_out[i] = v;
}

// pixels 4t..4t+3 of dY[n, ch]; zero past the plane and the channels
fn dy_run(p: PixelsJob, n: u32, ch: u32, t: u32) -> vec4f {
  if (ch >= p.co || n >= p.n) { return vec4f(0.0); }
  let at = p.dy_base + (n * p.co + ch) * p.plane + 4u * t;
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (4u * t + j < p.plane) { v[j] = dy[at + j]; }
  }
  return v;
}

fn dy_run4(p: PixelsJob, n: u32, ch: u32, t: u32) -> vec4f {
  if (ch >= p.co || n >= p.n) { return vec4f(0.0); }
  return dy4[(p.dy_base + (n * p.co + ch) * p.plane) / 4u + t];
}

// thread u's place: range s, block cb of 32 channels, texel k of the range, block q of 4
// channels; the range's texel k is sample n's texel t (n = N where it runs past the batch)
struct DyPlace { n: u32, o: u32, t: u32, at: u32 }

fn dy_place(p: PixelsJob, u: u32) -> DyPlace {
  let q = u % 8u;
  let rest = u / 8u;
  let k = rest % KS;
  let sb = rest / KS; // s*NCB + cb
  let g = (sb / NCB) * KS + k;
  return DyPlace(g / PT, (sb % NCB) * 32u + 4u * q, g % PT, (sb * KS + k) * 32u + q);
}

// the 4 texels of pixels 4t + j from the runs of channels o..o+3
fn put_dy(at: u32, a: vec4f, b: vec4f, c: vec4f, d: vec4f) {
  w_out[at] = vec4f(a.x, b.x, c.x, d.x);
  w_out[at + 8u] = vec4f(a.y, b.y, c.y, d.y);
  w_out[at + 16u] = vec4f(a.z, b.z, c.z, d.z);
  w_out[at + 24u] = vec4f(a.w, b.w, c.w, d.w);
}

@compute @workgroup_size(WG)
fn conv2d_pack_pixels_v8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                         @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = job;
  if (t < p.x_texels) { x_texel(p, t); return; }
  let u = t - p.x_texels;
  if (u >= p.dy_threads) { return; }
  let d = dy_place(p, u);
  put_dy(d.at, dy_run(p, d.n, d.o, d.t), dy_run(p, d.n, d.o + 1u, d.t), dy_run(p, d.n, d.o + 2u, d.t), dy_run(p, d.n, d.o + 3u, d.t));
}

@compute @workgroup_size(WG)
fn conv2d_pack_pixels_vec4_v8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                              @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = job;
  if (t < p.x_texels) { x_texel(p, t); return; }
  let u = t - p.x_texels;
  if (u >= p.dy_threads) { return; }
  let d = dy_place(p, u);
  put_dy(d.at, dy_run4(p, d.n, d.o, d.t), dy_run4(p, d.n, d.o + 1u, d.t), dy_run4(p, d.n, d.o + 2u, d.t), dy_run4(p, d.n, d.o + 3u, d.t));
}
