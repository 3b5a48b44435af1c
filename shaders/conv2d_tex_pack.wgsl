// conv2d version 3, layout changes: NCHW storage buffers -> the texture and uniform layouts
// of conv2d_tex.wgsl and conv2d_tex_dw.wgsl.
//
// conv2d_pack_v3: a batch of NCHW activations -> a zero-padded NHWC grid of rgba32float
// texels, channels of each group padded to whole texels (conv2d_grid_pack.wgsl).
// Forward: off = padding, u = 1 (the grid holds the padding, so the conv loop has no bounds
// checks). Backward-data: off = (K-1)*dilation - padding, u = stride: the zero-inserted,
// padded dY that turns the transposed convolution into a plain stride-1 one.
//
// conv2d_pack_weight_v3: weights -> slices of at most 64 KB bound as uniform buffers, one
// per (group, block of COB output channels, block of KCI input channels):
//   slice[(tap*KCI + ci)*COB + co] = w[g*Cog + cb*COB + co, kb*KCI + ci, tap]          (forward)
//                                  = w[g*Cog + kb*KCI + ci, cb*COB + co, K-1-tap]     (backward-data:
//                                    transposed and flipped, dX = conv(dY, that))
// zero past the real channels. A group may own more texels than its channels need (C4g >
// Cg/4: the weight gradient pads dY's groups to whole blocks of 8); those texels are zero.
override WG: u32 = 64;
//! include conv2d_grid_pack

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var grid: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> pp: GridJob;

fn src_at(second: bool, i: u32) -> f32 {
  return src[i];
}

fn store(second: bool, t: u32, v: vec4f) {
  textureStore(grid, vec2u(t & TW_MASK, t >> LOG_TW), v);
}

@compute @workgroup_size(WG)
fn conv2d_pack_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let p = pp;
  let t = thread_index(wid, nwg, lid, WG);
  if (t < p.rows) { grid_row(p, t, false); }
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
