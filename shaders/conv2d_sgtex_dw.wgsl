enable subgroups;
// conv2d version 7, weight gradient: one workgroup = one 8-lane subgroup per (group, block of
// 32 output channels, block of 4*XT input channels, tap, range of output rows); by default a
// range is every row of the batch, so the whole gradient is one dispatch and no partial sums.
//   dw[g*Cog + o, c, tap] (+)= sum_{n,i,j} dY[n, g*Cog + o, i, j] * grid[n, i*sh + a*dh, j*sw + b*dw, g*Cig + c]
// x is v3's padded NHWC grid (conv2d_tex_pack.wgsl), dY an NHWC grid whose rows are padded
// with zeros to whole multiples of 8 pixels. Lane l owns 4 output channels (one dY texel per
// pixel, its own) x the block's 4*XT input channels; the x values of a pixel are the same
// for every lane, so for 8 pixels at a time lane l fetches pixel l's XT x texels and
// subgroupBroadcast hands each lane the others': per pixel and lane 1 + XT/8 texel fetches feed
// 16*XT FMAs into 16*XT scalar accumulators. A texel fetch is a call of ~170 instructions on
// lavapipe, as dear as ~80 FMAs, so XT = 8 (64 FMAs per fetch, against 43 at XT = 4) wherever
// a group has the input channels to fill it; XT = 4 for fewer (the stem's 3). A workgroup sums one range of rows (at most 512 pixels,
// kernels/conv2d_sgtex.ts) and the ranges' partial sums are added by a second dispatch: one
// float32 chain over the whole batch was 7x less accurate than v3, and per-row sums plus totals
// kept 128 values live per lane, which spilled every pixel (2-3x slower).
override WG: u32 = 8;  // one subgroup: the lanes share the x block
override XT: u32 = 8; // x texels per block: 4 or 8 (the branches on it fold away)
const LOG_TW: u32 = 12u; // texture width 4096 texels (TW in kernels/conv2d_tex.ts)
const TW_MASK: u32 = (1u << LOG_TW) - 1u;

struct SgDw {
  rows: u32, ho: u32, wo: u32, wo8: u32,
  rows_per_split: u32, hp: u32, wp: u32, ct: u32,
  dct: u32, kw: u32, sh: u32, sw: u32,
  dh: u32, dw: u32, c4g: u32, o4g: u32,
  cig: u32, cog: u32, ncb: u32, nkb: u32,
  taps: u32, groups: u32, accumulate: u32, wsize: u32,
}

struct Acc {
  c0: vec4f, c1: vec4f, c2: vec4f, c3: vec4f, c4: vec4f, c5: vec4f, c6: vec4f, c7: vec4f,
  c8: vec4f, c9: vec4f, c10: vec4f, c11: vec4f, c12: vec4f, c13: vec4f, c14: vec4f, c15: vec4f,
  c16: vec4f, c17: vec4f, c18: vec4f, c19: vec4f, c20: vec4f, c21: vec4f, c22: vec4f, c23: vec4f,
  c24: vec4f, c25: vec4f, c26: vec4f, c27: vec4f, c28: vec4f, c29: vec4f, c30: vec4f, c31: vec4f,
}

@group(0) @binding(0) var xgrid: texture_2d<f32>;
@group(0) @binding(1) var dygrid: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> dwout: array<f32>;
@group(0) @binding(3) var<uniform> params: SgDw;

fn xtexel(t: u32) -> vec4f {
  return textureLoad(xgrid, vec2u(t & TW_MASK, t >> LOG_TW), 0);
}

fn dytexel(t: u32) -> vec4f {
  return textureLoad(dygrid, vec2u(t & TW_MASK, t >> LOG_TW), 0);
}

// one input channel of the block over 8 pixels: its value x (lane l holds pixel l's) times the
// lane's 4 output channels d0..d7 of each pixel, added pixel by pixel. Channel by channel, not
// pixel by pixel: each accumulator is loaded and stored once per 8 products (64 do not fit the
// registers, and a store per product bound the loop).
fn chan(c: vec4f, x: f32, d0: vec4f, d1: vec4f, d2: vec4f, d3: vec4f, d4: vec4f, d5: vec4f, d6: vec4f, d7: vec4f) -> vec4f {
  return c + subgroupBroadcast(x, 0u) * d0 + subgroupBroadcast(x, 1u) * d1 + subgroupBroadcast(x, 2u) * d2
    + subgroupBroadcast(x, 3u) * d3 + subgroupBroadcast(x, 4u) * d4 + subgroupBroadcast(x, 5u) * d5
    + subgroupBroadcast(x, 6u) * d6 + subgroupBroadcast(x, 7u) * d7;
}

fn put(p: SgDw, o: u32, c: u32, tap: u32, grp: u32, split: u32, v: vec4f) {
  if (c >= p.cig) { return; }
  for (var k = 0u; k < 4u; k++) {
    if (o + k < p.cog) {
      let at = split * p.wsize + ((grp * p.cog + o + k) * p.cig + c) * p.taps + tap;
      var r = v[k];
      if (p.accumulate != 0u) { r += dwout[at]; }
      dwout[at] = r;
    }
  }
}

@compute @workgroup_size(WG)
fn conv2d_bwd_weight_v7(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                        @builtin(subgroup_invocation_id) lane: u32) {
  let p = params;
  let wgi = flat_workgroup(wid, nwg);
  let cb = wgi % p.ncb;
  var rest = wgi / p.ncb;
  let kb = rest % p.nkb;
  rest = rest / p.nkb;
  let tap = rest % p.taps;
  rest = rest / p.taps;
  let grp = rest % p.groups;
  let split = rest / p.groups;
  let a = tap / p.kw;
  let b = tap % p.kw;
  // the lane's dY texel (its 4 output channels) and the block's XT x texels, clamped into the group
  let oq = min(cb * 8u + lane, p.o4g - 1u);
  let dyc = grp * p.o4g + oq;
  let k0 = kb * XT;
  let xc = grp * p.c4g + k0;
  var xo: array<u32, 8>;
  for (var t = 0u; t < 8u; t++) { xo[t] = min(k0 + t, p.c4g - 1u) - k0; }
  var acc = Acc();
  let r0 = split * p.rows_per_split;
  let r1 = min(r0 + p.rows_per_split, p.rows);
  // (n, i) of row r, stepped rather than divided: a division of uniform values is 8 scalar ones
  var n = r0 / p.ho;
  var i = r0 % p.ho;
  for (var r = r0; r < r1; r++) {
    let xrow = ((n * p.hp + i * p.sh + a * p.dh) * p.wp + b * p.dw) * p.ct + xc;
    let dyrow = r * p.wo8 * p.dct + dyc;
    i++;
    if (i == p.ho) { i = 0u; n++; }
    for (var j0 = 0u; j0 < p.wo8; j0 += 8u) {
      // pixels past the row's end read the last one's x; their dY is zero
      let xt = xrow + min(j0 + lane, p.wo - 1u) * p.sw * p.ct;
      let x0 = xtexel(xt + xo[0]); let x1 = xtexel(xt + xo[1]); let x2 = xtexel(xt + xo[2]); let x3 = xtexel(xt + xo[3]);
      let dt = dyrow + j0 * p.dct;
      let d0 = dytexel(dt); let d1 = dytexel(dt + p.dct); let d2 = dytexel(dt + 2u * p.dct); let d3 = dytexel(dt + 3u * p.dct);
      let d4 = dytexel(dt + 4u * p.dct); let d5 = dytexel(dt + 5u * p.dct); let d6 = dytexel(dt + 6u * p.dct); let d7 = dytexel(dt + 7u * p.dct);
      acc.c0 = chan(acc.c0, x0.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c1 = chan(acc.c1, x0.y, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c2 = chan(acc.c2, x0.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c3 = chan(acc.c3, x0.w, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c4 = chan(acc.c4, x1.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c5 = chan(acc.c5, x1.y, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c6 = chan(acc.c6, x1.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c7 = chan(acc.c7, x1.w, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c8 = chan(acc.c8, x2.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c9 = chan(acc.c9, x2.y, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c10 = chan(acc.c10, x2.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c11 = chan(acc.c11, x2.w, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c12 = chan(acc.c12, x3.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c13 = chan(acc.c13, x3.y, d0, d1, d2, d3, d4, d5, d6, d7);
      acc.c14 = chan(acc.c14, x3.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c15 = chan(acc.c15, x3.w, d0, d1, d2, d3, d4, d5, d6, d7);
      if (XT == 8u) {
        let x4 = xtexel(xt + xo[4]); let x5 = xtexel(xt + xo[5]); let x6 = xtexel(xt + xo[6]); let x7 = xtexel(xt + xo[7]);
        acc.c16 = chan(acc.c16, x4.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c17 = chan(acc.c17, x4.y, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c18 = chan(acc.c18, x4.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c19 = chan(acc.c19, x4.w, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c20 = chan(acc.c20, x5.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c21 = chan(acc.c21, x5.y, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c22 = chan(acc.c22, x5.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c23 = chan(acc.c23, x5.w, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c24 = chan(acc.c24, x6.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c25 = chan(acc.c25, x6.y, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c26 = chan(acc.c26, x6.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c27 = chan(acc.c27, x6.w, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c28 = chan(acc.c28, x7.x, d0, d1, d2, d3, d4, d5, d6, d7); acc.c29 = chan(acc.c29, x7.y, d0, d1, d2, d3, d4, d5, d6, d7);
        acc.c30 = chan(acc.c30, x7.z, d0, d1, d2, d3, d4, d5, d6, d7); acc.c31 = chan(acc.c31, x7.w, d0, d1, d2, d3, d4, d5, d6, d7);
      }
    }
  }
  let o = oq * 4u;
  let live = cb * 8u + lane < p.o4g;
  if (live) {
    let c = k0 * 4u;
    put(p, o, c, tap, grp, split, acc.c0); put(p, o, c + 1u, tap, grp, split, acc.c1);
    put(p, o, c + 2u, tap, grp, split, acc.c2); put(p, o, c + 3u, tap, grp, split, acc.c3);
    put(p, o, c + 4u, tap, grp, split, acc.c4); put(p, o, c + 5u, tap, grp, split, acc.c5);
    put(p, o, c + 6u, tap, grp, split, acc.c6); put(p, o, c + 7u, tap, grp, split, acc.c7);
    put(p, o, c + 8u, tap, grp, split, acc.c8); put(p, o, c + 9u, tap, grp, split, acc.c9);
    put(p, o, c + 10u, tap, grp, split, acc.c10); put(p, o, c + 11u, tap, grp, split, acc.c11);
    put(p, o, c + 12u, tap, grp, split, acc.c12); put(p, o, c + 13u, tap, grp, split, acc.c13);
    put(p, o, c + 14u, tap, grp, split, acc.c14); put(p, o, c + 15u, tap, grp, split, acc.c15);
    if (XT == 8u) {
      put(p, o, c + 16u, tap, grp, split, acc.c16); put(p, o, c + 17u, tap, grp, split, acc.c17);
      put(p, o, c + 18u, tap, grp, split, acc.c18); put(p, o, c + 19u, tap, grp, split, acc.c19);
      put(p, o, c + 20u, tap, grp, split, acc.c20); put(p, o, c + 21u, tap, grp, split, acc.c21);
      put(p, o, c + 22u, tap, grp, split, acc.c22); put(p, o, c + 23u, tap, grp, split, acc.c23);
      put(p, o, c + 24u, tap, grp, split, acc.c24); put(p, o, c + 25u, tap, grp, split, acc.c25);
      put(p, o, c + 26u, tap, grp, split, acc.c26); put(p, o, c + 27u, tap, grp, split, acc.c27);
      put(p, o, c + 28u, tap, grp, split, acc.c28); put(p, o, c + 29u, tap, grp, split, acc.c29);
      put(p, o, c + 30u, tap, grp, split, acc.c30); put(p, o, c + 31u, tap, grp, split, acc.c31);
    }
  }
}
