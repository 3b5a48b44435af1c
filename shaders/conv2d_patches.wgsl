// conv2d version 10: a convolution of one group and few input channels (the stem's first,
// 3 channels x 3 x 3 taps at stride 2) as a pointwise convolution over its patches (im2col),
// so that all three passes run on the 1x1 kernels of v7/v8 (kernels/conv2d_patches.ts):
//   P[n, k, i, j] = x[n, c, i*sh + a*dh - ph, j*sw + b*dw - pw]  (0 outside), k = (c*KH + a)*KW + b
//   y = W P and dW = dY P^T with W = w viewed as [Co, C*KH*KW]; dP = W^T dY, and dX gathers dP:
//   dx[n, c, u, v] = sum over taps (a, b) with i = (u + ph - a*dh) / sh, j = (v + pw - b*dw) / sw
//                    whole and inside the output plane of dP[n, k, i, j]
// (v7's own dX of a strided convolution multiplies the zeros inserted into dY: at stride 2, 3 of 4.)
// conv2d_patches_v10: one invocation per run of 4 output pixels of a row, laying every
// element k of them (one vec4 store each where rows are whole runs of 4: a store is a loop over
// the lanes on a CPU whatever its width); conv2d_fold_v10(_vec4): one invocation per run of 4
// pixels of a row of dx. The kernel's shape comes in as override constants and each invocation
// has many elements, so that few divisions are by runtime values (lavapipe runs each as 8
// scalar ones); an invocation per element, or a workgroup per row, ran 2-4x longer than the
// GEMM these kernels serve.
override WG: u32 = 64;
override KH: u32 = 3;
override KW: u32 = 3;
override SH: u32 = 1;
override SW: u32 = 1;
override DH: u32 = 1;
override DW: u32 = 1;
override VEC4: bool = false; // the patches' rows are whole runs of 4 (Wo % 4 == 0); the fold has an entry point of its own

struct Patches {
  n: u32, c: u32, h: u32, w: u32,
  ho: u32, wo: u32, ph: i32, pw: i32,
  base: u32, total: u32, _p0: u32, _p1: u32,
}

// P is a scratch buffer of whole vec4s: where its rows are not (Wo % 4 != 0) the runs are stored
// a component at a time
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst4: array<vec4f>;
@group(0) @binding(2) var<uniform> pp: Patches;

// run t = (n*Ho + i)*R + r of the output rows: every element k of pixels 4r..4r+3 of row i,
// each stored as one vec4 or (VEC4 false) up to 4 components
fn patch_runs(p: Patches, t: u32) {
  let runs = (p.wo + 3u) / 4u;
  let r = t % runs;
  let nz = t / runs;
  let n = nz / p.ho;
  let i = nz % p.ho;
  let j0 = 4u * r;
  let count = min(4u, p.wo - j0);
  let plane = p.ho * p.wo;
  var at = (n * p.c * KH * KW * p.ho + i) * p.wo + j0; // element k at at + k*plane
  for (var c = 0u; c < p.c; c++) {
    let x_plane = p.base + (n * p.c + c) * p.h * p.w;
    for (var a = 0u; a < KH; a++) {
      let u = i32(i * SH + a * DH) - p.ph;
      let row_ok = u >= 0 && u32(u) < p.h;
      let row = x_plane + u32(max(u, 0)) * p.w;
      for (var b = 0u; b < KW; b++) {
        var vals = vec4f(0.0);
        for (var q = 0u; q < 4u; q++) {
          let v = i32((j0 + q) * SW + b * DW) - p.pw;
          if (row_ok && q < count && v >= 0 && u32(v) < p.w) { vals[q] = src[row + u32(v)]; }
        }
        if (VEC4) { dst4[at / 4u] = vals; } else { for (var q = 0u; q < count; q++) { dst4[(at + q) / 4u][(at + q) % 4u] = vals[q]; } }
        at += plane;
      }
    }
  }
}

@compute @workgroup_size(WG)
fn conv2d_patches_v10(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t < pp.total) { patch_runs(pp, t); }
}

// fold: dp = dP [n, C*KH*KW, Ho, Wo] from element 0, dx [n, C, H, W] from element `base`
@group(0) @binding(0) var<storage, read> dp: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> fp: Patches;
@group(0) @binding(1) var<storage, read_write> dx4: array<vec4f>;

// run t = ((n*C + c)*H + u)*R + r of dx's rows: pixels 4r..4r+3 of row u, and where they start
struct Folded { at: u32, count: u32, vals: vec4f }

fn fold_run(p: Patches, t: u32) -> Folded {
  let runs = (p.w + 3u) / 4u;
  let r = t % runs;
  let row = t / runs; // (n*C + c)*H + u
  let u = row % p.h;
  let nc = row / p.h;
  let v0 = 4u * r;
  let count = min(4u, p.w - v0);
  let plane = p.ho * p.wo;
  var vals = vec4f(0.0);
  for (var a = 0u; a < KH; a++) {
    let ti = i32(u) + p.ph - i32(a * DH);
    if (ti < 0 || u32(ti) % SH != 0u || u32(ti) / SH >= p.ho) { continue; }
    let i = u32(ti) / SH;
    for (var b = 0u; b < KW; b++) {
      let k_plane = ((nc * KH + a) * KW + b) * plane + i * p.wo; // row i of element (c, a, b) of sample n
      for (var q = 0u; q < 4u; q++) {
        let tj = i32(v0 + q) + p.pw - i32(b * DW);
        if (q < count && tj >= 0 && u32(tj) % SW == 0u && u32(tj) / SW < p.wo) { vals[q] += dp[k_plane + u32(tj) / SW]; }
      }
    }
  }
  return Folded(p.base + row * p.w + v0, count, vals);
}

@compute @workgroup_size(WG)
fn conv2d_fold_v10(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= fp.total) { return; }
  let f = fold_run(fp, t);
  for (var q = 0u; q < f.count; q++) { dx[f.at + q] = f.vals[q]; }
}

// where W is a multiple of 4 and dx's first element 4-aligned: every run is one aligned vec4
@compute @workgroup_size(WG)
fn conv2d_fold_v10_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= fp.total) { return; }
  let f = fold_run(fp, t);
  dx4[f.at / 4u] = f.vals;
}
