// Included by pool2d_fwd.wgsl, pool2d_bwd.wgsl and pool2d_adaptive.wgsl (their `//! include`
// line, kernels/wgsl.ts): the window as override constants (kernels/pool2d.ts sets them per
// pipeline; the adaptive entries leave them unused), the parameter block the host packs, and the
// window arithmetic forward and backward share.
override WG: u32 = 64;
override KH: i32 = 3;
override KW: i32 = 3;
override SH: i32 = 2;
override SW: i32 = 2;
override PH: i32 = 1;
override PW: i32 = 1;
override DH: i32 = 1;
override DW: i32 = 1;

// count_include_pad: 0/1; divisor: divisor_override (0 = none); threads: invocations (a flat
// grid); units: threads per row; neg_inf: -infinity, from the host (a constant expression may
// not overflow to it). (A grid of rows saves the divisions, but rows of 14-28 threads leave
// most lanes of a workgroup idle: measured 40% slower.)
struct PoolParams {
  H: i32, W: i32, OH: i32, OW: i32, planes: i32, threads: u32, count_include_pad: u32, divisor: f32,
  neg_inf: f32, units: i32, _p0: u32, _p1: u32,
}

fn floor_div(a: i32, b: i32) -> i32 {
  let q = a / b;
  return select(q, q - 1, (a % b != 0) && ((a < 0) != (b < 0)));
}

// avg: divisor_override, else the window's area with (count_include_pad) or without padding,
// where (PyTorch avg_pool2d) the window ends at min(start + K, size + pad) before clipping
fn avg_divisor(p: PoolParams, oh: i32, ow: i32) -> f32 {
  if (p.divisor != 0.0) { return p.divisor; }
  let hs = oh * SH - PH;
  let ws = ow * SW - PW;
  let he = min(hs + KH, p.H + PH);
  let we = min(ws + KW, p.W + PW);
  if (p.count_include_pad != 0u) { return f32((he - hs) * (we - ws)); }
  return f32((min(he, p.H) - max(hs, 0)) * (min(we, p.W) - max(ws, 0)));
}
