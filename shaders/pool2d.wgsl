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
// Versions:
//   v1  any W: one output (fwd) / input element (bwd) per thread, scalar loads
//   v2  W % 4 == 0: 4 outputs of a row per thread; each window row is fetched as NV aligned
//       vec4 loads shared by the 4 outputs (3 vec4 instead of 36 scalar loads for 3x3/s2);
//       backward: 4 input columns per thread, one vec4 store
// Entries: pool2d_{max,avg}_{fwd,bwd}_{v1,v2}, pool2d_adaptive_avg_{fwd,bwd} (scalar),
//          pool2d_global_avg_{fwd,bwd}_{v1,v2} (output 1x1: one thread per plane / a broadcast)
override WG: u32 = 64;
override KH: i32 = 3;
override KW: i32 = 3;
override SH: i32 = 2;
override SW: i32 = 2;
override PH: i32 = 1;
override PW: i32 = 1;
override DH: i32 = 1;
override DW: i32 = 1;
// v2: offset of a block's first window column inside its first vec4, and vec4s per window row
override OFF: i32 = (4 - PW % 4) % 4;
override NV: i32 = (OFF + 3 * SW + (KW - 1) * DW) / 4 + 1;
// backward v1: output rows / columns whose window can hold one input position
override NOH: i32 = ((KH - 1) * DH) / SH + 1;
override NOW: i32 = ((KW - 1) * DW) / SW + 1;
// backward v2 (host-computed; see pool2d_bwd_v2): a thread takes input rows m*SH .. m*SH+SH-1
// and columns 4*SW*k .. 4*SW*k + 4*SW-1, whose candidate outputs are rows m+FH .. m+FH+NOHB-1
// and columns 4k+FW .. 4k+FW+NOWC-1; the latter sit in the NVO vec4s from k+QOFF, starting at
// component OFFO
override FH: i32 = 0;
override FW: i32 = 0;
override NOHB: i32 = 2;
override NOWC: i32 = 5;
override QOFF: i32 = 0;
override OFFO: i32 = 0;
override NVO: i32 = 2;
const MAXV = 8;

// count_include_pad: 0/1; divisor: divisor_override (0 = none); threads: invocations (a flat
// grid); units: threads per row; neg_inf: -infinity, from the host (a constant expression may
// not overflow to it). (A grid of rows saves the divisions, but rows of 14-28 threads leave
// most lanes of a workgroup idle: measured 40% slower.)
struct PoolParams {
  H: i32, W: i32, OH: i32, OW: i32, planes: i32, threads: u32, count_include_pad: u32, divisor: f32,
  neg_inf: f32, units: i32, _p0: u32, _p1: u32,
}

fn floor_div(a: i32, b: i32) -> i32 {
  let q = a / b;
  return select(q, q - 1, (a % b != 0) && ((a < 0) != (b < 0)));
}

fn avg_divisor(oh: i32, ow: i32) -> f32 {
  if (pp.divisor != 0.0) { return pp.divisor; }
  let hs = oh * SH - PH;
  let ws = ow * SW - PW;
  let he = min(hs + KH, pp.H + PH);
  let we = min(ws + KW, pp.W + PW);
  if (pp.count_include_pad != 0u) { return f32((he - hs) * (we - ws)); }
  return f32((min(he, pp.H) - max(hs, 0)) * (min(we, pp.W) - max(ws, 0)));
}

// first in-bounds position of a window start (PyTorch steps a negative start by the dilation)
fn first_valid(start: i32, d: i32) -> i32 {
  var s = start;
  if (s < 0) { s += ((-s + d - 1) / d) * d; }
  return s;
}

fn thread_id(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return flat_workgroup(wid, nwg) * WG + lid;
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
  if (is_max) { y1[t] = best; arg1[t] = arg; } else { y1[t] = sum / avg_divisor(oh, ow); }
}

@compute @workgroup_size(WG)
fn pool2d_max_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
  if (t < pp.threads) { window_v1(t, true); }
}

@compute @workgroup_size(WG)
fn pool2d_avg_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
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
    best = sum / vec4f(avg_divisor(oh, ow0), avg_divisor(oh, ow0 + 1), avg_divisor(oh, ow0 + 2), avg_divisor(oh, ow0 + 3));
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
  let t = thread_id(wid, nwg, lid);
  if (t < pp.threads) { let r = i32(t) / pp.units; window_v2(i32(t) % pp.units, r % pp.OH, r / pp.OH, true); }
}

@compute @workgroup_size(WG)
fn pool2d_avg_fwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
  if (t < pp.threads) { let r = i32(t) / pp.units; window_v2(i32(t) % pp.units, r % pp.OH, r / pp.OH, false); }
}

// ---- backward: input columns iw0 .. iw0 + LANES-1 of row ih gather from the outputs whose
// window holds them. The candidate loops have constant trip counts (NOH x NOW*) and run in
// ascending output order, the order in which PyTorch accumulates.
@group(0) @binding(0) var<storage, read> b_dy: array<f32>;
@group(0) @binding(0) var<storage, read> b_dy4: array<vec4f>;
@group(0) @binding(1) var<storage, read> b_arg: array<i32>;
@group(0) @binding(1) var<storage, read> b_arg4: array<vec4i>;
@group(0) @binding(2) var<storage, read_write> b_dx1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b_dx4: array<vec4f>;
@group(0) @binding(3) var<uniform> bpp: PoolParams;

fn bwd_divisor(oh: i32, ow: i32) -> f32 {
  if (bpp.divisor != 0.0) { return bpp.divisor; }
  let hs = oh * SH - PH;
  let ws = ow * SW - PW;
  let he = min(hs + KH, bpp.H + PH);
  let we = min(ws + KW, bpp.W + PW);
  if (bpp.count_include_pad != 0u) { return f32((he - hs) * (we - ws)); }
  return f32((min(he, bpp.H) - max(hs, 0)) * (min(we, bpp.W) - max(ws, 0)));
}

fn gather(p: i32, ih: i32, iw: i32, is_max: bool) -> f32 {
  let oh_last = floor_div(ih + PH, SH);
  let ow_last = floor_div(iw + PW, SW);
  var acc = 0.0;
  for (var a = NOH - 1; a >= 0; a--) {
    let oh = oh_last - a;
    if (oh < 0 || oh >= bpp.OH || ih + PH - oh * SH > (KH - 1) * DH) { continue; }
    for (var b = NOW - 1; b >= 0; b--) {
      let ow = ow_last - b;
      if (ow < 0 || ow >= bpp.OW || iw + PW - ow * SW > (KW - 1) * DW) { continue; }
      let o = (p * bpp.OH + oh) * bpp.OW + ow;
      if (is_max) {
        if (b_arg[o] == ih * bpp.W + iw) { acc += b_dy[o]; }
      } else {
        acc += b_dy[o] / bwd_divisor(oh, ow);
      }
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn pool2d_max_bwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
  if (t >= bpp.threads) { return; }
  let r = i32(t) / bpp.W;
  b_dx1[t] = gather(r / bpp.H, r % bpp.H, i32(t) % bpp.W, true);
}

@compute @workgroup_size(WG)
fn pool2d_avg_bwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
  if (t >= bpp.threads) { return; }
  let r = i32(t) / bpp.W;
  b_dx1[t] = gather(r / bpp.H, r % bpp.H, i32(t) % bpp.W, false);
}

// v2: one thread per block of SH input rows x 4*SW input columns. With that block width the
// offset between an input column and its candidate outputs' windows is the same for every
// block, so after unrolling every window-membership test is a compile-time constant and the
// candidate outputs come in as NVO aligned vec4 loads per row (OW % 4 == 0; scalar otherwise).
// 3x3/s2 max: 8 vec4 loads for 16 inputs, against 48 scalar loads gathering one by one.
const MAXR = 2;   // SH, SW <= 2
const MAXVO = 4;

// vec4 q of an output row (zeros / index -1 outside the row); component loads when OW % 4 != 0
fn load_dy4(row: i32, q: i32) -> vec4f {
  var v = vec4f(0.0);
  if (bpp.OW % 4 == 0) {
    if (q >= 0 && q < bpp.OW / 4) { v = b_dy4[row * (bpp.OW / 4) + q]; }
    return v;
  }
  for (var j = 0; j < 4; j++) {
    let ow = 4 * q + j;
    if (ow >= 0 && ow < bpp.OW) { let i = row * bpp.OW + ow; v[j] = b_dy4[i / 4][i % 4]; }
  }
  return v;
}

fn load_arg4(row: i32, q: i32) -> vec4i {
  var v = vec4i(-1);
  if (bpp.OW % 4 == 0) {
    if (q >= 0 && q < bpp.OW / 4) { v = b_arg4[row * (bpp.OW / 4) + q]; }
    return v;
  }
  for (var j = 0; j < 4; j++) {
    let ow = 4 * q + j;
    if (ow >= 0 && ow < bpp.OW) { let i = row * bpp.OW + ow; v[j] = b_arg4[i / 4][i % 4]; }
  }
  return v;
}

fn bwd_v2(t: u32, is_max: bool) {
  let blocks_w = (bpp.W + 4 * SW - 1) / (4 * SW);
  let blocks_h = (bpp.H + SH - 1) / SH;
  let k = i32(t) % blocks_w;
  let r = i32(t) / blocks_w;
  let m = r % blocks_h;
  let p = r / blocks_h;
  var acc: array<vec4f, 4>;   // [row * SW + vec4 of the row]
  for (var a = 0; a < NOHB; a++) {
    let oh = m + FH + a;
    if (oh < 0 || oh >= bpp.OH) { continue; }
    var dy: array<vec4f, MAXVO>;
    var arg: array<vec4i, MAXVO>;
    for (var v = 0; v < NVO; v++) {
      dy[v] = load_dy4(p * bpp.OH + oh, k + QOFF + v);
      if (is_max) { arg[v] = load_arg4(p * bpp.OH + oh, k + QOFF + v); }
    }
    for (var c = 0; c < NOWC; c++) {
      let ow = 4 * k + FW + c;
      let slot = OFFO + c;
      var g = dy[slot / 4][slot % 4];
      if (!is_max) { g = g / bwd_divisor(oh, ow); }
      let win = arg[slot / 4][slot % 4];
      for (var rr = 0; rr < SH; rr++) {
        let rel_h = rr - (FH + a) * SH + PH;             // ih - (oh*SH - PH), constant
        if (rel_h < 0 || rel_h > (KH - 1) * DH || rel_h % DH != 0) { continue; }
        let ih = m * SH + rr;
        for (var ci = 0; ci < 4 * SW; ci++) {
          let rel_w = ci - (FW + c) * SW + PW;           // iw - (ow*SW - PW), constant
          if (rel_w < 0 || rel_w > (KW - 1) * DW || rel_w % DW != 0) { continue; }
          let s = rr * SW + ci / 4;
          if (is_max) {
            if (win == ih * bpp.W + 4 * SW * k + ci) { acc[s][ci % 4] += g; }
          } else {
            acc[s][ci % 4] += g;
          }
        }
      }
    }
  }
  let W4 = bpp.W / 4;
  for (var rr = 0; rr < SH; rr++) {
    let ih = m * SH + rr;
    if (ih >= bpp.H) { continue; }
    for (var sv = 0; sv < SW; sv++) {
      let q = k * SW + sv;
      if (q < W4) { b_dx4[(p * bpp.H + ih) * W4 + q] = acc[rr * SW + sv]; }
    }
  }
}

@compute @workgroup_size(WG)
fn pool2d_max_bwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
  if (t < bpp.threads) { bwd_v2(t, true); }
}

@compute @workgroup_size(WG)
fn pool2d_avg_bwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
  if (t < bpp.threads) { bwd_v2(t, false); }
}

// ---- adaptive average (any output size), scalar ----
@group(0) @binding(0) var<storage, read> a_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> a_out: array<f32>;
@group(0) @binding(2) var<uniform> app: PoolParams;

fn adaptive_start(o: i32, i: i32, n: i32) -> i32 { return (o * i) / n; }
fn adaptive_end(o: i32, i: i32, n: i32) -> i32 { return ((o + 1) * i + n - 1) / n; }

@compute @workgroup_size(WG)
fn pool2d_adaptive_avg_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_id(wid, nwg, lid);
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
  let t = thread_id(wid, nwg, lid);
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
  let t = thread_id(wid, nwg, lid);
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
  let t = thread_id(wid, nwg, lid);
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
