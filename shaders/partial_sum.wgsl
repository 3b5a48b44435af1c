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

// the same bindings as vec4s, used only by partial_sum_vec4 (no entry point uses both)
@group(0) @binding(0) var<storage, read> parts4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;

// four consecutive outputs an invocation, where SI = 1 and count, ST and n are multiples of 4
// (the partials of conv2d's weight gradients): one vec4 load a partial and one vec4 store, the
// adds in the scalar kernel's order. A store is a loop over the lanes on a CPU adapter whatever
// its width, so a vec4 stores 4 outputs for about the price of one.
@compute @workgroup_size(WG)
fn partial_sum_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid, WG);
  if (4u * i >= p.count) { return; }
  let st4 = p.ST / 4u;
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  for (var t = 0u; t < p.T; t += 2u) {
    let j0 = i + t * st4;
    let j1 = j0 + st4;
    if (4u * j0 < p.n) { s0 += parts4[j0]; }
    if (t + 1u < p.T && 4u * j1 < p.n) { s1 += parts4[j1]; }
  }
  var s = p.scale * (s0 + s1);
  if (p.accumulate != 0u) { s += out4[i]; }
  out4[i] = s;
}
