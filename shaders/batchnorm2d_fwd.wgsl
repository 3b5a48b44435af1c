// Batch norm over NCHW, per channel c, with M = N*H*W values per channel (PyTorch semantics).
//   training: mean, var = biased batch variance (M2 / M); running stats updated in place with
//             the unbiased variance (M2 / (M-1)) and momentum m: r = (1-m) r + m stat
//   eval:     mean, var = running stats
//   y = x * scale + shift (+ residual) (relu), scale = gamma * invstd, shift = beta - mean * scale
//   (the same alpha/beta form as PyTorch's CPU kernel), invstd = 1 / sqrt(var + eps)
//   (backward: batchnorm2d_bwd.wgsl)
//
// Statistics are two-level. Thread t of T for channel c reads elements t, t+T, ... of every
// (n, c) plane (neighbouring threads read neighbouring values) and keeps sums of (x - K), with
// K its own first value, so that rounding error scales with the spread of the data, not its
// magnitude; it writes (count, mean, M2). The finalize pass merges the T partials per channel
// exactly (mean of means, then M2 = sum M2_t + n_t (m_t - mean)^2), again relative to a shift. No workgroup memory or barriers (slow on CPU adapters), and
// all partial sums are deterministic. A batch too large for one binding runs the statistics
// (and the backward sums) per chunk of samples into its own block of C*T partials (blocks
// `stride` vec4s apart), and the finalize passes merge the `chunks` blocks the same way.
//
// Entries (v1: scalar, any H*W, flat indexing; v2: vec4, H*W % 4 == 0, grid (plane chunk, c, n)
// so the channel comes from the workgroup id without integer division):
//   batchnorm2d_stats_v1|v2        x -> partials[c*T + t] = (count, mean, M2, 0)
//   batchnorm2d_finalize_train     partials, weight, bias -> coef[c] = (scale, shift, mean, invstd), running mean/var
//   batchnorm2d_finalize_eval      running mean/var, weight, bias -> coef
//   batchnorm2d_apply_v1|v2        x, coef, residual -> y           (RESIDUAL, RELU constants)
//! include batchnorm2d_common

fn chunk_stats(cnt: f32, shift: f32, s1: f32, s2: f32) -> vec4f {
  if (cnt == 0.0) { return vec4f(0.0); }
  return vec4f(cnt, shift + s1 / cnt, max(s2 - s1 * s1 / cnt, 0.0), 0.0);
}

// ---- statistics ----
@group(0) @binding(0) var<storage, read> st_x1: array<f32>;
@group(0) @binding(0) var<storage, read> st_x4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> st_partials: array<vec4f>;
@group(0) @binding(2) var<uniform> sp: ReduceParams;

@compute @workgroup_size(WG)
fn batchnorm2d_stats_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= sp.C * sp.T) { return; }
  let c = tid / sp.T;
  let t = tid % sp.T;
  let shift = st_x1[c * sp.HWu + t];
  var s1 = 0.0;
  var s2 = 0.0;
  var cnt = 0u;
  for (var n = 0u; n < sp.N; n++) {
    let base = (n * sp.C + c) * sp.HWu;
    for (var k = t; k < sp.HWu; k += sp.T) {
      let d = st_x1[base + k] - shift;
      s1 += d;
      s2 = fma(d, d, s2);
      cnt++;
    }
  }
  st_partials[tid] = chunk_stats(f32(cnt), shift, s1, s2);
}

@compute @workgroup_size(WG)
fn batchnorm2d_stats_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= sp.C * sp.T) { return; }
  let c = tid / sp.T;
  let t = tid % sp.T;
  let shift = vec4f(st_x4[c * sp.HWu + t].x);
  var s1 = vec4f(0.0);
  var s2 = vec4f(0.0);
  var cnt = 0u;
  for (var n = 0u; n < sp.N; n++) {
    let base = (n * sp.C + c) * sp.HWu;
    for (var k = t; k < sp.HWu; k += sp.T) {
      let d = st_x4[base + k] - shift;
      s1 += d;
      s2 = fma(d, d, s2);
      cnt += 4u;
    }
  }
  let ones = vec4f(1.0);
  st_partials[tid] = chunk_stats(f32(cnt), shift.x, dot(s1, ones), dot(s2, ones));
}

// ---- per-channel coefficients ----
@group(0) @binding(0) var<storage, read> ft_partials: array<vec4f>;
@group(0) @binding(1) var<storage, read> ft_weight: array<f32>;
@group(0) @binding(2) var<storage, read> ft_bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> ft_coef: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> ft_running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> ft_running_var: array<f32>;
@group(0) @binding(6) var<uniform> fp: FinalizeParams;

fn affine_coef(mean: f32, invstd: f32, weight: f32, bias: f32) -> vec4f {
  let scale = weight * invstd;
  return vec4f(scale, bias - mean * scale, mean, invstd);
}

@compute @workgroup_size(WG)
fn batchnorm2d_finalize_train(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= fp.C) { return; }
  // two passes over the partials: mean = K + sum n_t (m_t - K) / M with K the first partial's
  // mean (the deltas are small, so the sum loses nothing to K's magnitude), then
  // M2 = sum M2_t + n_t (m_t - mean)^2, the exact merge of the per-thread moments
  let first = c * fp.T;
  let k = ft_partials[first].y;
  var delta = 0.0;
  for (var j = 0u; j < fp.chunks; j++) {
    for (var t = 0u; t < fp.T; t++) {
      let p = ft_partials[j * fp.stride + first + t];
      delta = fma(p.x, p.y - k, delta);
    }
  }
  let mean = k + delta / fp.count;
  var m2 = 0.0;
  for (var j = 0u; j < fp.chunks; j++) {
    for (var t = 0u; t < fp.T; t++) {
      let p = ft_partials[j * fp.stride + first + t];
      let d = p.y - mean;
      m2 += fma(p.x * d, d, p.z);
    }
  }
  let invstd = 1.0 / sqrt(m2 / fp.count + fp.eps);
  let w = weight_or_one(ft_weight[c], fp.flags);
  let b = select(0.0, ft_bias[c], (fp.flags & HAS_BIAS) != 0u);
  ft_coef[c] = affine_coef(mean, invstd, w, b);
  if ((fp.flags & UPDATE_RUNNING) != 0u) {
    let m = fp.momentum;
    ft_running_mean[c] = (1.0 - m) * ft_running_mean[c] + m * mean;
    ft_running_var[c] = (1.0 - m) * ft_running_var[c] + m * (m2 / (fp.count - 1.0));
  }
}

@group(0) @binding(0) var<storage, read> fe_running_mean: array<f32>;
@group(0) @binding(1) var<storage, read> fe_running_var: array<f32>;
@group(0) @binding(2) var<storage, read> fe_weight: array<f32>;
@group(0) @binding(3) var<storage, read> fe_bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> fe_coef: array<vec4f>;
@group(0) @binding(5) var<uniform> fep: FinalizeParams;

@compute @workgroup_size(WG)
fn batchnorm2d_finalize_eval(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= fep.C) { return; }
  let w = weight_or_one(fe_weight[c], fep.flags);
  let b = select(0.0, fe_bias[c], (fep.flags & HAS_BIAS) != 0u);
  fe_coef[c] = affine_coef(fe_running_mean[c], 1.0 / sqrt(fe_running_var[c] + fep.eps), w, b);
}

// ---- y = x * scale + shift (+ residual) (relu) ----
@group(0) @binding(0) var<storage, read> ap_x1: array<f32>;
@group(0) @binding(0) var<storage, read> ap_x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> ap_coef: array<vec4f>;
@group(0) @binding(2) var<storage, read> ap_res1: array<f32>;
@group(0) @binding(2) var<storage, read> ap_res4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> ap_y1: array<f32>;
@group(0) @binding(3) var<storage, read_write> ap_y4: array<vec4f>;
@group(0) @binding(4) var<uniform> mp: MapParams;

@compute @workgroup_size(WG)
fn batchnorm2d_apply_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= mp.threads) { return; }
  for (var j = 0u; j < PER_THREAD; j++) {
    let i = t + j * mp.threads;
    if (i >= mp.total) { return; }
    let cf = ap_coef[(i / mp.HWu) % mp.C];
    var v = fma(ap_x1[i], cf.x, cf.y);
    if (RESIDUAL) { v += ap_res1[i]; }
    if (RELU) { v = max(v, 0.0); }
    ap_y1[i] = v;
  }
}

// grid (ceil(HW4 / (WG * PER_THREAD)), C, N): each workgroup row walks one (n, c) plane
@compute @workgroup_size(WG)
fn batchnorm2d_apply_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let cf = ap_coef[wid.y];
  let base = (wid.z * mp.C + wid.y) * mp.HWu;
  let stride = nwg.x * WG;
  for (var k = wid.x * WG + lid; k < mp.HWu; k += stride) {
    var v = fma(ap_x4[base + k], vec4f(cf.x), vec4f(cf.y));
    if (RESIDUAL) { v += ap_res4[base + k]; }
    if (RELU) { v = max(v, vec4f(0.0)); }
    ap_y4[base + k] = v;
  }
}
