// conv2d version 7, weights -> the texel layout of conv2d_sgtex.wgsl: per block of 16 output
// channels (counted over every group), tap and texel of 4 input channels, 16 texels
//   texel ((cbg*TAPS + tap)*KC + c4)*16 + 4*s + q = w'[cbg*16 + 4*q + 0..3, 4*c4 + s, tap]
// with w' = w (forward: w[g*Cog + b, a, tap]) or, for dX, transposed and flipped
// (w[g*Cog + a, b, TAPS-1-tap]); a counts the channels the conv reads, b those it writes,
// both within group g = cbg / NCB; zero past either.
override WG: u32 = 64;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct WPack {
  transposed: u32, cig: u32, cog: u32, taps: u32,
  ncb: u32, kc: u32, a_per_group: u32, b_per_group: u32,
  total: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<storage, read> wsrc: array<f32>;
@group(0) @binding(1) var wtex: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> wp: WPack;

fn weight(p: WPack, g: u32, a: u32, b: u32, tap: u32) -> f32 {
  if (a >= p.a_per_group || b >= p.b_per_group) { return 0.0; }
  if (p.transposed == 0u) { return wsrc[((g * p.cog + b) * p.cig + a) * p.taps + tap]; }
  return wsrc[((g * p.cog + a) * p.cig + b) * p.taps + (p.taps - 1u - tap)];
}

@compute @workgroup_size(WG)
fn conv2d_pack_weight_v7(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                         @builtin(local_invocation_index) lid: u32) {
  let p = wp;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let j = t % 16u;
  let rest = t / 16u;
  let c4 = rest % p.kc;
  let tap = (rest / p.kc) % p.taps;
  let cbg = rest / (p.kc * p.taps);
  let g = cbg / p.ncb;
  let a = c4 * 4u + j / 4u;
  let b = (cbg % p.ncb) * 16u + (j % 4u) * 4u;
  let v = vec4f(weight(p, g, a, b, tap), weight(p, g, a, b + 1u, tap), weight(p, g, a, b + 2u, tap), weight(p, g, a, b + 3u, tap));
  textureStore(wtex, vec2u(t & TW_MASK, t >> LOG_TW), v);
}
