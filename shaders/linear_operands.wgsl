// Shared by the matmul kernels (linear, linear_tiled, linear_sg; included with
// `//! include linear_operands`): the uniform block, the transposition constants, the scalar
// bindings, and where element (m, k) of op(A) and (k, n) of op(B) lie.
//   A stored [M, K] (TRANS_A false) or [K, M] (true); B stored [K, N] (TRANS_B false) or [N, K].
//   Batch z reads A at z*strideA, B at z*strideB, writes out at z*strideOut.
//   flags bit 0: accumulate (out += ...), bit 1: add bias[n].
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params {
  M: u32, N: u32, K: u32, flags: u32,
  strideA: u32, strideB: u32, strideOut: u32, alpha: f32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn a_index(m: u32, k: u32, base: u32) -> u32 {
  if (TRANS_A) { return base + k * p.M + m; }
  return base + m * p.K + k;
}

fn b_index(k: u32, n: u32, base: u32) -> u32 {
  if (TRANS_B) { return base + n * p.K + k; }
  return base + k * p.N + n;
}

// alpha * v (+ bias[n]) (+ out[o]): the epilogue every version applies to an output
fn epilogue(v: f32, n: u32, o: u32) -> f32 {
  var r = p.alpha * v;
  if ((p.flags & 2u) != 0u) { r += bias[n]; }
  if ((p.flags & 1u) != 0u) { r += out[o]; }
  return r;
}
