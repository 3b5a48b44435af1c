// conv2d version 8, the weight gradient of a stride-1 convolution with taps (3x3, 7x7, any
// padding, dilation and groups) laid out for v7's forward kernel (conv2d_sgtex.wgsl) with the
// pixels as its reduction, and the sum of its ranges:
//   dw[g*Cog + o, c, a, b] = sum_{n,i,j} dY[n, g*Cog + o, i, j] * x[n, g*Cig + c, i + a*dh - ph, j + b*dw - pw]
// The reduction index k = (n*HR + i)*WQ + t runs over rows of WQ texels of 4 output pixels, HR
// rows an image: Ho real ones, then (KH-1)*dh of zeros, so that tap row a reads k + a*dh*WQ
// within the same image. x is laid out once per tap column b (KW shifted copies, so that every
// tap reads whole texels): row r of copy b holds x[n, ch, r - ph, 4t + 0..3 + b*dw - pw].
// The KT texels are cut into S ranges of KS; (group g, range s) = G = g*S + s is a "group" of
// the forward kernel, so each output is one float32 chain over a range; each range of x keeps
// a halo of (KH-1)*dh*WQ texels past its end (L = KS + halo texels).
//   grid texel ((G*Cig + c)*KW + b)*L + k'      = copy b of x at k = s*KS + k'
//   wtex texel ((G*NCB + cb)*KS + k')*32 + 8j + q = dY[n, g*Cog + cb*32 + 4q + 0..3, i, 4t + j]
// The forward kernel's output pixel m = (c, a, b) reads grid texel (c*KW + b)*L + a*dh*WQ on;
// its outputs land at parts[(c*S*G' + G*Cog + o)*TAPS + tap] (G' = groups*S), and
// conv2d_sum_taps_v8 adds the ranges into dw's [Co, Cig, KH, KW] order.
// Texels go to storage buffers, copied into the textures by the host, as v7's packs.
override WG: u32 = 64;

struct TapsJob {
  n: u32, c: u32, co: u32, groups: u32,
  cig: u32, cog: u32, h: u32, w: u32,
  ho: u32, wo: u32, kw: u32, ph: u32,
  pw: u32, dh: u32, dw: u32, hr: u32,
  wq: u32, ks: u32, splits: u32, ncb: u32,
  l: u32, x_base: u32, dy_base: u32, x_texels: u32,
  dy_threads: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

struct SumJob { count: u32, taps: u32, cig: u32, cog: u32, splits: u32, dst_c: u32, accumulate: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> grid_out: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> w_out: array<vec4f>;
@group(0) @binding(4) var<uniform> job: TapsJob;

@group(0) @binding(0) var<storage, read> parts: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw_out: array<f32>;
@group(0) @binding(2) var<uniform> sum_job: SumJob;

// reduction texel k: sample n, row i of HR, texel t of WQ (n = N past the batch)
struct Place { n: u32, i: u32, t: u32 }

fn place(p: TapsJob, k: u32) -> Place {
  let rows = k / p.wq;
  return Place(rows / p.hr, rows % p.hr, k % p.wq);
}

fn x_texel(p: TapsJob, u: u32) {
  let kl = u % p.l;
  var rest = u / p.l;
  let b = rest % p.kw;
  rest = rest / p.kw;
  let c = rest % p.cig;
  let gs = rest / p.cig; // G = g*S + s
  let at = place(p, (gs % p.splits) * p.ks + kl);
  var v = vec4f(0.0);
  let row = i32(at.i) - i32(p.ph);
  if (at.n < p.n && row >= 0 && row < i32(p.h)) {
    let ch = (gs / p.splits) * p.cig + c;
    let base = p.x_base + ((at.n * p.c + ch) * p.h + u32(row)) * p.w;
    let col0 = i32(4u * at.t + b * p.dw) - i32(p.pw);
    for (var j = 0; j < 4; j++) {
      let col = col0 + j;
      if (col >= 0 && col < i32(p.w)) { v[j] = x[base + u32(col)]; }
    }
  }
  grid_out[u] = v;
}

// output pixels 4t..4t+3 of row i of dY[n, ch]; zero past the row, the real rows, the batch and the group's channels
fn dy_run(p: TapsJob, at: Place, g: u32, o: u32) -> vec4f {
  var v = vec4f(0.0);
  if (at.n >= p.n || at.i >= p.ho || o >= p.cog) { return v; }
  let base = p.dy_base + ((at.n * p.co + g * p.cog + o) * p.ho + at.i) * p.wo;
  for (var j = 0u; j < 4u; j++) {
    if (4u * at.t + j < p.wo) { v[j] = dy[base + 4u * at.t + j]; }
  }
  return v;
}

fn dy_texels(p: TapsJob, u: u32) {
  let q = u % 8u;
  let rest = u / 8u;
  let kl = rest % p.ks;
  let sb = rest / p.ks; // G*NCB + cb
  let gs = sb / p.ncb;
  let at = place(p, (gs % p.splits) * p.ks + kl);
  let g = gs / p.splits;
  let o = (sb % p.ncb) * 32u + 4u * q;
  let a = dy_run(p, at, g, o);
  let b = dy_run(p, at, g, o + 1u);
  let c = dy_run(p, at, g, o + 2u);
  let d = dy_run(p, at, g, o + 3u);
  let t = (sb * p.ks + kl) * 32u + q;
  w_out[t] = vec4f(a.x, b.x, c.x, d.x);
  w_out[t + 8u] = vec4f(a.y, b.y, c.y, d.y);
  w_out[t + 16u] = vec4f(a.z, b.z, c.z, d.z);
  w_out[t + 24u] = vec4f(a.w, b.w, c.w, d.w);
}

@compute @workgroup_size(WG)
fn conv2d_pack_taps_v8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                       @builtin(local_invocation_index) lid: u32) {
  let u = thread_index(wid, nwg, lid, WG);
  let p = job;
  if (u < p.x_texels) { x_texel(p, u); return; }
  if (u - p.x_texels < p.dy_threads) { dy_texels(p, u - p.x_texels); }
}

// dw[(g*Cog + o)*Cig + c)*TAPS + tap] (+)= sum_s parts[(c*DST_C + (g*S + s)*Cog + o)*TAPS + tap]
@compute @workgroup_size(WG)
fn conv2d_sum_taps_v8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid, WG);
  let p = sum_job;
  if (i >= p.count) { return; }
  let tap = i % p.taps;
  var rest = i / p.taps;
  let c = rest % p.cig;
  rest = rest / p.cig; // g*Cog + o
  let g = rest / p.cog;
  let o = rest % p.cog;
  var at = ((c * p.dst_c + g * p.splits * p.cog + o) * p.taps) + tap;
  let step = p.cog * p.taps;
  var s0 = 0.0;
  var s1 = 0.0;
  for (var s = 0u; s < p.splits; s += 2u) {
    s0 += parts[at];
    if (s + 1u < p.splits) { s1 += parts[at + step]; }
    at += 2u * step;
  }
  var r = s0 + s1;
  if (p.accumulate != 0u) { r += dw_out[i]; }
  dw_out[i] = r;
}
