// conv2d version 3: implicit GEMM for adapters where storage-buffer loads are slow and
// workgroup barriers slower (lavapipe: per-lane scalar load loops; texel fetches and
// uniform-buffer reads are vectorised). No workgroup memory, no barriers.
//   activations: a zero-padded NHWC grid of rgba32float texels (conv2d_tex_pack.wgsl), so the
//                inner loop reads 4 channels per textureLoad and has no bounds checks;
//   weights:     uniform-buffer slices of <= 64 KB, one dispatch per slice (group, block of
//                output channels, block of input channels; blocks after the first accumulate);
//   output:      NCHW storage buffer, as the public layout.
// Each invocation computes 4 neighbouring output pixels of a row x 8 output channels:
// per 4 input channels, 4 texel loads + 8 uniform vec4 loads feed 128 FMAs, in 32 scalar
// accumulators (8 vec4), about what fits AVX2's 16 registers with the operands.
//   out[n, co, i, j] (+)= sum_{tap (a,b), ci} grid[n, i*sh + a*dh, j*sw + b*dw, ci] * slice[tap, ci, co]
// conv2d_fwd_v3 runs it on x; conv2d_bwd_input_v3 on the zero-inserted dY grid with the
// transposed, flipped weights (stride 1), which is the transposed convolution.
override WG: u32 = 64;
const LOG_TW: u32 = 12u; // texture width 4096 texels (kernels/conv2d_scratch.ts)
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

fn put8(p: TexConv, n: u32, i: u32, j: u32, co: u32, lo: vec4f, hi: vec4f) {
  put(p, n, i, j, co, lo.x); put(p, n, i, j, co + 1u, lo.y); put(p, n, i, j, co + 2u, lo.z); put(p, n, i, j, co + 3u, lo.w);
  put(p, n, i, j, co + 4u, hi.x); put(p, n, i, j, co + 5u, hi.y); put(p, n, i, j, co + 6u, hi.z); put(p, n, i, j, co + 7u, hi.w);
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
  var a0l = vec4f(0.0); var a0h = vec4f(0.0); var a1l = vec4f(0.0); var a1h = vec4f(0.0);
  var a2l = vec4f(0.0); var a2h = vec4f(0.0); var a3l = vec4f(0.0); var a3h = vec4f(0.0);
  let ci_step = p.cob4;
  for (var a = 0u; a < p.kh; a++) {
    for (var b = 0u; b < p.kw; b++) {
      let off = (a * p.dh * p.wp + b * p.dw) * p.ct;
      var wi = (a * p.kw + b) * p.kstride * 4u * ci_step + cb * 2u;
      for (var c4 = 0u; c4 < p.kc; c4++) {
        let x0 = texel(b0 + off + c4);
        let x1 = texel(b1 + off + c4);
        let x2 = texel(b2 + off + c4);
        let x3 = texel(b3 + off + c4);
        let w0l = wts[wi]; let w0h = wts[wi + 1u];
        let w1l = wts[wi + ci_step]; let w1h = wts[wi + ci_step + 1u];
        let w2l = wts[wi + 2u * ci_step]; let w2h = wts[wi + 2u * ci_step + 1u];
        let w3l = wts[wi + 3u * ci_step]; let w3h = wts[wi + 3u * ci_step + 1u];
        wi += 4u * ci_step;
        a0l += x0.x * w0l + x0.y * w1l + x0.z * w2l + x0.w * w3l;
        a0h += x0.x * w0h + x0.y * w1h + x0.z * w2h + x0.w * w3h;
        a1l += x1.x * w0l + x1.y * w1l + x1.z * w2l + x1.w * w3l;
        a1h += x1.x * w0h + x1.y * w1h + x1.z * w2h + x1.w * w3h;
        a2l += x2.x * w0l + x2.y * w1l + x2.z * w2l + x2.w * w3l;
        a2h += x2.x * w0h + x2.y * w1h + x2.z * w2h + x2.w * w3h;
        a3l += x3.x * w0l + x3.y * w1l + x3.z * w2l + x3.w * w3l;
        a3h += x3.x * w0h + x3.y * w1h + x3.z * w2h + x3.w * w3h;
      }
    }
  }
  let co = p.co0 + cb * 8u;
  put8(p, n, i, j0, co, a0l, a0h);
  put8(p, n, i, j0 + 1u, co, a1l, a1h);
  put8(p, n, i, j0 + 2u, co, a2l, a2h);
  put8(p, n, i, j0 + 3u, co, a3l, a3h);
}

@compute @workgroup_size(WG)
fn conv2d_fwd_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  tex_conv(flat_workgroup(wid, nwg) * WG + lid);
}

@compute @workgroup_size(WG)
fn conv2d_bwd_input_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  tex_conv(flat_workgroup(wid, nwg) * WG + lid);
}
