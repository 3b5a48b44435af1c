// Shared by the subgroup reductions (conv2d_gemm_sg, linear_sg; included with
// `//! include subgroup_sum16`, after the including file's `enable subgroups;` and its
// `override WG`): the workgroup-wide sums of 16 values held by every invocation. subgroupAdd
// reduces each subgroup; one lane per subgroup leaves its 16 sums in workgroup memory, in a slot
// taken with an atomic (no assumption about how invocations map to subgroups or how wide they
// are); invocation e < 16 then adds the slots' e-th sums. Call from uniform control flow.
var<workgroup> sg_sums: array<f32, 16 * WG>; // [slot][16]
var<workgroup> sg_slots: atomic<u32>;

// The workgroup's sum of acc[lid] for lid < 16; 0 for the other invocations.
fn workgroup_sum16(acc: array<f32, 16>, lid: u32, lane: u32) -> f32 {
  var total: array<f32, 16>;
  for (var e = 0u; e < 16u; e++) { total[e] = subgroupAdd(acc[e]); }
  if (lane == 0u) {
    let slot = atomicAdd(&sg_slots, 1u);
    for (var e = 0u; e < 16u; e++) { sg_sums[slot * 16u + e] = total[e]; }
  }
  workgroupBarrier();
  var s = 0.0;
  if (lid < 16u) {
    let used = atomicLoad(&sg_slots);
    for (var k = 0u; k < used; k++) { s += sg_sums[k * 16u + lid]; }
  }
  return s;
}
