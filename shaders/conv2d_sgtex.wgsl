enable subgroups;
// conv2d version 7, forward and dX: implicit GEMM over a padded NHWC texel grid (the grid of
// conv2d_tex_pack.wgsl) with the weights in a texture shared through the subgroup, one dispatch
// for the whole convolution. Made for CPU adapters with 8-wide subgroups (lavapipe on AVX2),
// where every memory read is a per-lane gather whatever its address: v3's 16 uniform vec4
// reads per step fetched the same weights 8 times over. Here each of the 8 lanes fetches 2 of
// the step's 16 weight texels and subgroupBroadcast (one register permute on a CPU) hands
// every lane all 16, so a step of 4 input channels costs 4 + 2 texel fetches per 256 FMAs.
//   wtex texel ((cbg*KH*KW + tap)*KC + c4)*16 + 4*s + q = w'[cbg*16 + 4*q + 0..3, 4*c4 + s, tap]
//   (cbg: block of 16 output channels counted over every group; w' the weights of the conv
//   run, for dX transposed and flipped; zero past the real channels: conv2d_sgtex_pack.wgsl)
//   out[n, co, i, j] = bias[co] + sum_{tap (a,b), ci} grid[n, i*sh + a*dh, j*sw + b*dw, ci] * w'[co, ci, tap]
// A workgroup shares one block of 16 output channels (so its subgroups share the weights,
// however invocations map to subgroups); each invocation computes 4 consecutive output
// pixels of the flattened (n, i, j) axis x those 16 channels in 64 scalar accumulators. One
// chain per output over every tap and input channel: summing blocks of 64 channels apart into a
// second set of 64 totals was more accurate but spilled registers every step (1.1-1.4x slower).
// Where every run of 4 output pixels is 4-aligned within a plane (plane and destination offset
// multiples of 4) entry point conv2d_v7_vec4 stores the tile as 16 vec4s instead of 64 floats.
override WG: u32 = 64;
override HAS_BIAS: bool = false;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;
// pixel 0..3's 4 blocks of 4 output channels
struct Tile { p0: array<vec4f, 4>, p1: array<vec4f, 4>, p2: array<vec4f, 4>, p3: array<vec4f, 4> }

// where an invocation's tile goes: its first output pixel, first channel within the group, channel
struct Place { m0: u32, cl: u32, co: u32 }

struct SgConv {
  m: u32, oh: u32, ow: u32, ncbg: u32,
  hp: u32, wp: u32, ct: u32, ncb: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  dh: u32, dw: u32, c4g: u32, kc: u32,
  cog: u32, dst_c: u32, y_base: u32, _pad: u32,
}

@group(0) @binding(0) var grid: texture_2d<f32>;
@group(0) @binding(1) var wtex: texture_2d<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// the same binding seen as vec4s, used only by conv2d_v7_vec4 (no entry point uses both)
@group(0) @binding(3) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(4) var<uniform> params: SgConv;

fn gtexel(t: u32) -> vec4f {
  return textureLoad(grid, vec2u(t & TW_MASK, t >> LOG_TW), 0);
}

fn wtexel(t: u32) -> vec4f {
  return textureLoad(wtex, vec2u(t & TW_MASK, t >> LOG_TW), 0);
}

// texels of output pixels m0..m0+3's receptive field origins (pixels past the end read the last
// one's): one set of divisions, then carries (an integer division is 8 scalar ones on a CPU)
fn pixel_bases(p: SgConv, m0: u32) -> vec4u {
  let mm = min(m0, p.m - 1u);
  let plane = p.oh * p.ow;
  var n = mm / plane;
  let r = mm % plane;
  var i = r / p.ow;
  var j = r % p.ow;
  var bases = vec4u(0u);
  for (var k = 0u; k < 4u; k++) {
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

// one output pixel's 16 channels
fn put4_all(p: SgConv, m: u32, cl: u32, co: u32, v: array<vec4f, 4>) {
  put4(p, m, cl, co, v[0]); put4(p, m, cl + 4u, co + 4u, v[1]); put4(p, m, cl + 8u, co + 8u, v[2]); put4(p, m, cl + 12u, co + 12u, v[3]);
}

// The 4 pixels' 16 channels as 16 vec4 stores (a 4-aligned run of 4 pixels within one plane:
// the host picks conv2d_v7_vec4 only where plane and destination offset are multiples
// of 4); a store is a per-lane loop on a CPU whatever its width.
fn put_ch4(p: SgConv, at: u32, c_in_group: u32, c: u32, v: vec4f) {
  if (c_in_group < p.cog) {
    var r = v;
    if (HAS_BIAS) { r += bias[c]; }
    y4[at] = r;
  }
}

fn put_tile4(p: SgConv, m0: u32, cl: u32, co: u32, t: Tile) {
  if (m0 >= p.m) { return; }
  let plane = p.oh * p.ow;
  let n = m0 / plane;
  let at = (p.y_base + (n * p.dst_c + co) * plane + m0 % plane) / 4u;
  let q = plane / 4u;
  put_ch4(p, at + 0u * q, cl + 0u, co + 0u, vec4f(t.p0[0].x, t.p1[0].x, t.p2[0].x, t.p3[0].x)); put_ch4(p, at + 1u * q, cl + 1u, co + 1u, vec4f(t.p0[0].y, t.p1[0].y, t.p2[0].y, t.p3[0].y));
  put_ch4(p, at + 2u * q, cl + 2u, co + 2u, vec4f(t.p0[0].z, t.p1[0].z, t.p2[0].z, t.p3[0].z)); put_ch4(p, at + 3u * q, cl + 3u, co + 3u, vec4f(t.p0[0].w, t.p1[0].w, t.p2[0].w, t.p3[0].w));
  put_ch4(p, at + 4u * q, cl + 4u, co + 4u, vec4f(t.p0[1].x, t.p1[1].x, t.p2[1].x, t.p3[1].x)); put_ch4(p, at + 5u * q, cl + 5u, co + 5u, vec4f(t.p0[1].y, t.p1[1].y, t.p2[1].y, t.p3[1].y));
  put_ch4(p, at + 6u * q, cl + 6u, co + 6u, vec4f(t.p0[1].z, t.p1[1].z, t.p2[1].z, t.p3[1].z)); put_ch4(p, at + 7u * q, cl + 7u, co + 7u, vec4f(t.p0[1].w, t.p1[1].w, t.p2[1].w, t.p3[1].w));
  put_ch4(p, at + 8u * q, cl + 8u, co + 8u, vec4f(t.p0[2].x, t.p1[2].x, t.p2[2].x, t.p3[2].x)); put_ch4(p, at + 9u * q, cl + 9u, co + 9u, vec4f(t.p0[2].y, t.p1[2].y, t.p2[2].y, t.p3[2].y));
  put_ch4(p, at + 10u * q, cl + 10u, co + 10u, vec4f(t.p0[2].z, t.p1[2].z, t.p2[2].z, t.p3[2].z)); put_ch4(p, at + 11u * q, cl + 11u, co + 11u, vec4f(t.p0[2].w, t.p1[2].w, t.p2[2].w, t.p3[2].w));
  put_ch4(p, at + 12u * q, cl + 12u, co + 12u, vec4f(t.p0[3].x, t.p1[3].x, t.p2[3].x, t.p3[3].x)); put_ch4(p, at + 13u * q, cl + 13u, co + 13u, vec4f(t.p0[3].y, t.p1[3].y, t.p2[3].y, t.p3[3].y));
  put_ch4(p, at + 14u * q, cl + 14u, co + 14u, vec4f(t.p0[3].z, t.p1[3].z, t.p2[3].z, t.p3[3].z)); put_ch4(p, at + 15u * q, cl + 15u, co + 15u, vec4f(t.p0[3].w, t.p1[3].w, t.p2[3].w, t.p3[3].w));
}

fn put_tile(p: SgConv, m0: u32, cl: u32, co: u32, t: Tile) {
  put4_all(p, m0, cl, co, t.p0); put4_all(p, m0 + 1u, cl, co, t.p1);
  put4_all(p, m0 + 2u, cl, co, t.p2); put4_all(p, m0 + 3u, cl, co, t.p3);
}

// acc + the 4 input channels of x times their rows of 4 output channels
fn fma4(acc: vec4f, x: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return acc + x.x * w0 + x.y * w1 + x.z * w2 + x.w * w3;
}

fn place(p: SgConv, wgi: u32, lid: u32) -> Place {
  let cbg = wgi % p.ncbg;
  let cl = (cbg % p.ncb) * 16u;
  return Place(((wgi / p.ncbg) * WG + lid) * 4u, cl, (cbg / p.ncb) * p.cog + cl);
}

fn sg_conv(p: SgConv, wgi: u32, lid: u32, lane: u32) -> Tile {
  let cbg = wgi % p.ncbg;
  let m0 = ((wgi / p.ncbg) * WG + lid) * 4u;
  let grp = cbg / p.ncb;
  let c0 = grp * p.c4g;
  let bases = pixel_bases(p, m0) + c0;
  let b0 = bases.x;
  let b1 = bases.y;
  let b2 = bases.z;
  let b3 = bases.w;
  // a<pixel><block of 4 output channels>
  var a00 = vec4f(0.0); var a01 = vec4f(0.0); var a02 = vec4f(0.0); var a03 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0); var a12 = vec4f(0.0); var a13 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0); var a22 = vec4f(0.0); var a23 = vec4f(0.0);
  var a30 = vec4f(0.0); var a31 = vec4f(0.0); var a32 = vec4f(0.0); var a33 = vec4f(0.0);
  var wt = cbg * p.kh * p.kw * p.kc * 16u + lane;
  for (var a = 0u; a < p.kh; a++) {
    for (var b = 0u; b < p.kw; b++) {
      let off = (a * p.dh * p.wp + b * p.dw) * p.ct;
      for (var c4 = 0u; c4 < p.kc; c4++) {
        let x0 = gtexel(b0 + off + c4);
        let x1 = gtexel(b1 + off + c4);
        let x2 = gtexel(b2 + off + c4);
        let x3 = gtexel(b3 + off + c4);
        let wa = wtexel(wt);       // lanes 0-3: input channel 0, 4-7: channel 1 (of the 4)
        let wb = wtexel(wt + 8u);  // channels 2 and 3
        wt += 16u;
        // w<input channel><block of 4 output channels>
        let w00 = subgroupBroadcast(wa, 0u); let w01 = subgroupBroadcast(wa, 1u);
        let w02 = subgroupBroadcast(wa, 2u); let w03 = subgroupBroadcast(wa, 3u);
        let w10 = subgroupBroadcast(wa, 4u); let w11 = subgroupBroadcast(wa, 5u);
        let w12 = subgroupBroadcast(wa, 6u); let w13 = subgroupBroadcast(wa, 7u);
        let w20 = subgroupBroadcast(wb, 0u); let w21 = subgroupBroadcast(wb, 1u);
        let w22 = subgroupBroadcast(wb, 2u); let w23 = subgroupBroadcast(wb, 3u);
        let w30 = subgroupBroadcast(wb, 4u); let w31 = subgroupBroadcast(wb, 5u);
        let w32 = subgroupBroadcast(wb, 6u); let w33 = subgroupBroadcast(wb, 7u);
        a00 = fma4(a00, x0, w00, w10, w20, w30); a01 = fma4(a01, x0, w01, w11, w21, w31);
        a02 = fma4(a02, x0, w02, w12, w22, w32); a03 = fma4(a03, x0, w03, w13, w23, w33);
        a10 = fma4(a10, x1, w00, w10, w20, w30); a11 = fma4(a11, x1, w01, w11, w21, w31);
        a12 = fma4(a12, x1, w02, w12, w22, w32); a13 = fma4(a13, x1, w03, w13, w23, w33);
        a20 = fma4(a20, x2, w00, w10, w20, w30); a21 = fma4(a21, x2, w01, w11, w21, w31);
        a22 = fma4(a22, x2, w02, w12, w22, w32); a23 = fma4(a23, x2, w03, w13, w23, w33);
        a30 = fma4(a30, x3, w00, w10, w20, w30); a31 = fma4(a31, x3, w01, w11, w21, w31);
        a32 = fma4(a32, x3, w02, w12, w22, w32); a33 = fma4(a33, x3, w03, w13, w23, w33);
      }
    }
  }
  return Tile(array(a00, a01, a02, a03), array(a10, a11, a12, a13), array(a20, a21, a22, a23), array(a30, a31, a32, a33));
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
