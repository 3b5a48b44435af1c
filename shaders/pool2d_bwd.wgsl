// Pooling backward over NCHW planes (PyTorch semantics; the windows as in pool2d_fwd.wgsl):
// gathers, no atomics: each input element sums the gradients of the outputs whose window holds
// it (max: whose saved index ih*W + iw is it), in ascending output order like PyTorch.
// avg divides each output's gradient by its divisor (divisor_override, else the window's area
// with or without padding, count_include_pad).
// Window geometry comes as override constants (constant trip counts that unroll).
// Versions:
//   v1  any W: one input element per thread
//   v2  W % 4 == 0, strides <= 2: 4 input columns per thread, one vec4 store
// Entries: pool2d_{max,avg}_bwd_{v1,v2}.
//! include pool2d_common
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
        acc += b_dy[o] / avg_divisor(bpp, oh, ow);
      }
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn pool2d_max_bwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= bpp.threads) { return; }
  let r = i32(t) / bpp.W;
  b_dx1[t] = gather(r / bpp.H, r % bpp.H, i32(t) % bpp.W, true);
}

@compute @workgroup_size(WG)
fn pool2d_avg_bwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
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
      if (!is_max) { g = g / avg_divisor(bpp, oh, ow); }
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
  let t = thread_index(wid, nwg, lid, WG);
  if (t < bpp.threads) { bwd_v2(t, true); }
}

@compute @workgroup_size(WG)
fn pool2d_avg_bwd_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t < bpp.threads) { bwd_v2(t, false); }
}
