// conv2d version 7, layout changes, both operands of a pass in one dispatch: invocations
// [0, first.rows) lay out the first tensor, the next ones the second. Texels go to storage
// buffers, which the host copies into the textures the convolution reads: lavapipe's texture
// stores cost 4x a buffer store plus the copy (kernels/conv2d_sgtex.ts).
//
// Activations (a "grid" job, conv2d_grid_pack.wgsl, as v3 lays them out): a batch of NCHW
// values -> a zero-padded NHWC grid of rgba32float texels, one invocation per texel row.
// Weights (a "weight" job), one invocation per row of 32 texels: per block of 32 output channels
// (counted over every group), tap and texel of 4 input channels, 32 texels
//   texel ((cbg*TAPS + tap)*KC + c4)*32 + 8*s + q = w'[cbg*32 + 4*q + 0..3, 4*c4 + s, tap]
// with w' = w (forward: w[g*Cog + b, a, tap]) or, for dX, transposed and flipped
// (w[g*Cog + a, b, TAPS-1-tap]); a counts the channels the conv reads, b those it writes,
// both within group g = cbg / NCB; zero past either.
// conv2d_pack_grid_weight_v7: a grid job then a weight job (forward, dX);
// conv2d_pack_grids_v7: two grid jobs (x and dY for dW).
override WG: u32 = 64;
//! include conv2d_grid_pack

struct WeightJob {
  transposed: u32, cig: u32, cog: u32, taps: u32,
  ncb: u32, kc: u32, a_per_group: u32, b_per_group: u32,
  total: u32,
}

// the second job's 16 words as a weight job (kernels/conv2d_sgtex.ts writes them in this order)
fn weight_job(j: GridJob) -> WeightJob {
  return WeightJob(j.n, j.c, j.h, j.w, j.hp, j.wp, j.cg, j.c4g, j.ct);
}

struct Jobs { first: GridJob, second: GridJob }

@group(0) @binding(0) var<storage, read> src0: array<f32>;
@group(0) @binding(1) var<storage, read> src1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out0: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out1: array<vec4f>;
@group(0) @binding(4) var<uniform> jobs: Jobs;

fn src_at(second: bool, i: u32) -> f32 {
  if (second) { return src1[i]; }
  return src0[i];
}

fn store(second: bool, t: u32, v: vec4f) {
  if (second) { out1[t] = v; } else { out0[t] = v; }
}

fn weight(p: WeightJob, g: u32, a: u32, b: u32, tap: u32) -> f32 {
  if (a >= p.a_per_group || b >= p.b_per_group) { return 0.0; }
  if (p.transposed == 0u) { return src1[((g * p.cog + b) * p.cig + a) * p.taps + tap]; }
  return src1[((g * p.cog + a) * p.cig + b) * p.taps + (p.taps - 1u - tap)];
}

// One row of 32 texels (cbg, tap, c4) per invocation: its integer divisions (scalar per lane on
// a CPU) once per 128 weights instead of once per 4, which made them most of the weights' cost.
fn weight_row(p: WeightJob, r: u32) {
  let c4 = r % p.kc;
  let rest = r / p.kc;
  let tap = rest % p.taps;
  let cbg = rest / p.taps;
  let g = cbg / p.ncb;
  let b0 = (cbg % p.ncb) * 32u;
  // q outside: the forward's 4 rows b..b+3 are read whole before the next 4 (rows cig*taps apart
  // share cache sets: visiting 32 of them per s evicted each before its next column was read)
  for (var q = 0u; q < 8u; q++) {
    let b = b0 + 4u * q;
    for (var s = 0u; s < 4u; s++) {
      let a = c4 * 4u + s;
      store(true, r * 32u + 8u * s + q, vec4f(weight(p, g, a, b, tap), weight(p, g, a, b + 1u, tap), weight(p, g, a, b + 2u, tap), weight(p, g, a, b + 3u, tap)));
    }
  }
}

@compute @workgroup_size(WG)
fn conv2d_pack_grid_weight_v7(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                              @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let first = jobs.first;
  if (t < first.rows) { grid_row(first, t, false); return; }
  let second = weight_job(jobs.second);
  if (t - first.rows < second.total / 32u) { weight_row(second, t - first.rows); }
}

@compute @workgroup_size(WG)
fn conv2d_pack_grids_v7(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let first = jobs.first;
  if (t < first.rows) { grid_row(first, t, false); return; }
  let second = jobs.second;
  if (t - first.rows < second.rows) { grid_row(second, t - first.rows, true); }
}
