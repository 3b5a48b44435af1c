// conv2d version 2: implicit GEMM with 64 x 64 x 16 workgroup-memory tiles over NCHW storage
// buffers, for GPUs (coalesced global loads, operands reused from workgroup memory). The GEMM,
// its gathers and the tile loop are conv2d_gemm_tile.wgsl's; here, how v2 splits and stores:
//   fwd        C -> y[n, g*Cog + o, i, j] (+ bias)
//   bwd_input  C -> dx[n, g*Cig + c, r, s] (added into it with accumulate)
//   bwd_weight the pixels (k) cut into splits of k_split, grid z = (split, group, column tile);
//              C -> partial[split, g*Cog + o, c, a, b] (partial_sum.wgsl sums the splits)
//! include conv2d_gemm_tile
override HAS_BIAS: bool = false;

fn store_v2(mode: u32, p: Gemm, g: u32, split: u32, m: u32, col: u32, v: f32) {
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
    dst[split * p.co * p.nn + (g * p.cog + m) * p.nn + col] = v;
  }
}

fn tiled(mode: u32, wid: vec3u, nwg: vec3u, lid: u32) {
  let p = params;
  let tm = wid.x + wid.y * nwg.x;
  let tn = wid.z % p.tiles_n;
  let g = (wid.z / p.tiles_n) % p.groups;
  let split = wid.z / (p.tiles_n * p.groups);
  let m0 = tm * BM;
  let n0 = tn * BN;
  let k_begin = split * p.k_split;
  let acc = gemm_tile(mode, p, g, m0, n0, k_begin, min(p.k, k_begin + p.k_split), lid);
  let sm = BM / 4u;
  let sn = BN / 4u;
  for (var q = 0u; q < 4u; q++) {
    for (var r = 0u; r < 4u; r++) { store_v2(mode, p, g, split, m0 + lid % sm + sm * q, n0 + lid / sm + sn * r, acc[q * 4u + r]); }
  }
}

@compute @workgroup_size(WG)
fn conv2d_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  tiled(0u, wid, nwg, lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_input_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  tiled(1u, wid, nwg, lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  tiled(2u, wid, nwg, lid);
}
