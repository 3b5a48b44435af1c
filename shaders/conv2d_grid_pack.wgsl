// Included by conv2d_tex_pack.wgsl (v3) and conv2d_sgtex_pack.wgsl (v7) (their `//! include`
// line, kernels/wgsl.ts): a batch of NCHW activations -> a zero-padded NHWC grid of rgba32float
// texels, channels of each group padded to whole texels ("vec4 along channels"):
//   texel ((n*Hp + qh)*Wp + qw)*CT + g*C4g + c4 = src[n, g*Cg + 4*c4 + 0..3, (qh-offh)/uh, (qw-offw)/uw]
// or zero where (q - off) is negative, not a multiple of u, or past the source plane.
// Texel t sits at (t % TW, t / TW) of a TW-wide texture: any tensor fits, whatever W*C.
// The including shader defines src_at(second, i) (a source value) and store(second, t, v) (a
// texel), `second` naming which of its two tensors a job lays out.
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct GridJob {
  n: u32, c: u32, h: u32, w: u32,
  hp: u32, wp: u32, cg: u32, c4g: u32,
  ct: u32, offh: i32, offw: i32, uh: u32,
  uw: u32, base: u32, rows: u32, _pad: u32,
}

// Where padded coordinate q comes from in the source axis, or -1.
fn source_coord(q: u32, off: i32, u: u32, size: u32) -> i32 {
  let d = i32(q) - off;
  if (d < 0 || u32(d) % u != 0u || u32(d) / u >= size) { return -1; }
  return d / i32(u);
}

// One texel row (n, qh, c4) per invocation: the index arithmetic, integer divisions included
// (scalar on CPUs), is paid once per row instead of once per texel.
fn grid_row(p: GridJob, t: u32, second: bool) {
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
      v.x = src_at(second, at);
      if (left > 1u) { v.y = src_at(second, at + plane); }
      if (left > 2u) { v.z = src_at(second, at + 2u * plane); }
      if (left > 3u) { v.w = src_at(second, at + 3u * plane); }
    }
    store(second, texel, v);
    texel += p.ct;
  }
}
