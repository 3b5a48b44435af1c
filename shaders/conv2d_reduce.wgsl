// conv2d weight gradient, last step of the versions that split the reduction over pixels:
// dw[i] = (accumulate ? dw[i] : 0) + sum_s partial[s * wsize + i].
override WG: u32 = 64;

struct Reduce { wsize: u32, splits: u32, accumulate: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> parts: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw_out: array<f32>;
@group(0) @binding(2) var<uniform> rp: Reduce;

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                            @builtin(local_invocation_index) lid: u32) {
  let t = flat_workgroup(wid, nwg) * WG + lid;
  if (t >= rp.wsize) { return; }
  var s = 0.0;
  for (var k = 0u; k < rp.splits; k++) { s += parts[k * rp.wsize + t]; }
  if (rp.accumulate != 0u) { s += dw_out[t]; }
  dw_out[t] = s;
}
