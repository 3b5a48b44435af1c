// conv2d version 3, weight gradient: both operands are texel grids (conv2d_tex_pack.wgsl):
// x as the forward pass pads it, dy with each group's channels padded to whole blocks of 8,
// either unpadded or the padded grid the backward-data pass reads (stride 1: then dy is packed
// once for both, dy[i, j] at (i + y_offh, j + y_offw)). No workgroup memory, no barriers.
//   dw[o, c, tap] = sum_{n,i,j} dy[n, o, i, j] * xgrid[n, i*sh + a*dh, j*sw + b*dw, c],  tap = a*KW + b
// The reduction over the batch and the plane (long: 25k terms at ResNeSt's layer1) is split
// into ranges of output rows: conv2d_bwd_weight_v3 writes one partial dW per range, each
// invocation an outer product of 8 input x 8 output channels for one tap (2 + 2 texel
// loads per 64 FMAs; measured 7.1 GFLOP/s at layer1 against 6.0 for 4 x 8);
// partial_sum.wgsl sums the partials. x's groups are padded to whole blocks of 8
// channels like dy's.
override WG: u32 = 64;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct TexDw {
  rows: u32, ho: u32, ow: u32, rows_per_split: u32,
  hp: u32, wp: u32, ctx: u32, cty: u32,
  kw: u32, taps: u32, sh: u32, sw: u32,
  dh: u32, dw: u32, c4g: u32, o4g: u32,
  cig: u32, cog: u32, groups: u32, obs: u32,
  total: u32, wsize: u32, _pad0: u32, _pad1: u32,
  y_hp: u32, y_wp: u32, y_offh: u32, y_offw: u32,
}

@group(0) @binding(0) var xgrid: texture_2d<f32>;
@group(0) @binding(1) var dygrid: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<uniform> params: TexDw;

fn xt(t: u32) -> vec4f { return textureLoad(xgrid, vec2u(t & TW_MASK, t >> LOG_TW), 0); }
fn yt(t: u32) -> vec4f { return textureLoad(dygrid, vec2u(t & TW_MASK, t >> LOG_TW), 0); }

fn put(p: TexDw, at: u32, o: u32, c: u32, v: vec4f) {
  // v holds output channels o..o+3 for input channel c
  if (c >= p.cig) { return; }
  for (var k = 0u; k < 4u; k++) {
    if (o + k < p.cog) { partial[at + ((o + k) * p.cig + c) * p.taps] = v[k]; }
  }
}

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let p = params;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let tap = t % p.taps;
  var r = t / p.taps;
  let c8 = r % (p.c4g / 2u); r /= (p.c4g / 2u);
  let ob = r % p.obs; r /= p.obs;
  let g = r % p.groups;
  let split = r / p.groups;
  let a = tap / p.kw;
  let b = tap % p.kw;
  let r0 = split * p.rows_per_split;
  let r1 = min(p.rows, r0 + p.rows_per_split);
  var c0l = vec4f(0.0); var c0h = vec4f(0.0); var c1l = vec4f(0.0); var c1h = vec4f(0.0);
  var c2l = vec4f(0.0); var c2h = vec4f(0.0); var c3l = vec4f(0.0); var c3h = vec4f(0.0);
  var d0l = vec4f(0.0); var d0h = vec4f(0.0); var d1l = vec4f(0.0); var d1h = vec4f(0.0);
  var d2l = vec4f(0.0); var d2h = vec4f(0.0); var d3l = vec4f(0.0); var d3h = vec4f(0.0);
  let xstep = p.sw * p.ctx;
  for (var row = r0; row < r1; row++) {
    let n = row / p.ho;
    let i = row % p.ho;
    var xi = ((n * p.hp + i * p.sh + a * p.dh) * p.wp + b * p.dw) * p.ctx + g * p.c4g + c8 * 2u;
    var yi = ((n * p.y_hp + i + p.y_offh) * p.y_wp + p.y_offw) * p.cty + g * p.o4g + ob * 2u;
    for (var j = 0u; j < p.ow; j++) {
      let x = xt(xi);
      let z = xt(xi + 1u);
      let yl = yt(yi);
      let yh = yt(yi + 1u);
      xi += xstep;
      yi += p.cty;
      c0l += x.x * yl; c0h += x.x * yh;
      c1l += x.y * yl; c1h += x.y * yh;
      c2l += x.z * yl; c2h += x.z * yh;
      c3l += x.w * yl; c3h += x.w * yh;
      d0l += z.x * yl; d0h += z.x * yh;
      d1l += z.y * yl; d1h += z.y * yh;
      d2l += z.z * yl; d2h += z.z * yh;
      d3l += z.w * yl; d3h += z.w * yh;
    }
  }
  let at = split * p.wsize + ((g * p.cog) * p.cig) * p.taps + tap;
  let o = ob * 8u;
  let c = c8 * 8u;
  put(p, at, o, c, c0l); put(p, at, o + 4u, c, c0h);
  put(p, at, o, c + 1u, c1l); put(p, at, o + 4u, c + 1u, c1h);
  put(p, at, o, c + 2u, c2l); put(p, at, o + 4u, c + 2u, c2h);
  put(p, at, o, c + 3u, c3l); put(p, at, o + 4u, c + 3u, c3h);
  put(p, at, o, c + 4u, d0l); put(p, at, o + 4u, c + 4u, d0h);
  put(p, at, o, c + 5u, d1l); put(p, at, o + 4u, c + 5u, d1h);
  put(p, at, o, c + 6u, d2l); put(p, at, o + 4u, c + 6u, d2h);
  put(p, at, o, c + 7u, d3l); put(p, at, o + 4u, c + 7u, d3h);
}
