// matmul version 4 (kernels/matmul.ts), the GPU-shaped product out = alpha * op(A) op(B)
// [+ out] [+ bias] (layouts: linear_operands.wgsl): BM x BN output tiles per workgroup, op(A)
// and op(B) staged through workgroup memory BK steps of k at a time, each of the (BM/4) x (BN/4)
// invocations holding a 4 x 4 block of outputs in registers (rows 4*ty.., columns 4*tx..).
// Global memory is read and written as vec4 along each operand's contiguous dimension (k for A
// [M, K] and B [N, K], m for A [K, M], n for B [K, N] and out): neighbouring invocations load
// neighbouring vec4s, and a vec4 read along k is spread over four rows of the tile. Needs those
// dimensions, N and the batch strides to be multiples of 4 (kernels/matmul.ts vec4Aligned).
// BM, BN, BK are the version's tuned parameters (override constants).
//! include linear_operands
override BM: u32 = 64u;
override BN: u32 = 64u;
override BK: u32 = 16u;
override WG: u32 = (BM / 4u) * (BN / 4u);

@group(0) @binding(0) var<storage, read> a_v4: array<vec4f>;
@group(0) @binding(1) var<storage, read> b_v4: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias_v4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out_v4: array<vec4f>;

var<workgroup> As: array<vec4f, BK * BM / 4u>; // [BK][BM/4]: 4 rows of op(A) per vec4
var<workgroup> Bs: array<vec4f, BK * BN / 4u>; // [BK][BN/4]: 4 columns of op(B) per vec4

fn stage_a(m0: u32, k0: u32, base: u32, lid: u32) {
  let M = p.M;
  let K = p.K;
  for (var e = lid; e < BK * BM / 4u; e += WG) {
    if (TRANS_A) { // A[k, m..m+3]: one vec4 of the tile (M % 4 == 0: all in or all out)
      let m4 = e % (BM / 4u);
      let kk = e / (BM / 4u);
      let m = m0 + 4u * m4;
      let k = k0 + kk;
      var v = vec4f(0.0);
      if (m < M && k < K) { v = a_v4[(base + k * M + m) >> 2u]; }
      As[kk * (BM / 4u) + m4] = v;
    } else { // A[m, k..k+3] (K % 4 == 0): one element in each of four rows of the tile
      let k4 = e % (BK / 4u);
      let mm = e / (BK / 4u);
      let m = m0 + mm;
      let k = k0 + 4u * k4;
      var v = vec4f(0.0);
      if (m < M && k < K) { v = a_v4[(base + m * K + k) >> 2u]; }
      for (var i = 0u; i < 4u; i++) { As[(4u * k4 + i) * (BM / 4u) + mm / 4u][mm % 4u] = v[i]; }
    }
  }
}

fn stage_b(n0: u32, k0: u32, base: u32, lid: u32) {
  let N = p.N;
  let K = p.K;
  for (var e = lid; e < BK * BN / 4u; e += WG) {
    if (TRANS_B) { // B[n, k..k+3] (K % 4 == 0)
      let k4 = e % (BK / 4u);
      let nn = e / (BK / 4u);
      let n = n0 + nn;
      let k = k0 + 4u * k4;
      var v = vec4f(0.0);
      if (n < N && k < K) { v = b_v4[(base + n * K + k) >> 2u]; }
      for (var i = 0u; i < 4u; i++) { Bs[(4u * k4 + i) * (BN / 4u) + nn / 4u][nn % 4u] = v[i]; }
    } else { // B[k, n..n+3]
      let n4 = e % (BN / 4u);
      let kk = e / (BN / 4u);
      let n = n0 + 4u * n4;
      let k = k0 + kk;
      var v = vec4f(0.0);
      if (n < N && k < K) { v = b_v4[(base + k * N + n) >> 2u]; }
      Bs[kk * (BN / 4u) + n4] = v;
    }
  }
}

@compute @workgroup_size(WG)
fn linear_matmul_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % (BN / 4u);
  let ty = lid / (BN / 4u);
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<vec4f, 4>; // acc[r]: row m0 + 4ty + r, columns n0 + 4tx .. + 3
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    stage_a(m0, k0, wid.z * p.strideA, lid);
    stage_b(n0, k0, wid.z * p.strideB, lid);
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = As[kk * (BM / 4u) + ty];
      let bv = Bs[kk * (BN / 4u) + tx];
      acc[0] = fma(vec4f(av.x), bv, acc[0]);
      acc[1] = fma(vec4f(av.y), bv, acc[1]);
      acc[2] = fma(vec4f(av.z), bv, acc[2]);
      acc[3] = fma(vec4f(av.w), bv, acc[3]);
    }
    workgroupBarrier();
  }
  let n = n0 + 4u * tx;
  if (n >= p.N) { return; }
  var bv = vec4f(0.0);
  if ((p.flags & 2u) != 0u) { bv = bias_v4[n >> 2u]; }
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + 4u * ty + r;
    if (m >= p.M) { break; }
    let o = (wid.z * p.strideOut + m * p.N + n) >> 2u;
    var v = p.alpha * acc[r] + bv;
    if ((p.flags & 1u) != 0u) { v += out_v4[o]; }
    out_v4[o] = v;
  }
}
