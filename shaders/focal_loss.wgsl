// Sigmoid focal loss (Lin et al. 2017; torchvision.ops.sigmoid_focal_loss), fused: one pass
// writes every element's loss partial sums and d(loss)/d(logit); BCE-with-logits is the case
// gamma = 0 with no alpha. Targets are real values in [0, 1] (label smoothing, mixup), as in
// PyTorch; 0/1 targets are the special case.
// Per element, logit x, target t, p = sigmoid(x):
//   ce      = t softplus(-x) + (1 - t) softplus(x)            (BCE-with-logits, two terms >= 0)
//   m       = 1 - p_t = p (1 - t) + (1 - p) t                  (no cancellation)
//   alpha_t = alpha t + (1 - alpha)(1 - t), or 1 when alpha < 0 (per attribute)
//   FL      = alpha_t m^gamma ce
//   dFL/dx  = alpha_t [ (p (1 - t) - (1 - p) t) m^gamma + gamma ce (1 - 2t) p (1 - p) m^(gamma-1) ]
// Stable for any |x|: p, 1 - p and softplus(+-x) = max(+-x, 0) + log1p(e) come from one
// e = exp(-|x|); ln m is -softplus(x) for t = 1, -softplus(-x) for t = 0 and log(m) between
// (m >= min(t, 1 - t) there), so m^gamma = exp(gamma ln m) and p (1 - p) m^(gamma-1) =
// exp(-softplus(x) - softplus(-x) + (gamma - 1) ln m) <= 1 stay finite even for gamma < 1
// and saturated logits; gamma = 2 (the usual) takes m * m without a transcendental, gamma = 0
// gives exactly 1 (no pow(0, 0)).
// Layout: logits, targets, dlogits [rows, A] row-major, alpha [A]; attribute = i % A.
//   focal_loss_fwd     invocation t of T handles i = t, t+T, ... (SEG values); writes
//                      dlogits[i] = scale dFL/dx (scale: 1/n for mean, 1 for sum),
//                      partial[t] = sum of FL, partial[T + t] = count of non-finite
//                      logits or losses
//   focal_loss_reduce  one invocation: out[0] = scale sum(partial[0..T)), out[1] = count
//   focal_loss_bwd     dx = g[0] dlogits (vec4): the recorded backward, upstream scalar g
// Versions: v1 only (a [256, 40] batch is 10k values: the cost is the dispatches, not the maths).
override WG: u32 = 64;

struct Params { n: u32, A: u32, threads: u32, seg: u32, gamma: f32, scale: f32, alpha: f32, alpha_vector: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

// log(1 + e) for e in [0, 1]: a series where 1 + e would round e away
fn log1p_small(e: f32) -> f32 {
  if (e < 0.01) { return e * (1.0 - e * (0.5 - e * (1.0 / 3.0 - 0.25 * e))); }
  return log(1.0 + e);
}

// WGSL has no isinf/isnan, and fast-math compilers may fold x != x: test the exponent bits.
fn non_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WG)
fn focal_loss_fwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.threads) { return; }
  let gamma = p.gamma;
  var sum0 = 0.0;
  var sum1 = 0.0;
  var bad = 0u;
  for (var j = 0u; j < p.seg; j++) {
    let i = t + j * p.threads;
    if (i >= p.n) { break; }
    let x = logits[i];
    let tg = targets[i];
    var a = p.alpha;
    if (p.alpha_vector != 0u) { a = alpha[i % p.A]; }
    let alpha_t = select(1.0, a * tg + (1.0 - a) * (1.0 - tg), a >= 0.0);
    let e = exp(-abs(x));
    let l1pe = log1p_small(e);
    let sp_pos = max(x, 0.0) + l1pe;         // softplus(x) = -ln(1 - p)
    let sp_neg = max(-x, 0.0) + l1pe;        // softplus(-x) = -ln p
    let inv = 1.0 / (1.0 + e);
    let prob = select(e * inv, inv, x >= 0.0);
    let prob_c = select(inv, e * inv, x >= 0.0);
    let ce = tg * sp_neg + (1.0 - tg) * sp_pos;
    let m = prob * (1.0 - tg) + prob_c * tg;
    var ln_m = -sp_pos;
    if (tg <= 0.0) { ln_m = -sp_neg; } else if (tg < 1.0) { ln_m = log(m); }
    var m_gamma = 1.0;
    var w = 0.0;                             // p (1 - p) m^(gamma - 1)
    if (gamma == 2.0) {
      m_gamma = m * m;
      w = prob * prob_c * m;
    } else if (gamma != 0.0) {
      m_gamma = exp(gamma * ln_m);
      w = exp(-sp_pos - sp_neg + (gamma - 1.0) * ln_m);
    }
    let loss = alpha_t * m_gamma * ce;
    let dce = prob * (1.0 - tg) - prob_c * tg;   // p - t without cancellation at t = 0, 1
    dlogits[i] = p.scale * alpha_t * (dce * m_gamma + gamma * ce * (1.0 - 2.0 * tg) * w);
    if (non_finite(x) || non_finite(loss)) { bad++; }
    if ((j & 1u) == 0u) { sum0 += loss; } else { sum1 += loss; }
  }
  partial[t] = sum0 + sum1;
  partial[p.threads + t] = f32(bad);
}

struct ReduceParams { threads: u32, _a: u32, _b: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> partial_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;
@group(0) @binding(2) var<uniform> rp: ReduceParams;

@compute @workgroup_size(1)
fn focal_loss_reduce() {
  var s = vec4f(0.0);
  var bad = 0.0;
  let T = rp.threads;
  let T4 = T & ~3u;
  for (var t = 0u; t < T4; t += 4u) {
    s += vec4f(partial_in[t], partial_in[t + 1u], partial_in[t + 2u], partial_in[t + 3u]);
  }
  for (var t = T4; t < T; t++) { s.x += partial_in[t]; }
  for (var t = 0u; t < T; t++) { bad += partial_in[T + t]; }
  result[0] = rp.scale * ((s.x + s.y) + (s.z + s.w));
  result[1] = bad;
}

struct ScaleParams { n4: u32, threads: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<storage, read> upstream: array<f32>;
@group(0) @binding(1) var<storage, read> dl4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(3) var<uniform> sp: ScaleParams;

@compute @workgroup_size(WG)
fn focal_loss_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= sp.threads) { return; }
  let g = upstream[0];
  for (var k = 0u; k < 4u; k++) {
    let i = t + k * sp.threads;
    if (i >= sp.n4) { return; }
    dx4[i] = g * dl4[i];
  }
}
