// Included by batchnorm2d_fwd.wgsl and batchnorm2d_bwd.wgsl (their `//! include` line,
// kernels/wgsl.ts): the constants and parameter blocks both passes share with the host
// (kernels/batchnorm2d.ts packs them), so the two cannot drift apart.
override WG: u32 = 64;
override PER_THREAD: u32 = 4;
override RELU: bool = false;
override RESIDUAL: bool = false;

// HWu: values per plane in the entry's unit (floats for v1, vec4s for v2)
struct ReduceParams { C: u32, N: u32, HWu: u32, T: u32 }
struct FinalizeParams { C: u32, T: u32, count: f32, eps: f32, momentum: f32, flags: u32, chunks: u32, stride: u32 }
struct MapParams { C: u32, HWu: u32, total: u32, threads: u32 }

const HAS_WEIGHT = 1u;
const HAS_BIAS = 2u;
const UPDATE_RUNNING = 4u;
const TRAINING = 8u;
const ADD_DWEIGHT = 16u; // dweight / dbias are added into (a parameter's .grad), not written
const ADD_DBIAS = 32u;

// gamma (or 1 without an affine weight)
fn weight_or_one(weight: f32, flags: u32) -> f32 {
  return select(1.0, weight, (flags & HAS_WEIGHT) != 0u);
}
