enable subgroups;
// conv2d version 6 weight gradient: v5's one-dispatch dW reshaped for GPUs with subgroups, for
// the weight gradients whose output (Cog x Cig*KH*KW per group) is too small to fill a GPU with
// v5's 64 x 64 tiles while each output sums over every pixel of the batch (N*Ho*Wo terms).
//   dw[g*Cog + o, c, a, b] (+= when accumulating) = sum_k dy[n, g*Cog + o, i, j] * x[n, g*Cig + c, i*sh - ph + a*dh, j*sw - pw + b*dw]
// with k = (n, i, j). One workgroup of WG invocations per 4 x 4 block of outputs: each
// invocation sums every WG-th pixel for its 16 outputs, and subgroup_sum16.wgsl reduces them over
// the workgroup (subgroupAdd, then one slot per subgroup); 16 invocations store.
//! include conv2d_gemm_geometry
override WG: u32 = 64u;
//! include subgroup_sum16

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> params: Gemm;

// x at the tap of pixel q = (n, i, j) and column col = (c, a, b); 0 in the padding or past the columns
fn x_at(p: Gemm, g: u32, q: u32, col: u32) -> f32 {
  if (col >= p.nn) { return 0.0; }
  let at = x_tap(p, g, q, col);
  return select(0.0, x[p.b_base + u32(max(at, 0))], at >= 0);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v6(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let p = params;
  let t = wid.x + wid.y * nwg.x;
  let g = wid.z;
  let m0 = (t / p.tiles_n) * 4u;
  let n0 = (t % p.tiles_n) * 4u;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.k; k0 += WG) {
    let k = k0 + lid;
    if (k < p.k) {
      let j = k % p.wo;
      let i = (k / p.wo) % p.ho;
      let n = k / (p.wo * p.ho);
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var q = 0u; q < 4u; q++) {
        let o = m0 + q;
        av[q] = select(0.0, dy[p.a_base + ((n * p.co + g * p.cog + min(o, p.m - 1u)) * p.ho + i) * p.wo + j], o < p.m);
        bv[q] = x_at(p, g, k, n0 + q);
      }
      for (var q = 0u; q < 4u; q++) {
        for (var r = 0u; r < 4u; r++) { acc[q * 4u + r] = fma(av[q], bv[r], acc[q * 4u + r]); }
      }
    }
  }
  let total = workgroup_sum16(acc, lid, lane);
  if (lid < 16u) {
    let o = m0 + lid / 4u;
    let col = n0 + lid % 4u;
    if (o < p.m && col < p.nn) {
      let at = (g * p.cog + o) * p.nn + col;
      dw[at] = select(total, total + dw[at], p.accumulate != 0u);
    }
  }
}
