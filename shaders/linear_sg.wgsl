enable subgroups;
// matmul version 5 (kernels/matmul.ts), for GPUs with subgroups: out = alpha * op(A) op(B)
// [+ out] [+ bias] (layouts: linear_operands.wgsl) for the products with few outputs and a long
// sum, which tiles of outputs spread over too few workgroups to fill a GPU (the classifier head:
// [32, 2048] x [2048, 40] is one 64 x 64 tile). One workgroup of WG invocations per 4 x 4 block
// of outputs (grid x, y: the blocks, folded; z: the batch); invocation i sums k = i, i + WG, ...
// for its 16 outputs, neighbouring invocations reading neighbouring k (coalesced along K for
// A [M, K] and B [N, K]), and subgroup_sum16.wgsl reduces over the workgroup. Any shape.
//! include linear_operands
override WG: u32 = 64u;
//! include subgroup_sum16

@compute @workgroup_size(WG)
fn linear_matmul_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let blocks_n = (p.N + 3u) / 4u;
  let t = wid.x + wid.y * nwg.x;
  let m0 = (t / blocks_n) * 4u;
  let n0 = (t % blocks_n) * 4u;
  let baseA = wid.z * p.strideA;
  let baseB = wid.z * p.strideB;
  // rows and columns past the edge read the last one (clamped) and are not stored
  var rows: array<u32, 4>;
  var cols: array<u32, 4>;
  for (var q = 0u; q < 4u; q++) {
    rows[q] = min(m0 + q, p.M - 1u);
    cols[q] = min(n0 + q, p.N - 1u);
  }
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += WG) { // uniform bounds: subgroupAdd below needs every lane
    let k = k0 + lid;
    if (k < p.K) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var q = 0u; q < 4u; q++) {
        av[q] = a[a_index(rows[q], k, baseA)];
        bv[q] = b[b_index(k, cols[q], baseB)];
      }
      for (var q = 0u; q < 4u; q++) {
        for (var r = 0u; r < 4u; r++) { acc[q * 4u + r] = fma(av[q], bv[r], acc[q * 4u + r]); }
      }
    }
  }
  let total = workgroup_sum16(acc, lid, lane);
  let m = m0 + lid / 4u;
  let n = n0 + lid % 4u;
  if (lid < 16u && m < p.M && n < p.N) {
    let o = wid.z * p.strideOut + m * p.N + n;
    out[o] = epilogue(total, n, o);
  }
}
