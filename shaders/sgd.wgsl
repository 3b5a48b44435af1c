// SGD over flat arenas: every parameter of a group lies in one contiguous range
// (slices 256-byte aligned, gaps zero), so one dispatch updates the whole group. vec4 per
// load; each invocation handles PER_THREAD vec4s strided by the grid (coalesced).
// SGD, PyTorch semantics (torch.optim.SGD, spec section 5.3), per element:
//   g = grad + wd * p                                   (coupled weight decay)
//   momentum: b = g on the first step (no dampening), else b = mu * b + (1 - dampening) * g
//             g = g + mu * b (nesterov) or g = b
//   p = p - lr * g
//   sgd_step            no momentum buffer
//   sgd_momentum_step   with the momentum buffer; `first` selects b = g
// Versions: v1 only (memory-bound: 12 or 20 bytes per parameter per step).
override WG: u32 = 256;
override PER_THREAD: u32 = 4;

struct Params {
  n4: u32, threads: u32, nesterov: u32, first: u32,
  lr: f32, weight_decay: f32, momentum: f32, dampening: f32,
}

@group(0) @binding(0) var<storage, read> grad: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn sgd_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * p.threads;
    if (i >= p.n4) { return; }
    let w = param[i];
    let g = grad[i] + p.weight_decay * w;
    param[i] = w - p.lr * g;
  }
}

@group(0) @binding(0) var<storage, read> mgrad: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> mparam: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> mbuf: array<vec4f>;
@group(0) @binding(3) var<uniform> mp: Params;

@compute @workgroup_size(WG)
fn sgd_momentum_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= mp.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * mp.threads;
    if (i >= mp.n4) { return; }
    let w = mparam[i];
    var g = mgrad[i] + mp.weight_decay * w;
    var b = g;
    if (mp.first == 0u) { b = mp.momentum * mbuf[i] + (1.0 - mp.dampening) * g; }
    mbuf[i] = b;
    if (mp.nesterov != 0u) { g = g + mp.momentum * b; } else { g = b; }
    mparam[i] = w - mp.lr * g;
  }
}
