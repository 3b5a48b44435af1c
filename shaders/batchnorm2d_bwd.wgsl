// Batch norm backward over NCHW, per channel c, M = N*H*W values per channel (the forward:
// batchnorm2d_fwd.wgsl), with g = dy masked by (y > 0) when relu is fused:
//   dbeta = sum g, dgamma = invstd * sum g (x - mean)
//   training: dx = A g + B (x - mean) + D, A = gamma invstd, B = -A invstd^2 sum g (x-mean) / M,
//             D = -A sum g / M   (= gamma invstd / M (M g - dbeta - xhat dgamma))
//   eval:     dx = A g
// The sums are two-level like the forward's statistics: T threads per channel write partial
// sums (per chunk of samples for a batch over one binding), merged by the finalize pass.
//
// Entries (v1: scalar, any H*W; v2: vec4, H*W % 4 == 0, grid (plane chunk, c, n)):
//   batchnorm2d_bwd_reduce_v1|v2   x, dy, y, coef -> partials (sum g, sum g (x-mean)), g (RELU)
//   batchnorm2d_bwd_finalize       partials, weight, coef -> dgamma, dbeta, bcoef[c] = (A, B, mean, D)
//   batchnorm2d_bwd_dx_v1|v2       x, g, bcoef -> dx
//! include batchnorm2d_common

// ---- backward: per-channel sums of g and g (x - mean); g = dy masked by y > 0 under RELU ----
@group(0) @binding(0) var<storage, read> br_x1: array<f32>;
@group(0) @binding(0) var<storage, read> br_x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> br_dy1: array<f32>;
@group(0) @binding(1) var<storage, read> br_dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> br_y1: array<f32>;
@group(0) @binding(2) var<storage, read> br_y4: array<vec4f>;
@group(0) @binding(3) var<storage, read> br_coef: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> br_partials: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> br_g1: array<f32>;
@group(0) @binding(5) var<storage, read_write> br_g4: array<vec4f>;
@group(0) @binding(6) var<uniform> bp: ReduceParams;

@compute @workgroup_size(WG)
fn batchnorm2d_bwd_reduce_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= bp.C * bp.T) { return; }
  let c = tid / bp.T;
  let t = tid % bp.T;
  let mean = br_coef[c].z;
  var sg = 0.0;
  var sgx = 0.0;
  for (var n = 0u; n < bp.N; n++) {
    let base = (n * bp.C + c) * bp.HWu;
    for (var k = t; k < bp.HWu; k += bp.T) {
      var g = br_dy1[base + k];
      if (RELU) {
        g = select(0.0, g, br_y1[base + k] > 0.0);
        br_g1[base + k] = g;
      }
      sg += g;
      sgx = fma(g, br_x1[base + k] - mean, sgx);
    }
  }
  br_partials[tid] = vec4f(sg, sgx, 0.0, 0.0);
}

@compute @workgroup_size(WG)
fn batchnorm2d_bwd_reduce_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= bp.C * bp.T) { return; }
  let c = tid / bp.T;
  let t = tid % bp.T;
  let mean = vec4f(br_coef[c].z);
  var sg = vec4f(0.0);
  var sgx = vec4f(0.0);
  for (var n = 0u; n < bp.N; n++) {
    let base = (n * bp.C + c) * bp.HWu;
    for (var k = t; k < bp.HWu; k += bp.T) {
      var g = br_dy4[base + k];
      if (RELU) {
        g = select(vec4f(0.0), g, br_y4[base + k] > vec4f(0.0));
        br_g4[base + k] = g;
      }
      sg += g;
      sgx = fma(g, br_x4[base + k] - mean, sgx);
    }
  }
  let ones = vec4f(1.0);
  br_partials[tid] = vec4f(dot(sg, ones), dot(sgx, ones), 0.0, 0.0);
}

@group(0) @binding(0) var<storage, read> bf_partials: array<vec4f>;
@group(0) @binding(1) var<storage, read> bf_weight: array<f32>;
@group(0) @binding(2) var<storage, read> bf_coef: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> bf_dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> bf_dbeta: array<f32>;
@group(0) @binding(5) var<storage, read_write> bf_bcoef: array<vec4f>;
@group(0) @binding(6) var<uniform> bfp: FinalizeParams;

@compute @workgroup_size(WG)
fn batchnorm2d_bwd_finalize(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= bfp.C) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < bfp.chunks; j++) {
    for (var t = 0u; t < bfp.T; t++) {
      let p = bf_partials[j * bfp.stride + c * bfp.T + t];
      sg += p.x;
      sgx += p.y;
    }
  }
  let cf = bf_coef[c];
  let invstd = cf.w;
  var dgamma = sgx * invstd;
  if ((bfp.flags & ADD_DWEIGHT) != 0u) { dgamma += bf_dgamma[c]; }
  bf_dgamma[c] = dgamma;
  bf_dbeta[c] = select(sg, sg + bf_dbeta[c], (bfp.flags & ADD_DBIAS) != 0u);
  let a = weight_or_one(bf_weight[c], bfp.flags) * invstd;
  if ((bfp.flags & TRAINING) != 0u) {
    bf_bcoef[c] = vec4f(a, -a * invstd * invstd * sgx / bfp.count, cf.z, -a * sg / bfp.count);
  } else {
    bf_bcoef[c] = vec4f(a, 0.0, cf.z, 0.0);
  }
}

// ---- dx = A g + B (x - mean) + D ----
@group(0) @binding(0) var<storage, read> dx_x1: array<f32>;
@group(0) @binding(0) var<storage, read> dx_x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dx_g1: array<f32>;
@group(0) @binding(1) var<storage, read> dx_g4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dx_bcoef: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx_out1: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx_out4: array<vec4f>;
@group(0) @binding(4) var<uniform> dp: MapParams;

@compute @workgroup_size(WG)
fn batchnorm2d_bwd_dx_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= dp.threads) { return; }
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = t + j * dp.threads;
    if (i >= dp.total) { return; }
    let cf = dx_bcoef[(i / dp.HWu) % dp.C];
    dx_out1[i] = cf.x * dx_g1[i] + cf.y * (dx_x1[i] - cf.z) + cf.w;
  }
}

@compute @workgroup_size(WG)
fn batchnorm2d_bwd_dx_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let cf = dx_bcoef[wid.y];
  let base = (wid.z * dp.C + wid.y) * dp.HWu;
  let stride = nwg.x * WG;
  for (var k = wid.x * WG + lid; k < dp.HWu; k += stride) {
    dx_out4[base + k] = cf.x * dx_g4[base + k] + cf.y * (dx_x4[base + k] - vec4f(cf.z)) + vec4f(cf.w);
  }
}
