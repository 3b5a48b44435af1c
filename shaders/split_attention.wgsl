// Split attention (ResNeSt SplAtConv2d, spec 1.5). Layout: x [N, R*C, H, W] radix-major, split r
// of channel c at channel r*C + c; attention a [N, R*C] radix-major; fc2 logits z [N, R*C]
// cardinal-major (j = k*R*Cg + r*Cg + i, Cg = C/K).
//   radix sum:  s[n,c,p]  = sum_r x[n, r*C+c, p]                 ds -> dx[n, r*C+c, p] = ds[n,c,p]
//   pool:       g[n,c]    = mean_p sum_r x[n, r*C+c, p]          (GAP of the radix sum, fused)
//   rsoftmax:   a[n, r*C + k*Cg + i] = softmax_r z[n, k*R*Cg + r*Cg + i]   (R = 1: a = sigmoid(z))
//               dz = a (da - sum_r a da)                         (R = 1: dz = da a (1 - a))
//   combine:    y[n,c,p]  = sum_r a[n, r*C+c] x[n, r*C+c, p]
//               dx[n, r*C+c, p] = a[n, r*C+c] dy[n,c,p],   da[n, r*C+c] = sum_p dy[n,c,p] x[n, r*C+c, p]
// Elementwise passes run on a grid (plane chunk, c, n), so a thread knows its channel without
// dividing. Reductions over p (pool, da) are two-level like batch norm: T threads per plane
// write partial sums at [(n*R + r)*C + c]*T + t, which with T = 1 is the output itself, else
// the partial sum kernel (shaders/partial_sum.wgsl) adds each run of T.
// Versions: v1 scalar (any H*W), v2 vec4 (H*W % 4 == 0); rsoftmax is scalar.
override WG: u32 = 64;
// broadcast: add into what out holds (the pool's dx into the gradient x gathered from the combine)
override ACCUMULATE: bool = false;
const MAX_RADIX = 8u;   // combine keeps one attention value and one sum per split in registers

// HWu: values per plane in the entry's unit (floats or vec4s); T: partials per plane;
// K: cardinality; scale: factor of the pool's sums and the broadcast; count: outputs of flat entries
struct Params { C: u32, HWu: u32, R: u32, N: u32, T: u32, K: u32, scale: f32, count: u32 }

@group(0) @binding(0) var<storage, read> in1: array<f32>;
@group(0) @binding(0) var<storage, read> in4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out1: array<f32>;
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

// index of unit k of channel r*C + c of sample n, in an [N, R*C, HWu] tensor
fn split_index(n: u32, r: u32, c: u32, k: u32) -> u32 {
  return ((n * p.R + r) * p.C + c) * p.HWu + k;
}

// ---- radix sum: in = x [N, R*C, HW], out = s [N, C, HW]; grid (chunk, c, n) ----
@compute @workgroup_size(WG)
fn split_attention_radix_sum_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var k = wid.x * WG + lid; k < p.HWu; k += nwg.x * WG) {
    var s = 0.0;
    for (var r = 0u; r < p.R; r++) { s += in1[split_index(wid.z, r, wid.y, k)]; }
    out1[(wid.z * p.C + wid.y) * p.HWu + k] = s;
  }
}

@compute @workgroup_size(WG)
fn split_attention_radix_sum_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var k = wid.x * WG + lid; k < p.HWu; k += nwg.x * WG) {
    var s = vec4f(0.0);
    for (var r = 0u; r < p.R; r++) { s += in4[split_index(wid.z, r, wid.y, k)]; }
    out4[(wid.z * p.C + wid.y) * p.HWu + k] = s;
  }
}

// in = ds [N, C, HW], out = dx [N, R*C, HW]; also the pool's backward, with `scale`
// (1/HW) and in = dg [N, C] (HWu_in = 1, so the one value of the plane is broadcast)
@compute @workgroup_size(WG)
fn split_attention_broadcast_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.z * p.C + wid.y;
  for (var k = wid.x * WG + lid; k < p.HWu; k += nwg.x * WG) {
    let g = p.scale * in1[select(plane * p.HWu + k, plane, p.count == 1u)];
    for (var r = 0u; r < p.R; r++) {
      let at = split_index(wid.z, r, wid.y, k);
      if (ACCUMULATE) { out1[at] += g; } else { out1[at] = g; }
    }
  }
}

@compute @workgroup_size(WG)
fn split_attention_broadcast_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.z * p.C + wid.y;
  for (var k = wid.x * WG + lid; k < p.HWu; k += nwg.x * WG) {
    var g: vec4f;
    if (p.count == 1u) { g = vec4f(p.scale * in4[plane / 4u][plane % 4u]); } else { g = p.scale * in4[plane * p.HWu + k]; }
    for (var r = 0u; r < p.R; r++) {
      let at = split_index(wid.z, r, wid.y, k);
      if (ACCUMULATE) { out4[at] += g; } else { out4[at] = g; }
    }
  }
}

// ---- pool: in = x, out = scale * partial sums; flat grid over (plane (n, c), t) ----
@compute @workgroup_size(WG)
fn split_attention_pool_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= p.N * p.C * p.T) { return; }
  let t = tid % p.T;
  let n = tid / (p.T * p.C);
  let c = (tid / p.T) % p.C;
  var s = 0.0;
  for (var r = 0u; r < p.R; r++) {
    for (var k = t; k < p.HWu; k += p.T) { s += in1[split_index(n, r, c, k)]; }
  }
  out1[tid] = p.scale * s;
}

@compute @workgroup_size(WG)
fn split_attention_pool_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= p.N * p.C * p.T) { return; }
  let t = tid % p.T;
  let n = tid / (p.T * p.C);
  let c = (tid / p.T) % p.C;
  var s = vec4f(0.0);
  for (var r = 0u; r < p.R; r++) {
    for (var k = t; k < p.HWu; k += p.T) { s += in4[split_index(n, r, c, k)]; }
  }
  out1[tid] = p.scale * dot(s, vec4f(1.0));
}

// ---- rSoftmax: in = z, out = a; one thread per (n, k, i) group of R logits ----
fn rsoftmax_in(n: u32, k: u32, r: u32, i: u32, cg: u32) -> u32 { return n * p.R * p.C + (k * p.R + r) * cg + i; }
fn rsoftmax_out(n: u32, k: u32, r: u32, i: u32, cg: u32) -> u32 { return n * p.R * p.C + r * p.C + k * cg + i; }

@compute @workgroup_size(WG)
fn split_attention_rsoftmax_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = thread_index(wid, nwg, lid, WG);
  if (j >= p.N * p.C) { return; }
  let cg = p.C / p.K;
  let n = j / p.C;
  let k = (j % p.C) / cg;
  let i = j % cg;
  if (p.R == 1u) { out1[j] = 1.0 / (1.0 + exp(-in1[j])); return; }
  var m = in1[rsoftmax_in(n, k, 0u, i, cg)];
  for (var r = 1u; r < p.R; r++) { m = max(m, in1[rsoftmax_in(n, k, r, i, cg)]); }
  var total = 0.0;
  for (var r = 0u; r < p.R; r++) { total += exp(in1[rsoftmax_in(n, k, r, i, cg)] - m); }
  for (var r = 0u; r < p.R; r++) { out1[rsoftmax_out(n, k, r, i, cg)] = exp(in1[rsoftmax_in(n, k, r, i, cg)] - m) / total; }
}

@group(0) @binding(0) var<storage, read> sm_a: array<f32>;
@group(0) @binding(1) var<storage, read> sm_da: array<f32>;
@group(0) @binding(2) var<storage, read_write> sm_dz: array<f32>;
@group(0) @binding(3) var<uniform> smp: Params;

@compute @workgroup_size(WG)
fn split_attention_rsoftmax_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = thread_index(wid, nwg, lid, WG);
  if (j >= smp.N * smp.C) { return; }
  let cg = smp.C / smp.K;
  let n = j / smp.C;
  let k = (j % smp.C) / cg;
  let i = j % cg;
  let base = n * smp.R * smp.C + k * cg + i;   // a and da at base + r*C
  if (smp.R == 1u) { let a = sm_a[j]; sm_dz[j] = sm_da[j] * a * (1.0 - a); return; }
  var dot_ad = 0.0;
  for (var r = 0u; r < smp.R; r++) { dot_ad += sm_a[base + r * smp.C] * sm_da[base + r * smp.C]; }
  for (var r = 0u; r < smp.R; r++) {
    let a = sm_a[base + r * smp.C];
    sm_dz[n * smp.R * smp.C + (k * smp.R + r) * cg + i] = a * (sm_da[base + r * smp.C] - dot_ad);
  }
}

// ---- combine: grid (chunk, c, n) ----
@group(0) @binding(0) var<storage, read> cb_x1: array<f32>;
@group(0) @binding(0) var<storage, read> cb_x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> cb_att: array<f32>;
@group(0) @binding(2) var<storage, read_write> cb_y1: array<f32>;
@group(0) @binding(2) var<storage, read_write> cb_y4: array<vec4f>;
@group(0) @binding(3) var<uniform> cbp: Params;

fn att_index(n: u32, r: u32, c: u32) -> u32 { return (n * cbp.R + r) * cbp.C + c; }
fn cb_index(n: u32, r: u32, c: u32, k: u32) -> u32 { return ((n * cbp.R + r) * cbp.C + c) * cbp.HWu + k; }

@compute @workgroup_size(WG)
fn split_attention_combine_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  var att: array<f32, MAX_RADIX>;
  for (var r = 0u; r < cbp.R; r++) { att[r] = cb_att[att_index(wid.z, r, wid.y)]; }
  for (var k = wid.x * WG + lid; k < cbp.HWu; k += nwg.x * WG) {
    var s = 0.0;
    for (var r = 0u; r < cbp.R; r++) { s = fma(att[r], cb_x1[cb_index(wid.z, r, wid.y, k)], s); }
    cb_y1[(wid.z * cbp.C + wid.y) * cbp.HWu + k] = s;
  }
}

@compute @workgroup_size(WG)
fn split_attention_combine_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  var att: array<f32, MAX_RADIX>;
  for (var r = 0u; r < cbp.R; r++) { att[r] = cb_att[att_index(wid.z, r, wid.y)]; }
  for (var k = wid.x * WG + lid; k < cbp.HWu; k += nwg.x * WG) {
    var s = vec4f(0.0);
    for (var r = 0u; r < cbp.R; r++) { s = fma(vec4f(att[r]), cb_x4[cb_index(wid.z, r, wid.y, k)], s); }
    cb_y4[(wid.z * cbp.C + wid.y) * cbp.HWu + k] = s;
  }
}

// backward: x, att, dy -> dx, partials of da; flat grid over (plane (n, c), t), like the pool
@group(0) @binding(0) var<storage, read> cg_x1: array<f32>;
@group(0) @binding(0) var<storage, read> cg_x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> cg_att: array<f32>;
@group(0) @binding(2) var<storage, read> cg_dy1: array<f32>;
@group(0) @binding(2) var<storage, read> cg_dy4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> cg_dx1: array<f32>;
@group(0) @binding(3) var<storage, read_write> cg_dx4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> cg_partials: array<f32>;
@group(0) @binding(5) var<uniform> cgp: Params;

@compute @workgroup_size(WG)
fn split_attention_combine_bwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= cgp.N * cgp.C * cgp.T) { return; }
  let t = tid % cgp.T;
  let n = tid / (cgp.T * cgp.C);
  let c = (tid / cgp.T) % cgp.C;
  var sums: array<f32, MAX_RADIX>;
  var att: array<f32, MAX_RADIX>;
  for (var r = 0u; r < cgp.R; r++) { att[r] = cg_att[(n * cgp.R + r) * cgp.C + c]; }
  for (var k = t; k < cgp.HWu; k += cgp.T) {
    let g = cg_dy1[(n * cgp.C + c) * cgp.HWu + k];
    for (var r = 0u; r < cgp.R; r++) {
      let i = ((n * cgp.R + r) * cgp.C + c) * cgp.HWu + k;
      cg_dx1[i] = att[r] * g;
      sums[r] = fma(g, cg_x1[i], sums[r]);
    }
  }
  for (var r = 0u; r < cgp.R; r++) { cg_partials[((n * cgp.R + r) * cgp.C + c) * cgp.T + t] = sums[r]; }
}

@compute @workgroup_size(WG)
fn split_attention_combine_bwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tid = thread_index(wid, nwg, lid, WG);
  if (tid >= cgp.N * cgp.C * cgp.T) { return; }
  let t = tid % cgp.T;
  let n = tid / (cgp.T * cgp.C);
  let c = (tid / cgp.T) % cgp.C;
  var sums: array<vec4f, MAX_RADIX>;
  var att: array<f32, MAX_RADIX>;
  for (var r = 0u; r < cgp.R; r++) { att[r] = cg_att[(n * cgp.R + r) * cgp.C + c]; }
  for (var k = t; k < cgp.HWu; k += cgp.T) {
    let g = cg_dy4[(n * cgp.C + c) * cgp.HWu + k];
    for (var r = 0u; r < cgp.R; r++) {
      let i = ((n * cgp.R + r) * cgp.C + c) * cgp.HWu + k;
      cg_dx4[i] = att[r] * g;
      sums[r] = fma(g, cg_x4[i], sums[r]);
    }
  }
  for (var r = 0u; r < cgp.R; r++) { cg_partials[((n * cgp.R + r) * cgp.C + c) * cgp.T + t] = dot(sums[r], vec4f(1.0)); }
}
