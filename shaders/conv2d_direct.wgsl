// conv2d, version 1: direct loops over NCHW storage buffers, one output value per invocation.
// A line-by-line port of the f64 reference (kernels/conv2d.ref.ts); the other versions are
// measured against it. Any kernel size, stride, padding, dilation, groups.
//   fwd        y[n,o,i,j]  = bias[o] + sum_{c<Cig,a,b} x[n, g*Cig+c, i*sh-ph+a*dh, j*sw-pw+b*dw] * w[o,c,a,b]
//   bwd_input  dx[n,g*Cig+c,r,s] = sum_{o in group g, a, b : (r+ph-a*dh)/sh = i, (s+pw-b*dw)/sw = j exact}
//                                  dy[n,o,i,j] * w[o,c,a,b]
//   bwd_weight dw[o,c,a,b] = sum_{n,i,j} dy[n,o,i,j] * x[n, g*Cig+c, i*sh-ph+a*dh, j*sw-pw+b*dw]
// g = o / Cog. x_base / y_base are element offsets of the bound sub-ranges (batch chunks
// start on 256-byte boundaries, the tensors themselves need not).
// Versions of the family: v1 here; v2 workgroup-tiled implicit GEMM (conv2d_tiled.wgsl);
// v3 texture + uniform-weight implicit GEMM (conv2d_tex.wgsl).
override WG: u32 = 64;
override HAS_BIAS: bool = false;

struct Conv {
  n: u32, c: u32, h: u32, w: u32,
  co: u32, ho: u32, wo: u32, groups: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  ph: i32, pw: i32, dh: u32, dw: u32,
  cig: u32, cog: u32, x_base: u32, y_base: u32,
  total: u32, accumulate: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> pf: Conv;

@compute @workgroup_size(WG)
fn conv2d_fwd_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let p = pf;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let j = t % p.wo;
  let i = (t / p.wo) % p.ho;
  let o = (t / (p.wo * p.ho)) % p.co;
  let n = t / (p.wo * p.ho * p.co);
  let g = o / p.cog;
  var acc = 0.0;
  if (HAS_BIAS) { acc = bias[o]; }
  for (var c = 0u; c < p.cig; c++) {
    let xc = p.x_base + (n * p.c + g * p.cig + c) * p.h * p.w;
    let wc = (o * p.cig + c) * p.kh * p.kw;
    for (var a = 0u; a < p.kh; a++) {
      let r = i32(i * p.sh + a * p.dh) - p.ph;
      if (r < 0 || r >= i32(p.h)) { continue; }
      for (var b = 0u; b < p.kw; b++) {
        let s = i32(j * p.sw + b * p.dw) - p.pw;
        if (s < 0 || s >= i32(p.w)) { continue; }
        acc += x[xc + u32(r) * p.w + u32(s)] * wt[wc + a * p.kw + b];
      }
    }
  }
  y[p.y_base + t] = acc;
}

@group(0) @binding(0) var<storage, read> dy_i: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx_o: array<f32>;
@group(0) @binding(3) var<uniform> pi: Conv;

@compute @workgroup_size(WG)
fn conv2d_bwd_input_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let p = pi;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let s = t % p.w;
  let r = (t / p.w) % p.h;
  let cc = (t / (p.w * p.h)) % p.c;
  let n = t / (p.w * p.h * p.c);
  let g = cc / p.cig;
  let c = cc % p.cig;
  var acc = 0.0;
  for (var o = g * p.cog; o < (g + 1u) * p.cog; o++) {
    let yo = p.y_base + (n * p.co + o) * p.ho * p.wo;
    let wc = (o * p.cig + c) * p.kh * p.kw;
    for (var a = 0u; a < p.kh; a++) {
      let th = i32(r) + p.ph - i32(a * p.dh);
      if (th < 0 || u32(th) % p.sh != 0u || u32(th) / p.sh >= p.ho) { continue; }
      let i = u32(th) / p.sh;
      for (var b = 0u; b < p.kw; b++) {
        let tw = i32(s) + p.pw - i32(b * p.dw);
        if (tw < 0 || u32(tw) % p.sw != 0u || u32(tw) / p.sw >= p.wo) { continue; }
        acc += dy_i[yo + i * p.wo + u32(tw) / p.sw] * wt[wc + a * p.kw + b];
      }
    }
  }
  dx_o[p.x_base + t] = acc;
}

@group(0) @binding(1) var<storage, read> dy_w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw_o: array<f32>;
@group(0) @binding(3) var<uniform> pwt: Conv;

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let p = pwt;
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.total) { return; }
  let b = t % p.kw;
  let a = (t / p.kw) % p.kh;
  let c = (t / (p.kw * p.kh)) % p.cig;
  let o = t / (p.kw * p.kh * p.cig);
  let g = o / p.cog;
  var acc = 0.0;
  for (var n = 0u; n < p.n; n++) {
    let xc = p.x_base + (n * p.c + g * p.cig + c) * p.h * p.w;
    let yo = p.y_base + (n * p.co + o) * p.ho * p.wo;
    for (var i = 0u; i < p.ho; i++) {
      let r = i32(i * p.sh + a * p.dh) - p.ph;
      if (r < 0 || r >= i32(p.h)) { continue; }
      for (var j = 0u; j < p.wo; j++) {
        let s = i32(j * p.sw + b * p.dw) - p.pw;
        if (s < 0 || s >= i32(p.w)) { continue; }
        acc += dy_w[yo + i * p.wo + j] * x[xc + u32(r) * p.w + u32(s)];
      }
    }
  }
  if (p.accumulate != 0u) { acc += dw_o[t]; }
  dw_o[t] = acc;
}
