// conv2d version 3: implicit GEMM for adapters where storage-buffer loads are slow and
// workgroup barriers slower (lavapipe: per-lane scalar load loops; texel fetches and
// uniform-buffer reads are vectorised). No workgroup memory, no barriers.
//   activations: a zero-padded NHWC grid of rgba32float texels (conv2d_tex_pack.wgsl), so the
//                inner loop reads 4 channels per textureLoad and has no bounds checks;
//   weights:     uniform-buffer slices of <= 64 KB, one dispatch per slice (group, block of
//                output channels, block of input channels; blocks after the first accumulate);
//   output:      NCHW storage buffer, as the public layout.
// Each invocation computes 4 neighbouring output pixels of a row x 16 output channels: per
// 4 input channels, 4 texel loads + 16 uniform vec4 loads feed 256 FMAs into 64 scalar
// accumulators. That spills AVX2's 16 registers, yet measured faster on lavapipe than
// 4 x 8 (10.5-11.3 against 9.2 GFLOP/s at ResNeSt's layer1 shape): loads cost more than spills.
//   out[n, co, i, j] (+)= sum_{tap (a,b), ci} grid[n, i*sh + a*dh, j*sw + b*dw, ci] * slice[tap, ci, co]
// conv2d_fwd_v3 runs it on x; conv2d_bwd_input_v3 on the zero-inserted dY grid with the
// transposed, flipped weights (stride 1), which is the transposed convolution.
override WG: u32 = 64;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
override HAS_BIAS: bool = false;
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct TexConv {
  n: u32, oh: u32, ow: u32, tiles: u32,
  hp: u32, wp: u32, ct: u32, cbs: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  dh: u32, dw: u32, c4_0: u32, kc: u32,
  co0: u32, co_end: u32, dst_c: u32, y_base: u32,
  accumulate: u32, total: u32, cob4: u32, kstride: u32,
}

@group(0) @binding(0) var grid: texture_2d<f32>;
@group(0) @binding(1) var<uniform> wts: array<vec4f, 4096>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: TexConv;

fn texel(t: u32) -> vec4f {
  return textureLoad(grid, vec2u(t & TW_MASK, t >> LOG_TW), 0);
}

fn put(p: TexConv, n: u32, i: u32, j: u32, co: u32, v: f32) {
  if (j >= p.ow || co >= p.co_end) { return; }
  let at = p.y_base + ((n * p.dst_c + co) * p.oh + i) * p.ow + j;
  var r = v;
  if (p.accumulate != 0u) { r += y[at]; } else if (HAS_BIAS) { r += bias[co]; }
  y[at] = r;
}

fn put4(p: TexConv, n: u32, i: u32, j: u32, co: u32, v: vec4f) {
  put(p, n, i, j, co, v.x); put(p, n, i, j, co + 1u, v.y); put(p, n, i, j, co + 2u, v.z); put(p, n, i, j, co + 3u, v.w);
}

// acc + the 4 input channels of x times their rows of 4 output channels
fn fma4(acc: vec4f, x: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return acc + x.x * w0 + x.y * w1 + x.z * w2 + x.w * w3;
}

fn tex_conv(t: u32) {
  let p = params;
  if (t >= p.total) { return; }
  let tile = t % p.tiles;
  let rest = t / p.tiles;
  let cb = rest % p.cbs;
  let row = rest / p.cbs;
  let i = row % p.oh;
  let n = row / p.oh;
  let j0 = tile * 4u;
  // pixels past the row end read the last pixel's texels and are not stored
  let row_base = (n * p.hp + i * p.sh) * p.wp;
  let b0 = (row_base + min(j0, p.ow - 1u) * p.sw) * p.ct + p.c4_0;
  let b1 = (row_base + min(j0 + 1u, p.ow - 1u) * p.sw) * p.ct + p.c4_0;
  let b2 = (row_base + min(j0 + 2u, p.ow - 1u) * p.sw) * p.ct + p.c4_0;
  let b3 = (row_base + min(j0 + 3u, p.ow - 1u) * p.sw) * p.ct + p.c4_0;
  // a<pixel><block of 4 output channels>
  var a00 = vec4f(0.0); var a01 = vec4f(0.0); var a02 = vec4f(0.0); var a03 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0); var a12 = vec4f(0.0); var a13 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0); var a22 = vec4f(0.0); var a23 = vec4f(0.0);
  var a30 = vec4f(0.0); var a31 = vec4f(0.0); var a32 = vec4f(0.0); var a33 = vec4f(0.0);
  let cs = p.cob4; // vec4s per input channel row of the slice
  for (var a = 0u; a < p.kh; a++) {
    for (var b = 0u; b < p.kw; b++) {
      let off = (a * p.dh * p.wp + b * p.dw) * p.ct;
      var wi = (a * p.kw + b) * p.kstride * 4u * cs + cb * 4u;
      for (var c4 = 0u; c4 < p.kc; c4++) {
        let x0 = texel(b0 + off + c4);
        let x1 = texel(b1 + off + c4);
        let x2 = texel(b2 + off + c4);
        let x3 = texel(b3 + off + c4);
        // w<input channel><block of 4 output channels>
        let w00 = wts[wi]; let w01 = wts[wi + 1u]; let w02 = wts[wi + 2u]; let w03 = wts[wi + 3u];
        let w10 = wts[wi + cs]; let w11 = wts[wi + cs + 1u]; let w12 = wts[wi + cs + 2u]; let w13 = wts[wi + cs + 3u];
        let w20 = wts[wi + 2u * cs]; let w21 = wts[wi + 2u * cs + 1u]; let w22 = wts[wi + 2u * cs + 2u]; let w23 = wts[wi + 2u * cs + 3u];
        let w30 = wts[wi + 3u * cs]; let w31 = wts[wi + 3u * cs + 1u]; let w32 = wts[wi + 3u * cs + 2u]; let w33 = wts[wi + 3u * cs + 3u];
        wi += 4u * cs;
        a00 = fma4(a00, x0, w00, w10, w20, w30); a01 = fma4(a01, x0, w01, w11, w21, w31);
        a02 = fma4(a02, x0, w02, w12, w22, w32); a03 = fma4(a03, x0, w03, w13, w23, w33);
        a10 = fma4(a10, x1, w00, w10, w20, w30); a11 = fma4(a11, x1, w01, w11, w21, w31);
        a12 = fma4(a12, x1, w02, w12, w22, w32); a13 = fma4(a13, x1, w03, w13, w23, w33);
        a20 = fma4(a20, x2, w00, w10, w20, w30); a21 = fma4(a21, x2, w01, w11, w21, w31);
        a22 = fma4(a22, x2, w02, w12, w22, w32); a23 = fma4(a23, x2, w03, w13, w23, w33);
        a30 = fma4(a30, x3, w00, w10, w20, w30); a31 = fma4(a31, x3, w01, w11, w21, w31);
        a32 = fma4(a32, x3, w02, w12, w22, w32); a33 = fma4(a33, x3, w03, w13, w23, w33);
      }
    }
  }
  let co = p.co0 + cb * 16u;
  put4(p, n, i, j0, co, a00); put4(p, n, i, j0, co + 4u, a01); put4(p, n, i, j0, co + 8u, a02); put4(p, n, i, j0, co + 12u, a03);
  put4(p, n, i, j0 + 1u, co, a10); put4(p, n, i, j0 + 1u, co + 4u, a11); put4(p, n, i, j0 + 1u, co + 8u, a12); put4(p, n, i, j0 + 1u, co + 12u, a13);
  put4(p, n, i, j0 + 2u, co, a20); put4(p, n, i, j0 + 2u, co + 4u, a21); put4(p, n, i, j0 + 2u, co + 8u, a22); put4(p, n, i, j0 + 2u, co + 12u, a23);
  put4(p, n, i, j0 + 3u, co, a30); put4(p, n, i, j0 + 3u, co + 4u, a31); put4(p, n, i, j0 + 3u, co + 8u, a32); put4(p, n, i, j0 + 3u, co + 12u, a33);
}

@compute @workgroup_size(WG)
fn conv2d_fwd_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  tex_conv(thread_index(wid, nwg, lid, WG));
}

@compute @workgroup_size(WG)
fn conv2d_bwd_input_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  tex_conv(thread_index(wid, nwg, lid, WG));
}
