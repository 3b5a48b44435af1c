// Sum of partials, the last step of every reduction split over threads or chunks (conv2d's
// weight gradient over pixel ranges, split attention's plane sums, the full reduction's passes):
//   out[i] = (accumulate ? out[i] : 0) + scale * sum_{t < T, j = i*SI + t*ST < n} parts[j]
// One invocation per output; SI/ST strides in floats place each output's partials (contiguous
// runs: SI = T, ST = 1; interleaved blocks: SI = 1, ST = outputs). Two accumulators halve the
// dependency chain of the adds. No workgroup memory or barriers (slow on CPU adapters).
override WG: u32 = 64;

struct Params { count: u32, T: u32, SI: u32, ST: u32, n: u32, accumulate: u32, scale: f32, _pad: u32 }

@group(0) @binding(0) var<storage, read> parts: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn partial_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid, WG);
  if (i >= p.count) { return; }
  var s0 = 0.0;
  var s1 = 0.0;
  for (var t = 0u; t < p.T; t += 2u) {
    let j0 = i * p.SI + t * p.ST;
    let j1 = j0 + p.ST;
    if (j0 < p.n) { s0 += parts[j0]; }
    if (t + 1u < p.T && j1 < p.n) { s1 += parts[j1]; }
  }
  var s = p.scale * (s0 + s1);
  if (p.accumulate != 0u) { s += out[i]; }
  out[i] = s;
}
