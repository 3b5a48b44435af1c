// Pooling over NCHW planes (PyTorch semantics: F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d).
//   window of output (oh, ow): rows oh*SH - PH + kh*DH (kh < KH), columns likewise (avg: D = 1)
//   max: the largest value over the in-bounds positions (padding never wins), scanning rows then
//        columns and keeping the first maximum (strict >), as PyTorch's CPU kernel; its index
//        ih*W + iw within the plane is saved for the backward
//   avg: sum over in-bounds positions / divisor, where (PyTorch avg_pool2d)
//        hend = min(hstart + KH, H + PH), pool = (hend - hstart) * (wend - wstart) before clipping,
//        divisor = divisor_override, else pool (count_include_pad), else the clipped window's area
//   adaptive avg: rows floor(oh*H/OH) .. ceil((oh+1)*H/OH) - 1, columns likewise
// Backward gathers (no atomics): each input element sums the gradients of the outputs whose
// window holds it (max: whose saved index is it), in ascending output order like PyTorch.
//
// Window geometry comes as override constants, so that the loops over the window have
// constant trip counts and unroll; shape comes in the uniform.
// Forward versions:
//   v1  any W: one output per thread, scalar loads
//   v2  W % 4 == 0: 4 outputs of a row per thread; each window row is fetched as NV aligned
//       vec4 loads shared by the 4 outputs (3 vec4 instead of 36 scalar loads for 3x3/s2)
// Entries: pool2d_{max,avg}_fwd_{v1,v2}. Backward: pool2d_bwd.wgsl; adaptive and global
// average: pool2d_adaptive.wgsl.
//! include pool2d_common
// v2: offset of a block's first window column inside its first vec4, and vec4s per window row
override OFF: i32 = (4 - PW % 4) % 4;
override NV: i32 = (OFF + 3 * SW + (KW - 1) * DW) / 4 + 1;
const MAXV = 8;

// first in-bounds position of a window start (PyTorch steps a negative start by the dilation)
fn first_valid(start: i32, d: i32) -> i32 {
  var s = start;
  if (s < 0) { s += ((-s + d - 1) / d) * d; }
  return s;
}

@group(0) @binding(0) var<storage, read> x1: array<f32>;
@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> y1: array<f32>;
@group(0) @binding(1) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> arg1: array<i32>;
@group(0) @binding(2) var<storage, read_write> arg4: array<vec4i>;
@group(0) @binding(3) var<uniform> pp: PoolParams;

// ---- forward v1: one output per thread ----
fn window_v1(t: u32, is_max: bool) {
  let ow = i32(t) % pp.OW;
  let oh = (i32(t) / pp.OW) % pp.OH;
  let plane = i32(t) / (pp.OW * pp.OH) * pp.H * pp.W;
  let hs = oh * SH - PH;
  let ws = ow * SW - PW;
  var best = pp.neg_inf;
  var arg = first_valid(hs, DH) * pp.W + first_valid(ws, DW);
  var sum = 0.0;
  for (var kh = 0; kh < KH; kh++) {
    let ih = hs + kh * DH;
    if (ih < 0 || ih >= pp.H) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let iw = ws + kw * DW;
      if (iw < 0 || iw >= pp.W) { continue; }
      let v = x1[plane + ih * pp.W + iw];
      if (v > best || v != v) { best = v; arg = ih * pp.W + iw; }
      sum += v;
    }
  }
  if (is_max) { y1[t] = best; arg1[t] = arg; } else { y1[t] = sum / avg_divisor(pp, oh, ow); }
}

@compute @workgroup_size(WG)
fn pool2d_max_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t < pp.threads) { window_v1(t, true); }
}

@compute @workgroup_size(WG)
fn pool2d_avg_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t < pp.threads) { window_v1(t, false); }
}

// ---- forward v2: outputs ow0 .. ow0+3 of row oh; window rows read as NV vec4s ----
fn window_v2(u: i32, oh: i32, p: i32, is_max: bool) {
  let ow0 = u * 4;
  let W4 = pp.W / 4;
  let cs = ow0 * SW - PW;          // first window column of output ow0
  let qbase = floor_div(cs, 4);    // its vec4; cs - 4 qbase == OFF since ow0 * SW % 4 == 0
  let hs = oh * SH - PH;
  var best = vec4f(pp.neg_inf);
  var sum = vec4f(0.0);
  let row0 = first_valid(hs, DH) * pp.W;
  var arg = vec4i(row0) + vec4i(first_valid(cs, DW), first_valid(cs + SW, DW), first_valid(cs + 2 * SW, DW), first_valid(cs + 3 * SW, DW));
  for (var kh = 0; kh < KH; kh++) {
    let ih = hs + kh * DH;
    if (ih < 0 || ih >= pp.H) { continue; }
    let rowq = (p * pp.H + ih) * W4;
    var span: array<vec4f, MAXV>;
    for (var v = 0; v < NV; v++) {
      let q = qbase + v;
      if (q >= 0 && q < W4) { span[v] = x4[rowq + q]; } else { span[v] = vec4f(0.0); }
    }
    for (var j = 0; j < 4; j++) {
      for (var kw = 0; kw < KW; kw++) {
        let col = cs + j * SW + kw * DW;
        let local = OFF + j * SW + kw * DW;
        let v = span[local / 4][local % 4];
        if (col >= 0 && col < pp.W) {
          if (v > best[j] || v != v) { best[j] = v; arg[j] = ih * pp.W + col; }
          sum[j] += v;
        }
      }
    }
  }
  let out = (p * pp.OH + oh) * pp.OW + ow0;
  if (!is_max) {
    best = sum / vec4f(avg_divisor(pp, oh, ow0), avg_divisor(pp, oh, ow0 + 1), avg_divisor(pp, oh, ow0 + 2), avg_divisor(pp, oh, ow0 + 3));
  }
  if (pp.OW % 4 == 0) {
    y4[out / 4] = best;
    if (is_max) { arg4[out / 4] = arg; }
    return;
  }
  // rows not a multiple of 4 long: the block may straddle vec4s, so store component by component
  for (var j = 0; j < 4; j++) {
    let o = out + j;
    if (ow0 + j < pp.OW) {
      y4[o / 4][o % 4] = best[j];
      if (is_max) { arg4[o / 4][o % 4] = arg[j]; }
    }
  }
}

@compute @workgroup_size(WG)
fn pool2d_max_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t < pp.threads) { let r = i32(t) / pp.units; window_v2(i32(t) % pp.units, r % pp.OH, r / pp.OH, true); }
}

@compute @workgroup_size(WG)
fn pool2d_avg_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t < pp.threads) { let r = i32(t) / pp.units; window_v2(i32(t) % pp.units, r % pp.OH, r / pp.OH, false); }
}
