// conv2d version 3, layout changes: NCHW storage buffers -> the texture and uniform layouts
// of conv2d_tex.wgsl and conv2d_tex_dw.wgsl.
//
// conv2d_pack_v3: a batch of NCHW activations -> a zero-padded NHWC grid of rgba32float
// texels, channels of each group padded to whole texels ("vec4 along channels"):
//   texel ((n*Hp + qh)*Wp + qw)*CT + g*C4g + c4 = src[n, g*Cg + 4*c4 + 0..3, (qh-offh)/uh, (qw-offw)/uw]
// or zero where (q - off) is negative, not a multiple of u, or past the source plane.
// Forward: off = padding, u = 1 (the grid holds the padding, so the conv loop has no bounds
// checks). Backward-data: off = (K-1)*dilation - padding, u = stride: the zero-inserted,
// padded dY that turns the transposed convolution into a plain stride-1 one.
// Texel t sits at (t % TW, t / TW) of a TW-wide texture: any tensor fits, whatever W*C.
//
// conv2d_pack_weight_v3: weights -> slices of at most 64 KB bound as uniform buffers, one
// per (group, block of COB output channels, block of KCI input channels):
//   slice[(tap*KCI + ci)*COB + co] = w[g*Cog + cb*COB + co, kb*KCI + ci, tap]          (forward)
//                                  = w[g*Cog + kb*KCI + ci, cb*COB + co, K-1-tap]     (backward-data:
//                                    transposed and flipped, dX = conv(dY, that))
// zero past the real channels. A group may own more texels than its channels need (C4g >
// Cg/4: the weight gradient pads dY's groups to whole blocks of 8); those texels are zero.
override WG: u32 = 64;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct Pack {
  n: u32, c: u32, h: u32, w: u32,
  hp: u32, wp: u32, cg: u32, c4g: u32,
  ct: u32, offh: i32, offw: i32, uh: u32,
  uw: u32, base: u32, total: u32, _pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var grid: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> pp: Pack;

// Where padded coordinate q comes from in the source axis, or -1.
fn source_coord(q: u32, off: i32, u: u32, size: u32) -> i32 {
  let d = i32(q) - off;
  if (d < 0 || u32(d) % u != 0u || u32(d) / u >= size) { return -1; }
  return d / i32(u);
}

@compute @workgroup_size(WG)
fn conv2d_pack_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let p = pp;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  // one texel row (n, qh, c4) per invocation: the index arithmetic, integer divisions
  // included (scalar on CPUs), is paid once per row instead of once per texel
  let c4 = t % p.ct;
  let rest = t / p.ct;
  let qh = rest % p.hp;
  let n = rest / p.hp;
  let g = c4 / p.c4g;
  let cl = (c4 % p.c4g) * 4u;
  let ih = source_coord(qh, p.offh, p.uh, p.h);
  let live = ih >= 0 && cl < p.cg;
  let plane = p.h * p.w;
  let left = p.cg - min(cl, p.cg);
  let row = p.base + (n * p.c + g * p.cg + cl) * plane + u32(max(ih, 0)) * p.w;
  var texel = ((n * p.hp + qh) * p.wp) * p.ct + c4;
  for (var qw = 0u; qw < p.wp; qw++) {
    var v = vec4f(0.0);
    var iw = i32(qw) - p.offw;
    if (p.uw != 1u) { iw = source_coord(qw, p.offw, p.uw, p.w); } else if (iw >= i32(p.w)) { iw = -1; }
    if (live && iw >= 0) {
      let at = row + u32(iw);
      v.x = src[at];
      if (left > 1u) { v.y = src[at + plane]; }
      if (left > 2u) { v.z = src[at + 2u * plane]; }
      if (left > 3u) { v.w = src[at + 3u * plane]; }
    }
    textureStore(grid, vec2u(texel & TW_MASK, texel >> LOG_TW), v);
    texel += p.ct;
  }
}

struct WPack {
  transposed: u32, cig: u32, cog: u32, taps: u32,
  cob: u32, kci: u32, ncb: u32, nkb: u32,
  slice: u32, total: u32, a_per_group: u32, b_per_group: u32,
}

@group(0) @binding(0) var<storage, read> wsrc: array<f32>;
@group(0) @binding(1) var<storage, read_write> wdst: array<f32>;
@group(0) @binding(2) var<uniform> wp: WPack;

@compute @workgroup_size(WG)
fn conv2d_pack_weight_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                         @builtin(local_invocation_index) lid: u32) {
  let p = wp;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let per_slice = p.taps * p.kci * p.cob;
  let s = t / per_slice;
  let e = t % per_slice;
  let co = e % p.cob;
  let ci = (e / p.cob) % p.kci;
  let tap = e / (p.cob * p.kci);
  let kb = s % p.nkb;
  let cb = (s / p.nkb) % p.ncb;
  let g = s / (p.nkb * p.ncb);
  let a = kb * p.kci + ci;  // channel the kernel reads (input of the conv it runs)
  let b = cb * p.cob + co;  // channel the kernel writes
  var v = 0.0;
  if (a < p.a_per_group && b < p.b_per_group) {
    if (p.transposed == 0u) {
      v = wsrc[((g * p.cog + b) * p.cig + a) * p.taps + tap];
    } else {
      v = wsrc[((g * p.cog + a) * p.cig + b) * p.taps + (p.taps - 1u - tap)];
    }
  }
  wdst[s * p.slice + e] = v;
}
