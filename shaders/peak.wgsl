// Probes of the adapter's own ceilings, so every benchmark can report a fraction of them.
//   peak_fma   each invocation runs 10 independent scalar fma chains for `iters` x 4 steps
//              (scalar chains keep 10 lanes of work in flight without register spills on
//              8-wide CPU vectors; vec4 accumulators spill there) -> 80*iters FLOP/invocation
//   peak_copy  dst = src as vec4, PER_THREAD vec4 per invocation strided by the whole grid
override WG: u32 = 64;
override PER_THREAD: u32 = 4;

struct Params { iters: u32, threads: u32, m: f32, c: f32 }

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn peak_fma(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  let seed = f32(t & 1023u) * 1e-3;
  var a0 = seed; var a1 = seed + 0.1; var a2 = seed + 0.2; var a3 = seed + 0.3; var a4 = seed + 0.4;
  var a5 = seed + 0.5; var a6 = seed + 0.6; var a7 = seed + 0.7; var a8 = seed + 0.8; var a9 = seed + 0.9;
  for (var i = 0u; i < p.iters; i++) {
    for (var u = 0u; u < 4u; u++) {
      a0 = fma(a0, p.m, p.c); a1 = fma(a1, p.m, p.c); a2 = fma(a2, p.m, p.c); a3 = fma(a3, p.m, p.c); a4 = fma(a4, p.m, p.c);
      a5 = fma(a5, p.m, p.c); a6 = fma(a6, p.m, p.c); a7 = fma(a7, p.m, p.c); a8 = fma(a8, p.m, p.c); a9 = fma(a9, p.m, p.c);
    }
  }
  let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
  if (s == 12345.678) { sink[t] = s; } // keeps the chains alive without a store per invocation
}

struct CopyParams { n4: u32, threads: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<uniform> cp: CopyParams;

@compute @workgroup_size(WG)
fn peak_copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid, WG);
  if (t >= cp.threads) { return; }
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = t + k * cp.threads;
    if (i < cp.n4) { dst[i] = src[i]; }
  }
}

@compute @workgroup_size(1)
fn peak_tiny(@builtin(global_invocation_id) gid: vec3u) {
  sink[gid.x] = 1.0;
}
