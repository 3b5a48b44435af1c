// Elementwise family: out = f(a[, b]) over n f32 values, as vec4 (buffers are padded to 16
// bytes by the pool, so the tail vec4 may compute on padding, never read by anyone).
// Each invocation handles PER_THREAD vec4s strided by the whole grid, so consecutive
// invocations touch consecutive vec4s (coalesced on GPUs, contiguous lanes on lavapipe).
//   elementwise_binary   OP 0: a + b   1: a - b   2: a * b   3: alpha*a + beta*b
//   elementwise_unary    OP 0: relu(a) 1: alpha*a + beta   3: a*a   4: alpha*a[0] (broadcast a scalar)
//   elementwise_relu_bwd dx = dy * (x > 0)
//   elementwise_axpy     y += alpha * x   (gradient accumulation)
//   elementwise_fill     out = alpha
// Versions: v1 only (memory-bound; vec4 + grid stride measured best, docs/KERNELS.md).
override WG: u32 = 256;
override PER_THREAD: u32 = 4;
override OP: u32 = 0;

struct Params { n4: u32, threads: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn elementwise_binary(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * p.threads;
    if (i >= p.n4) { return; }
    let x = a[i];
    let y = b[i];
    switch OP {
      case 0u: { out[i] = x + y; }
      case 1u: { out[i] = x - y; }
      case 2u: { out[i] = x * y; }
      default: { out[i] = p.alpha * x + p.beta * y; }
    }
  }
}

@group(0) @binding(0) var<storage, read> ua: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> uout: array<vec4f>;
@group(0) @binding(2) var<uniform> up: Params;

@compute @workgroup_size(WG)
fn elementwise_unary(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= up.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * up.threads;
    if (i >= up.n4) { return; }
    switch OP {
      case 0u: { uout[i] = max(ua[i], vec4f(0.0)); }
      case 1u: { uout[i] = up.alpha * ua[i] + vec4f(up.beta); }
      case 3u: { let x = ua[i]; uout[i] = x * x; }
      default: { uout[i] = vec4f(up.alpha * ua[0].x); }
    }
  }
}

@compute @workgroup_size(WG)
fn elementwise_relu_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  // a = x (forward input), b = dy
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= p.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * p.threads;
    if (i >= p.n4) { return; }
    out[i] = select(vec4f(0.0), b[i], a[i] > vec4f(0.0));
  }
}

@compute @workgroup_size(WG)
fn elementwise_axpy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  // ua = x, uout = y
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= up.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * up.threads;
    if (i >= up.n4) { return; }
    uout[i] = uout[i] + up.alpha * ua[i];
  }
}

@group(0) @binding(0) var<storage, read_write> fout: array<vec4f>;
@group(0) @binding(1) var<uniform> fp: Params;

@compute @workgroup_size(WG)
fn elementwise_fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= fp.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * fp.threads;
    if (i >= fp.n4) { return; }
    fout[i] = vec4f(fp.alpha);
  }
}
