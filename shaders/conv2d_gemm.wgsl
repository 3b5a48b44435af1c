// conv2d version 5: implicit GEMM for GPUs with the tile sizes BM x BN x BK as parameters
// (override constants the host sets from the version's tuned parameters) and one dispatch per
// pass: the weight gradient reduces over every pixel inside its workgroup, with no partials
// pass (v2). The GEMM, its gathers and the tile loop are conv2d_gemm_tile.wgsl's; here, the
// stores:
//   fwd        C -> y[n, g*Cog + o, i, j] (+ bias)
//   bwd_input  C -> dx[n, g*Cig + c, r, s]
//   bwd_weight C -> dw[g*Cog + o, c, a, b] (+ dw when accumulating over batch chunks)
//! include conv2d_gemm_tile
override HAS_BIAS: bool = false;

fn store_v5(mode: u32, p: Gemm, g: u32, m: u32, col: u32, v: f32) {
  if (m >= p.m || col >= p.nn) { return; }
  if (mode == 0u) {
    let plane = p.ho * p.wo;
    let o = g * p.cog + col;
    var r = v;
    if (HAS_BIAS) { r += bias[o]; }
    dst[p.o_base + (m / plane * p.co + o) * plane + m % plane] = r;
  } else if (mode == 1u) {
    let plane = p.h * p.w;
    let at = p.o_base + (m / plane * p.c + g * p.cig + col) * plane + m % plane;
    dst[at] = select(v, v + dst[at], p.accumulate != 0u); // dX into a gradient gathered so far
  } else {
    let at = (g * p.cog + m) * p.nn + col;
    dst[at] = select(v, v + dst[at], p.accumulate != 0u);
  }
}

fn gemm(mode: u32, wid: vec3u, nwg: vec3u, lid: u32) {
  let p = params;
  let m0 = (wid.x + wid.y * nwg.x) * BM;
  let n0 = (wid.z % p.tiles_n) * BN;
  let g = wid.z / p.tiles_n;
  let acc = gemm_tile(mode, p, g, m0, n0, 0u, p.k, lid);
  let sm = BM / 4u;
  let sn = BN / 4u;
  for (var q = 0u; q < 4u; q++) {
    for (var r = 0u; r < 4u; r++) { store_v5(mode, p, g, m0 + lid % sm + sm * q, n0 + lid / sm + sn * r, acc[q * 4u + r]); }
  }
}

@compute @workgroup_size(WG)
fn conv2d_fwd_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  gemm(0u, wid, nwg, lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_input_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  gemm(1u, wid, nwg, lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  gemm(2u, wid, nwg, lid);
}
