// conv2d version 7, dX of a large 1x1: its weight matrix transposed, texel blocks of 4 x 4.
//   in  (a texture, as laid): texel co*KR + c4    = w[co, 4*c4 + 0..3]     (KR = C/4 texels a row)
//   out (a storage buffer):   texel c*KRT + co4   = w[4*co4 + 0..3, c]     (KRT = Co/4)
// so that dX reads wT[C, Co] as the forward reads w[Co, C]: rows of the channels it writes, each
// run along the channels it reduces (kernels/conv2d_sgtex.ts, laidWeights).
// One invocation per 4 x 4 block: 4 texel loads, 4 vec4 stores; invocations along c4 read
// neighbouring texels.
override WG: u32 = 64;
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct Transpose { kr: u32, krt: u32, blocks: u32, _pad: u32 }

@group(0) @binding(0) var w_laid: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> w_t: array<vec4f>;
@group(0) @binding(2) var<uniform> tp: Transpose;

fn laid_texel(t: u32) -> vec4f {
  return textureLoad(w_laid, vec2u(t & TW_MASK, t >> LOG_TW));
}

@compute @workgroup_size(WG)
fn conv2d_weight_transpose_v7(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                              @builtin(local_invocation_index) lid: u32) {
  let b = thread_index(wid, nwg, lid, WG);
  if (b >= tp.blocks) { return; }
  let c4 = b % tp.kr;
  let co4 = b / tp.kr;
  let at = 4u * co4 * tp.kr + c4;
  let r0 = laid_texel(at);
  let r1 = laid_texel(at + tp.kr);
  let r2 = laid_texel(at + 2u * tp.kr);
  let r3 = laid_texel(at + 3u * tp.kr);
  let out = 4u * c4 * tp.krt + co4;
  w_t[out] = vec4f(r0.x, r1.x, r2.x, r3.x);
  w_t[out + tp.krt] = vec4f(r0.y, r1.y, r2.y, r3.y);
  w_t[out + 2u * tp.krt] = vec4f(r0.z, r1.z, r2.z, r3.z);
  w_t[out + 3u * tp.krt] = vec4f(r0.w, r1.w, r2.w, r3.w);
}
