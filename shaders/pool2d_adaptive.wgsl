// Adaptive and global average pooling over NCHW planes (PyTorch F.adaptive_avg_pool2d):
//   output (oh, ow) averages rows floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1, columns likewise;
//   backward: each input element gathers dy / area of the outputs whose region holds it.
// Global (output 1x1): one thread per plane (v2: vec4 loads, H*W % 4 == 0); the backward
// broadcasts dy / (H*W) over the plane.
// Entries: pool2d_adaptive_avg_{fwd,bwd} (scalar), pool2d_global_avg_{fwd,bwd}_{v1,v2}.
//! include pool2d_common

// ---- adaptive average (any output size), scalar ----
@group(0) @binding(0) var<storage, read> a_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> a_out: array<f32>;
@group(0) @binding(2) var<uniform> app: PoolParams;

fn adaptive_start(o: i32, i: i32, n: i32) -> i32 { return (o * i) / n; }
fn adaptive_end(o: i32, i: i32, n: i32) -> i32 { return ((o + 1) * i + n - 1) / n; }

@compute @workgroup_size(WG)
fn pool2d_adaptive_avg_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= app.threads) { return; }
  let ow = i32(t) % app.OW;
  let oh = (i32(t) / app.OW) % app.OH;
  let plane = i32(t) / (app.OW * app.OH) * app.H * app.W;
  let hs = adaptive_start(oh, app.H, app.OH);
  let he = adaptive_end(oh, app.H, app.OH);
  let ws = adaptive_start(ow, app.W, app.OW);
  let we = adaptive_end(ow, app.W, app.OW);
  var sum = 0.0;
  for (var ih = hs; ih < he; ih++) {
    for (var iw = ws; iw < we; iw++) { sum += a_in[plane + ih * app.W + iw]; }
  }
  a_out[t] = sum / f32((he - hs) * (we - ws));
}

// a_in = dy, a_out = dx (one thread per input element)
@compute @workgroup_size(WG)
fn pool2d_adaptive_avg_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= app.threads) { return; }
  let iw = i32(t) % app.W;
  let ih = (i32(t) / app.W) % app.H;
  let p = i32(t) / (app.W * app.H);
  var acc = 0.0;
  for (var oh = (ih * app.OH) / app.H; oh < min(app.OH, ((ih + 1) * app.OH + app.H - 1) / app.H); oh++) {
    let rows = adaptive_end(oh, app.H, app.OH) - adaptive_start(oh, app.H, app.OH);
    for (var ow = (iw * app.OW) / app.W; ow < min(app.OW, ((iw + 1) * app.OW + app.W - 1) / app.W); ow++) {
      let cols = adaptive_end(ow, app.W, app.OW) - adaptive_start(ow, app.W, app.OW);
      acc += a_in[(p * app.OH + oh) * app.OW + ow] / f32(rows * cols);
    }
  }
  a_out[t] = acc;
}

// ---- global average (output 1x1): one thread per plane; backward broadcasts dy / HW ----
@group(0) @binding(0) var<storage, read> g_in1: array<f32>;
@group(0) @binding(0) var<storage, read> g_in4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> g_out1: array<f32>;
@group(0) @binding(1) var<storage, read_write> g_out4: array<vec4f>;
@group(0) @binding(2) var<uniform> gpp: PoolParams;

@compute @workgroup_size(WG)
fn pool2d_global_avg_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= gpp.threads) { return; }
  let hw = u32(gpp.H * gpp.W);
  var s0 = 0.0;
  var s1 = 0.0;
  var k = 0u;
  for (; k + 1u < hw; k += 2u) { s0 += g_in1[t * hw + k]; s1 += g_in1[t * hw + k + 1u]; }
  if (k < hw) { s0 += g_in1[t * hw + k]; }
  g_out1[t] = (s0 + s1) / f32(hw);
}

@compute @workgroup_size(WG)
fn pool2d_global_avg_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= gpp.threads) { return; }
  let hw4 = u32(gpp.H * gpp.W) / 4u;
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  var k = 0u;
  for (; k + 1u < hw4; k += 2u) { s0 += g_in4[t * hw4 + k]; s1 += g_in4[t * hw4 + k + 1u]; }
  if (k < hw4) { s0 += g_in4[t * hw4 + k]; }
  g_out1[t] = dot(s0 + s1, vec4f(1.0)) / f32(4u * hw4);
}

// g_in = dy (one value per plane), g_out = dx, on a grid (values of a plane / (4 WG), planes
// folded into y and z): the plane comes from the workgroup id, with no division per element,
// and each thread writes about 4 values or vec4s
fn global_bwd_plane(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.y + wid.z * nwg.y;
}

@compute @workgroup_size(WG)
fn pool2d_global_avg_bwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = global_bwd_plane(wid, nwg);
  let hw = u32(gpp.H * gpp.W);
  if (plane >= u32(gpp.planes)) { return; }
  let g = g_in1[plane] / f32(hw);
  for (var k = wid.x * WG + lid; k < hw; k += nwg.x * WG) { g_out1[plane * hw + k] = g; }
}

@compute @workgroup_size(WG)
fn pool2d_global_avg_bwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = global_bwd_plane(wid, nwg);
  let hw4 = u32(gpp.H * gpp.W) / 4u;
  if (plane >= u32(gpp.planes)) { return; }
  let g = vec4f(g_in1[plane] / f32(4u * hw4));
  for (var k = wid.x * WG + lid; k < hw4; k += nwg.x * WG) { g_out4[plane * hw4 + k] = g; }
}
