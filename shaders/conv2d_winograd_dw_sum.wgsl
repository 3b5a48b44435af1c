// conv2d version 9, the end of the weight gradient through Winograd F(2x2, 3x3)
// (conv2d_winograd_dw.wgsl transforms x and dY, v7's forward kernel runs the 16 GEMMs dU_e per
// range of tiles): dW = G^T (sum over the ranges of dU) G, with
//   G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1],
// from partial[(((e*G + g)*S + s)*Co + o)*C + c] = range s's dU_e[g*Co + o, c], added into dW
// where `accumulate` is set (later batch chunks, gradients kept by the optimizer's arena).
override WG: u32 = 64;

struct DwSum {
  c: u32, co: u32, groups: u32, splits: u32,
  total: u32, accumulate: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<storage, read> partial: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dw: array<vec4f>;
@group(0) @binding(2) var<uniform> sum: DwSum;

// G^T d G of one channel's 4x4 dU (du[r][s] = dU_(4r + s)), row-major 3x3
fn g_t_du_g(du: array<vec4f, 4>) -> array<f32, 9> {
  // G^T du with G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1]: three rows of 4
  let h = array<vec4f, 3>(du[0] + 0.5 * (du[1] + du[2]), 0.5 * (du[1] - du[2]), 0.5 * (du[1] + du[2]) + du[3]);
  var out: array<f32, 9>;
  for (var i = 0u; i < 3u; i++) {
    out[3u * i] = h[i].x + 0.5 * (h[i].y + h[i].z);
    out[3u * i + 1u] = 0.5 * (h[i].y - h[i].z);
    out[3u * i + 2u] = 0.5 * (h[i].y + h[i].z) + h[i].w;
  }
  return out;
}

// dW[g*Co + o, c..c+3, :, :] (+)= G^T (sum over ranges of dU) G, one (g, o, 4 input channels)
// per invocation (C % 4 == 0): the 4 channels' partials are one vec4 per (e, range), their 36
// weights 9 vec4s, since lavapipe runs a storage access per lane as a loop whatever its width
@compute @workgroup_size(WG)
fn conv2d_winograd_sum_dw(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = sum;
  if (t >= p.total) { return; }
  let c4n = p.c / 4u;
  let c4 = t % c4n;
  let o = (t / c4n) % p.co;
  let g = t / (c4n * p.co);
  // ranges outermost, the 16 elements innermost: a loop of constant length unrolls, so every
  // array below is indexed by constants (a dynamic index into a local array is a per-lane
  // scatter through memory on a CPU adapter; this kernel ran at 2 GB/s that way)
  var du: array<vec4f, 16>; // du[e] = dU_e of channels 4*c4 + 0..3
  for (var s = 0u; s < p.splits; s++) {
    for (var e = 0u; e < 16u; e++) { du[e] += partial[(((e * p.groups + g) * p.splits + s) * p.co + o) * c4n + c4]; }
  }
  var w: array<f32, 36>;
  for (var k = 0u; k < 4u; k++) {
    let out = g_t_du_g(array<vec4f, 4>(vec4f(du[0][k], du[1][k], du[2][k], du[3][k]), vec4f(du[4][k], du[5][k], du[6][k], du[7][k]),
      vec4f(du[8][k], du[9][k], du[10][k], du[11][k]), vec4f(du[12][k], du[13][k], du[14][k], du[15][k])));
    for (var j = 0u; j < 9u; j++) { w[9u * k + j] = out[j]; }
  }
  let at = ((g * p.co + o) * c4n + c4) * 9u; // 36 floats of 4 consecutive (o, c) rows of 9 taps
  for (var i = 0u; i < 9u; i++) {
    var v = vec4f(w[4u * i], w[4u * i + 1u], w[4u * i + 2u], w[4u * i + 3u]);
    if (p.accumulate != 0u) { v += dw[at + i]; }
    dw[at + i] = v;
  }
}

@group(0) @binding(0) var<storage, read> partial_1: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw_1: array<f32>;

// the same for one input channel per invocation, where C is not a multiple of 4
@compute @workgroup_size(WG)
fn conv2d_winograd_sum_dw_1(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                            @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let p = sum;
  if (t >= p.total) { return; }
  let c = t % p.c;
  let o = (t / p.c) % p.co;
  let g = t / (p.c * p.co);
  var du: array<vec4f, 4>; // du[r][s] = dU_(4r + s), indexed by constants as above
  let e_stride = p.groups * p.splits * p.co * p.c; // from dU_e to dU_(e+1)
  for (var s = 0u; s < p.splits; s++) {
    for (var r = 0u; r < 4u; r++) {
      let at = ((((4u * r) * p.groups + g) * p.splits + s) * p.co + o) * p.c + c;
      du[r] += vec4f(partial_1[at], partial_1[at + e_stride], partial_1[at + 2u * e_stride], partial_1[at + 3u * e_stride]);
    }
  }
  let out = g_t_du_g(du);
  let at = ((g * p.co + o) * p.c + c) * 9u;
  for (var j = 0u; j < 9u; j++) {
    var v = out[j];
    if (p.accumulate != 0u) { v += dw_1[at + j]; }
    dw_1[at + j] = v;
  }
}
