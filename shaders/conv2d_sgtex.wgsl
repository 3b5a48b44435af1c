enable subgroups;
// conv2d version 7, forward and dX: implicit GEMM over a padded NHWC texel grid (the grid of
// conv2d_tex_pack.wgsl) with the weights in a texture shared through the subgroup, one dispatch
// for the whole convolution. Both are read-only storage textures: lavapipe loads one texel per
// lane with a bounds mask and a row load, a third of a sampled textureLoad's instructions.
// Made for CPU adapters with 8-wide subgroups (lavapipe on AVX2), where every memory read is a
// per-lane gather whatever its address: v3's 16 uniform vec4 reads per step fetched the same
// weights 8 times over. Here each of the 8 lanes fetches 4 of
// the step's 32 weight texels and subgroupBroadcast (one register permute on a CPU) hands
// every lane all 32, so a step of 4 input channels costs PX + 4 texel fetches per PX*128 FMAs
// (a sampled fetch was a call of ~170 instructions there, a storage one ~50: 4 pixels x 16 output
// channels, 4 + 2 per 256, took 1.3-1.5x longer; 4 pixels x 32 channels 5-15% longer than 8).
//   wtex texel ((cbg*KH*KW + tap)*KC + c4)*32 + 8*s + q = w'[cbg*32 + 4*q + 0..3, 4*c4 + s, tap]
//   (cbg: block of 32 output channels counted over every group; w' the weights of the conv
//   run, for dX transposed and flipped; zero past the real channels: conv2d_sgtex_pack.wgsl),
//   or for a 1x1 of one group the weight matrix w[Co, C] itself as C/4 texels a row (sg_conv)
//   out[n, co, i, j] = bias[co] + sum_{tap (a,b), ci} grid[n, i*sh + a*dh, j*sw + b*dw, ci] * w'[co, ci, tap]
// A workgroup shares one block of 32 output channels (so its subgroups share the weights,
// however invocations map to subgroups); each invocation computes PX (8, or 4 for outputs of
// few pixels) consecutive output pixels of the flattened (n, i, j) axis x those 32 channels in
// PX*32 scalar accumulators. One
// chain per output over every tap and input channel: summing blocks of 64 channels apart into a
// second set of totals was more accurate but spilled registers every step (1.1-1.4x slower).
// Where every run of 4 output pixels is 4-aligned within a plane (plane and destination offset
// multiples of 4) entry point conv2d_v7_vec4 stores each run of 4 pixels as 32 vec4s instead of
// 128 floats.
override WG: u32 = 64;
override HAS_BIAS: bool = false;
override PX: u32 = 8; // output pixels per invocation: 4 or 8 (the branches on it fold away)
// The 4 weight texels a lane fetches per step hold rows of 4 read channels of one written
// channel each, to be transposed: a 1x1 forward's weight matrix, or v8's pointwise dW's dY
// (kernels/conv2d_pixels.ts), read as it lies.
override W_ROWS: bool = false;
// The activations are an NCHW tensor itself as texels of 4 pixels (a 1x1 of one group, stride 1,
// no padding, planes of whole texels; wp = PT the texels a plane, ct = C*PT a sample): each run
// of 4 output pixels reads 4 channels' texels and transposes them, no grid laid out.
override X_ROWS: bool = false;

// the first texel of each of the PX/4 runs of 4 pixels from m0 (X_ROWS)
fn run_bases(p: SgConv, m0: u32) -> array<u32, 8> {
  var bases = array<u32, 8>();
  let plane = 4u * p.wp;
  for (var j = 0u; j < PX / 4u; j++) {
    let m = min(m0 + 4u * j, p.m - 4u);
    bases[j] = (m / plane) * p.ct + (m % plane) / 4u;
  }
  return bases;
}

// runs j's 4 pixels x 4 channels from 4 texels of 4 pixels, one per channel (X_ROWS)
fn run_pixels(p: SgConv, x: ptr<function, array<vec4f, 8>>, j: u32, at: u32) {
  let t0 = gtexel(at); let t1 = gtexel(at + p.wp); let t2 = gtexel(at + 2u * p.wp); let t3 = gtexel(at + 3u * p.wp);
  (*x)[4u * j] = vec4f(t0.x, t1.x, t2.x, t3.x); (*x)[4u * j + 1u] = vec4f(t0.y, t1.y, t2.y, t3.y);
  (*x)[4u * j + 2u] = vec4f(t0.z, t1.z, t2.z, t3.z); (*x)[4u * j + 3u] = vec4f(t0.w, t1.w, t2.w, t3.w);
}
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;
// pixel 0..PX-1's 8 blocks of 4 output channels
struct Tile {
  p0: array<vec4f, 8>, p1: array<vec4f, 8>, p2: array<vec4f, 8>, p3: array<vec4f, 8>,
  p4: array<vec4f, 8>, p5: array<vec4f, 8>, p6: array<vec4f, 8>, p7: array<vec4f, 8>,
}

// where an invocation's tile goes: its first output pixel, first channel within the group, channel
struct Place { m0: u32, cl: u32, co: u32 }

struct SgConv {
  m: u32, oh: u32, ow: u32, ncbg: u32,
  hp: u32, wp: u32, ct: u32, ncb: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  dh: u32, dw: u32, c4g: u32, kc: u32,
  cog: u32, dst_c: u32, y_base: u32, ws: u32,
  wb: u32, wl: u32, wc: u32, _pad: u32,
}

@group(0) @binding(0) var grid: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var wtex: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// the same binding seen as vec4s, used only by conv2d_v7_vec4 (no entry point uses both)
@group(0) @binding(3) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(4) var<uniform> params: SgConv;

fn gtexel(t: u32) -> vec4f {
  return textureLoad(grid, vec2u(t & TW_MASK, t >> LOG_TW));
}

fn wtexel(t: u32) -> vec4f {
  return textureLoad(wtex, vec2u(t & TW_MASK, t >> LOG_TW));
}

// texels of output pixels m0..m0+PX-1's receptive field origins (pixels past the end read the
// last one's): one set of divisions, then carries (an integer division is 8 scalar ones on a CPU)
fn pixel_bases(p: SgConv, m0: u32) -> array<u32, 8> {
  let mm = min(m0, p.m - 1u);
  let plane = p.oh * p.ow;
  var n = mm / plane;
  let r = mm % plane;
  var i = r / p.ow;
  var j = r % p.ow;
  var bases = array<u32, 8>();
  for (var k = 0u; k < PX; k++) {
    bases[k] = ((n * p.hp + i * p.sh) * p.wp + j * p.sw) * p.ct;
    if (m0 + k + 1u < p.m) {
      j += 1u;
      if (j == p.ow) { j = 0u; i += 1u; if (i == p.oh) { i = 0u; n += 1u; } }
    }
  }
  return bases;
}

fn put4(p: SgConv, m: u32, co_in_group: u32, co: u32, v: vec4f) {
  if (m >= p.m) { return; }
  let plane = p.oh * p.ow;
  let n = m / plane;
  let at = p.y_base + (n * p.dst_c + co) * plane + m % plane;
  for (var k = 0u; k < 4u; k++) {
    if (co_in_group + k < p.cog) {
      var r = v[k];
      if (HAS_BIAS) { r += bias[co + k]; }
      y[at + k * plane] = r;
    }
  }
}

// one output pixel's 32 channels
fn put4_all(p: SgConv, m: u32, cl: u32, co: u32, v: array<vec4f, 8>) {
  for (var q = 0u; q < 8u; q++) { put4(p, m, cl + 4u * q, co + 4u * q, v[q]); }
}

// The 4 pixels' 32 channels as 32 vec4 stores (a 4-aligned run of 4 pixels within one plane:
// the host picks conv2d_v7_vec4 only where plane and destination offset are multiples
// of 4); a store is a per-lane loop on a CPU whatever its width.
fn put_ch4(p: SgConv, at: u32, c_in_group: u32, c: u32, v: vec4f) {
  if (c_in_group < p.cog) {
    var r = v;
    if (HAS_BIAS) { r += bias[c]; }
    y4[at] = r;
  }
}

// one 4-aligned run of 4 pixels, a..d
fn put_run4(p: SgConv, m0: u32, cl: u32, co: u32, a: array<vec4f, 8>, b: array<vec4f, 8>, c: array<vec4f, 8>, d: array<vec4f, 8>) {
  if (m0 >= p.m) { return; }
  let plane = p.oh * p.ow;
  let n = m0 / plane;
  let at = (p.y_base + (n * p.dst_c + co) * plane + m0 % plane) / 4u;
  let stride = plane / 4u;
  for (var q = 0u; q < 8u; q++) {
    for (var k = 0u; k < 4u; k++) {
      let ch = 4u * q + k;
      put_ch4(p, at + ch * stride, cl + ch, co + ch, vec4f(a[q][k], b[q][k], c[q][k], d[q][k]));
    }
  }
}

fn put_tile4(p: SgConv, m0: u32, cl: u32, co: u32, t: Tile) {
  put_run4(p, m0, cl, co, t.p0, t.p1, t.p2, t.p3);
  if (PX == 8u) { put_run4(p, m0 + 4u, cl, co, t.p4, t.p5, t.p6, t.p7); }
}

fn put_tile(p: SgConv, m0: u32, cl: u32, co: u32, t: Tile) {
  put4_all(p, m0, cl, co, t.p0); put4_all(p, m0 + 1u, cl, co, t.p1);
  put4_all(p, m0 + 2u, cl, co, t.p2); put4_all(p, m0 + 3u, cl, co, t.p3);
  if (PX == 8u) {
    put4_all(p, m0 + 4u, cl, co, t.p4); put4_all(p, m0 + 5u, cl, co, t.p5);
    put4_all(p, m0 + 6u, cl, co, t.p6); put4_all(p, m0 + 7u, cl, co, t.p7);
  }
}

// acc + the 4 input channels of x times their rows of 4 output channels
fn fma4(acc: vec4f, x: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return acc + x.x * w0 + x.y * w1 + x.z * w2 + x.w * w3;
}

// output block q of the PX pixels x, given input channels 0..3's rows w0..w3 of that block
fn block(t: ptr<function, Tile>, q: u32, x: ptr<function, array<vec4f, 8>>, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) {
  (*t).p0[q] = fma4((*t).p0[q], (*x)[0], w0, w1, w2, w3);
  (*t).p1[q] = fma4((*t).p1[q], (*x)[1], w0, w1, w2, w3);
  (*t).p2[q] = fma4((*t).p2[q], (*x)[2], w0, w1, w2, w3);
  (*t).p3[q] = fma4((*t).p3[q], (*x)[3], w0, w1, w2, w3);
  if (PX == 8u) {
    (*t).p4[q] = fma4((*t).p4[q], (*x)[4], w0, w1, w2, w3);
    (*t).p5[q] = fma4((*t).p5[q], (*x)[5], w0, w1, w2, w3);
    (*t).p6[q] = fma4((*t).p6[q], (*x)[6], w0, w1, w2, w3);
    (*t).p7[q] = fma4((*t).p7[q], (*x)[7], w0, w1, w2, w3);
  }
}

fn place(p: SgConv, wgi: u32, lid: u32) -> Place {
  let cbg = wgi % p.ncbg;
  let cl = (cbg % p.ncb) * 32u;
  return Place(((wgi / p.ncbg) * WG + lid) * PX, cl, (cbg / p.ncb) * p.cog + cl);
}

fn sg_conv(p: SgConv, wgi: u32, lid: u32, lane: u32) -> Tile {
  let cbg = wgi % p.ncbg;
  let m0 = ((wgi / p.ncbg) * WG + lid) * PX;
  let grp = cbg / p.ncb;
  var bases: array<u32, 8>;
  if (X_ROWS) { bases = run_bases(p, m0); } else { bases = pixel_bases(p, m0); }
  for (var k = 0u; k < PX; k++) { bases[k] += grp * p.c4g; }
  var t = Tile();
  var x: array<vec4f, 8>;
  // lane's fetch s of a step at wt + s*ws, steps wc apart, from cbg*wb + lane*wl: the packed
  // blocks above (wb = KH*KW*KC*32, wl = 1, ws = 8, wc = 32) or a 1x1's weight matrix w[Co, C]
  // as it lies, KR = C/4 texels a row: forward (W_ROWS) wb = 32*KR, wl = 4*KR, ws = KR, wc = 1
  // (fetch j: written channel 4*lane + j's texel c4, transposed below); dX wb = 8, wl = 1,
  // ws = KR, wc = 4*KR (fetch s: read channel 4*c4 + s's texel of written channels 4*lane..+3)
  var wt = cbg * p.wb + lane * p.wl;
  for (var a = 0u; a < p.kh; a++) {
    for (var b = 0u; b < p.kw; b++) {
      let off = (a * p.dh * p.wp + b * p.dw) * p.ct;
      for (var c4 = 0u; c4 < p.kc; c4++) {
        if (X_ROWS) {
          run_pixels(p, &x, 0u, bases[0] + 4u * c4 * p.wp);
          if (PX == 8u) { run_pixels(p, &x, 1u, bases[1] + 4u * c4 * p.wp); }
        } else {
          x[0] = gtexel(bases[0] + off + c4); x[1] = gtexel(bases[1] + off + c4);
          x[2] = gtexel(bases[2] + off + c4); x[3] = gtexel(bases[3] + off + c4);
          if (PX == 8u) {
            x[4] = gtexel(bases[4] + off + c4); x[5] = gtexel(bases[5] + off + c4);
            x[6] = gtexel(bases[6] + off + c4); x[7] = gtexel(bases[7] + off + c4);
          }
        }
        // fetch s holds input channel s's row for output block `lane`
        var f0 = wtexel(wt);
        var f1 = wtexel(wt + p.ws);
        var f2 = wtexel(wt + 2u * p.ws);
        var f3 = wtexel(wt + 3u * p.ws);
        wt += p.wc;
        if (W_ROWS) {
          let r0 = f0; let r1 = f1; let r2 = f2; let r3 = f3;
          f0 = vec4f(r0.x, r1.x, r2.x, r3.x); f1 = vec4f(r0.y, r1.y, r2.y, r3.y);
          f2 = vec4f(r0.z, r1.z, r2.z, r3.z); f3 = vec4f(r0.w, r1.w, r2.w, r3.w);
        }
        block(&t, 0u, &x, subgroupBroadcast(f0, 0u), subgroupBroadcast(f1, 0u), subgroupBroadcast(f2, 0u), subgroupBroadcast(f3, 0u));
        block(&t, 1u, &x, subgroupBroadcast(f0, 1u), subgroupBroadcast(f1, 1u), subgroupBroadcast(f2, 1u), subgroupBroadcast(f3, 1u));
        block(&t, 2u, &x, subgroupBroadcast(f0, 2u), subgroupBroadcast(f1, 2u), subgroupBroadcast(f2, 2u), subgroupBroadcast(f3, 2u));
        block(&t, 3u, &x, subgroupBroadcast(f0, 3u), subgroupBroadcast(f1, 3u), subgroupBroadcast(f2, 3u), subgroupBroadcast(f3, 3u));
        block(&t, 4u, &x, subgroupBroadcast(f0, 4u), subgroupBroadcast(f1, 4u), subgroupBroadcast(f2, 4u), subgroupBroadcast(f3, 4u));
        block(&t, 5u, &x, subgroupBroadcast(f0, 5u), subgroupBroadcast(f1, 5u), subgroupBroadcast(f2, 5u), subgroupBroadcast(f3, 5u));
        block(&t, 6u, &x, subgroupBroadcast(f0, 6u), subgroupBroadcast(f1, 6u), subgroupBroadcast(f2, 6u), subgroupBroadcast(f3, 6u));
        block(&t, 7u, &x, subgroupBroadcast(f0, 7u), subgroupBroadcast(f1, 7u), subgroupBroadcast(f2, 7u), subgroupBroadcast(f3, 7u));
      }
    }
  }
  return t;
}

// One entry point serves forward and dX alike (the host packs dX's grid and weights to look like
// a forward), two ways of storing; each writes the output through one binding declaration only.
@compute @workgroup_size(WG)
fn conv2d_v7(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
    @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let p = params;
  let wgi = flat_workgroup(wid, nwg);
  let at = place(p, wgi, lid);
  put_tile(p, at.m0, at.cl, at.co, sg_conv(p, wgi, lid, lane));
}

@compute @workgroup_size(WG)
fn conv2d_v7_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
    @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let p = params;
  let wgi = flat_workgroup(wid, nwg);
  let at = place(p, wgi, lid);
  put_tile4(p, at.m0, at.cl, at.co, sg_conv(p, wgi, lid, lane));
}
