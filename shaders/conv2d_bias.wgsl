// conv2d bias gradient, shared by every version: db[o] (+)= sum_{n,i,j} dy[n,o,i,j].
// One workgroup per output channel; its invocations stride over the batch and the plane,
// then a tree reduction in workgroup memory (log2(WG) barriers per channel, few enough to
// be cheap even where barriers are slow). `accumulate` adds to db (batch chunks after the first).
override WG: u32 = 64;

struct BiasParams { n: u32, co: u32, plane: u32, y_base: u32, accumulate: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: BiasParams;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn conv2d_bwd_bias(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let o = flat_workgroup(wid, nwg);
  var acc = 0.0;
  if (o < p.co) {
    let count = p.n * p.plane;
    for (var k = lid; k < count; k += WG) {
      let n = k / p.plane;
      acc += dy[p.y_base + (n * p.co + o) * p.plane + k % p.plane];
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) { partial[lid] += partial[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u && o < p.co) {
    var total = partial[0];
    if (p.accumulate != 0u) { total += db[o]; }
    db[o] = total;
  }
}
