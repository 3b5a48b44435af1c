// Linear family: batched matmul out = alpha * op(A) op(B) [+ out] [+ bias], and the bias
// gradient. op(A) is [M, K], op(B) is [K, N], out is [M, N], all row-major f32.
//   A stored [M, K] (TRANS_A false) or [K, M] (true); B stored [K, N] (TRANS_B false) or [N, K].
//   Batch z (grid z) reads A at z*strideA, B at z*strideB, writes out at z*strideOut
//   (a stride of 0 shares one operand across the batch, e.g. 1x1-conv weights).
//   flags bit 0: accumulate (out += ...), bit 1: add bias[n] (a vector of N values).
// linear: y = x W^T + b is M=B, N=out, K=in, TRANS_B; dX = dY W (plain); dW = dY^T X (TRANS_A).
//
// Versions (kernels/matmul.ts picks one; v4 and v5 are linear_tiled.wgsl and linear_sg.wgsl):
//   linear_matmul_v1  register tile 4x4 per invocation, scalar loads, any shape or stride.
//   linear_matmul_v2  register tile 4x4, vec4 loads and stores, no workgroup memory or barriers:
//                     the fast path on CPU adapters, where every storage load is a per-lane loop
//                     and barriers suspend every subgroup. Needs 4-aligned contiguous
//                     dimensions, N % 4 == 0 and batch strides % 4 == 0.
//   linear_matmul_v3  64x64 workgroup tile staged through workgroup memory, BK = 16, 256
//                     threads of 4x4 outputs each (strided so loads and stores coalesce):
//                     the version for GPUs. Any shape.
//   linear_bias_bwd   db[n] = sum_m dy[m, n]; one invocation per column (coalesced over n).
//! include linear_operands
override WG_X: u32 = 8;
override WG_Y: u32 = 8;

// ---- v1: scalar loads, any shape ----
// Indices are clamped into the matrix rather than branched on: edge invocations compute on
// duplicated rows or columns and simply do not store them.
@compute @workgroup_size(WG_X, WG_Y)
fn linear_matmul_v1(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let baseA = gid.z * p.strideA;
  let baseB = gid.z * p.strideB;
  let rows = vec4u(m0, min(m0 + 1u, p.M - 1u), min(m0 + 2u, p.M - 1u), min(m0 + 3u, p.M - 1u));
  let cols = vec4u(n0, min(n0 + 1u, p.N - 1u), min(n0 + 2u, p.N - 1u), min(n0 + 3u, p.N - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let av = vec4f(a[a_index(rows.x, k, baseA)], a[a_index(rows.y, k, baseA)],
                   a[a_index(rows.z, k, baseA)], a[a_index(rows.w, k, baseA)]);
    let bv = vec4f(b[b_index(k, cols.x, baseB)], b[b_index(k, cols.y, baseB)],
                   b[b_index(k, cols.z, baseB)], b[b_index(k, cols.w, baseB)]);
    acc0 = fma(vec4f(av.x), bv, acc0);
    acc1 = fma(vec4f(av.y), bv, acc1);
    acc2 = fma(vec4f(av.z), bv, acc2);
    acc3 = fma(vec4f(av.w), bv, acc3);
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  let baseO = gid.z * p.strideOut;
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + r;
    if (m >= p.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + c;
      if (n >= p.N) { break; }
      let o = baseO + m * p.N + n;
      out[o] = epilogue(accs[r][c], n, o);
    }
  }
}

// ---- v2: vec4 loads and stores, register tile, no barriers ----
@group(0) @binding(0) var<storage, read> a4: array<vec4f>;
@group(0) @binding(1) var<storage, read> b4: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(4) var<uniform> p4: Params;

fn a4_elem(i: u32) -> f32 { return a4[i >> 2u][i & 3u]; }
fn b4_elem(i: u32) -> f32 { return b4[i >> 2u][i & 3u]; }

@compute @workgroup_size(WG_X, WG_Y)
fn linear_matmul_v2(@builtin(global_invocation_id) gid: vec3u) {
  let M = p4.M;
  let N = p4.N;
  let K = p4.K;
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= M || n0 >= N) { return; }
  let baseA = gid.z * p4.strideA;
  let baseB = gid.z * p4.strideB;
  let r1 = min(m0 + 1u, M - 1u);
  let r2 = min(m0 + 2u, M - 1u);
  let r3 = min(m0 + 3u, M - 1u);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  let K4 = K & ~3u;
  for (var k = 0u; k < K4; k += 4u) {
    // am[r] = A[m0 + r, k .. k+3]; bm[kk] = B[k + kk, n0 .. n0+3]
    var am: mat4x4f;
    if (TRANS_A) {
      let i = (baseA + k * M + m0) >> 2u;
      let s = M >> 2u;
      am = transpose(mat4x4f(a4[i], a4[i + s], a4[i + 2u * s], a4[i + 3u * s]));
    } else {
      am = mat4x4f(a4[(baseA + m0 * K + k) >> 2u], a4[(baseA + r1 * K + k) >> 2u],
                   a4[(baseA + r2 * K + k) >> 2u], a4[(baseA + r3 * K + k) >> 2u]);
    }
    var bm: mat4x4f;
    if (TRANS_B) {
      let i = (baseB + n0 * K + k) >> 2u;
      let s = K >> 2u;
      bm = transpose(mat4x4f(b4[i], b4[i + s], b4[i + 2u * s], b4[i + 3u * s]));
    } else {
      let i = (baseB + k * N + n0) >> 2u;
      let s = N >> 2u;
      bm = mat4x4f(b4[i], b4[i + s], b4[i + 2u * s], b4[i + 3u * s]);
    }
    acc0 += bm * am[0];
    acc1 += bm * am[1];
    acc2 += bm * am[2];
    acc3 += bm * am[3];
  }
  // K tail (only possible when both operands are contiguous along m or n)
  for (var k = K4; k < K; k++) {
    var av: vec4f;
    if (TRANS_A) { av = a4[(baseA + k * M + m0) >> 2u]; }
    else { av = vec4f(a4_elem(baseA + m0 * K + k), a4_elem(baseA + r1 * K + k), a4_elem(baseA + r2 * K + k), a4_elem(baseA + r3 * K + k)); }
    var bv: vec4f;
    if (TRANS_B) { bv = vec4f(b4_elem(baseB + n0 * K + k), b4_elem(baseB + (n0 + 1u) * K + k), b4_elem(baseB + (n0 + 2u) * K + k), b4_elem(baseB + (n0 + 3u) * K + k)); }
    else { bv = b4[(baseB + k * N + n0) >> 2u]; }
    acc0 = fma(vec4f(av.x), bv, acc0);
    acc1 = fma(vec4f(av.y), bv, acc1);
    acc2 = fma(vec4f(av.z), bv, acc2);
    acc3 = fma(vec4f(av.w), bv, acc3);
  }
  var bv = vec4f(0.0);
  if ((p4.flags & 2u) != 0u) { bv = bias4[n0 >> 2u]; }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  let baseO = gid.z * p4.strideOut;
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + r;
    if (m >= M) { break; }
    let o = (baseO + m * N + n0) >> 2u;
    var v = p4.alpha * accs[r] + bv;
    if ((p4.flags & 1u) != 0u) { v += out4[o]; }
    out4[o] = v;
  }
}

// ---- v3: workgroup tiles (GPUs) ----
const BM = 64u;
const BN = 64u;
const BK = 16u;
var<workgroup> tileA: array<f32, 1024>; // [BK][BM]
var<workgroup> tileB: array<f32, 1024>; // [BK][BN]

@compute @workgroup_size(16, 16)
fn linear_matmul_v3(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                    @builtin(local_invocation_index) t: u32) {
  let M = p.M;
  let N = p.N;
  let K = p.K;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let baseA = wid.z * p.strideA;
  let baseB = wid.z * p.strideB;
  var acc: array<vec4f, 4>; // acc[r][c]: row row0 + ty + 16r, column col0 + tx + 16c
  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var i = 0u; i < 4u; i++) {
      let e = t + i * 256u;
      // walk each operand along its contiguous dimension so neighbouring threads load neighbours
      var mm: u32; var ka: u32;
      if (TRANS_A) { mm = e % BM; ka = e / BM; } else { ka = e % BK; mm = e / BK; }
      let gm = row0 + mm;
      let gka = k0 + ka;
      var va = 0.0;
      if (gm < M && gka < K) { va = a[a_index(gm, gka, baseA)]; }
      tileA[ka * BM + mm] = va;
      var nn: u32; var kb: u32;
      if (TRANS_B) { kb = e % BK; nn = e / BK; } else { nn = e % BN; kb = e / BN; }
      let gn = col0 + nn;
      let gkb = k0 + kb;
      var vb = 0.0;
      if (gn < N && gkb < K) { vb = b[b_index(gkb, gn, baseB)]; }
      tileB[kb * BN + nn] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = vec4f(tileA[kk * BM + lid.y], tileA[kk * BM + lid.y + 16u], tileA[kk * BM + lid.y + 32u], tileA[kk * BM + lid.y + 48u]);
      let bv = vec4f(tileB[kk * BN + lid.x], tileB[kk * BN + lid.x + 16u], tileB[kk * BN + lid.x + 32u], tileB[kk * BN + lid.x + 48u]);
      acc[0] = fma(vec4f(av.x), bv, acc[0]);
      acc[1] = fma(vec4f(av.y), bv, acc[1]);
      acc[2] = fma(vec4f(av.z), bv, acc[2]);
      acc[3] = fma(vec4f(av.w), bv, acc[3]);
    }
    workgroupBarrier();
  }
  let baseO = wid.z * p.strideOut;
  for (var r = 0u; r < 4u; r++) {
    let m = row0 + lid.y + 16u * r;
    for (var c = 0u; c < 4u; c++) {
      let n = col0 + lid.x + 16u * c;
      if (m < M && n < N) {
        let o = baseO + m * N + n;
        out[o] = epilogue(acc[r][c], n, o);
      }
    }
  }
}

// ---- bias gradient: db[n] = scale * sum_m dy[m, n] (dy [M, N]) ----
struct BiasParams { M: u32, N: u32, accumulate: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> bp: BiasParams;

@compute @workgroup_size(64)
fn linear_bias_bwd(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= bp.N) { return; }
  var s0 = 0.0;
  var s1 = 0.0;
  let M2 = bp.M & ~1u;
  for (var m = 0u; m < M2; m += 2u) {
    s0 += dy[m * bp.N + n];
    s1 += dy[(m + 1u) * bp.N + n];
  }
  if (M2 < bp.M) { s0 += dy[M2 * bp.N + n]; }
  var v = bp.scale * (s0 + s1);
  if (bp.accumulate != 0u) { v += db[n]; }
  db[n] = v;
}
