// Full reduction: sum (times `scale`, which makes mean) of n f32 values, in passes.
// Each pass: invocation t of T sums x[t], x[t+T], ... x[t+(SEG-1)T] (T = ceil(n/SEG)), so
// neighbouring invocations read neighbouring values; the host repeats the pass on the T
// partial sums until one value is left. No workgroup memory or barriers: they are slow on
// CPU adapters and buy little for a reduction done once per step. Accumulates in f32 with
// pairwise-ish error growth bounded by SEG per level.
//   reduce_sum   out[t] = scale * sum_k x[t + k*T]
override WG: u32 = 256;
override SEG: u32 = 64;

struct Params { n: u32, threads: u32, scale: f32, _pad: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn reduce_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_workgroup(wid, nwg) * WG + lid;
  if (t >= p.threads) { return; }
  var s0 = 0.0;
  var s1 = 0.0;
  for (var k = 0u; k < SEG; k += 2u) {
    let i0 = t + k * p.threads;
    let i1 = i0 + p.threads;
    if (i0 < p.n) { s0 += x[i0]; }
    if (i1 < p.n) { s1 += x[i1]; }
  }
  out[t] = p.scale * (s0 + s1);
}
