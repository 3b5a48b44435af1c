enable subgroups;
// conv2d version 7, weight gradient: one workgroup = one 8-lane subgroup per (group, block of
// 32*OQ output channels, block of 4*XT input channels, tap, range of output rows); by default a
// range is every row of the batch, so the whole gradient is one dispatch and no partial sums.
//   dw[g*Cog + o, c, tap] (+)= sum_{n,i,j} dY[n, g*Cog + o, i, j] * grid[n, i*sh + a*dh, j*sw + b*dw, g*Cig + c]
// x is v3's padded NHWC grid (conv2d_tex_pack.wgsl), dY an NHWC grid whose rows are padded
// with zeros to whole multiples of 8 pixels. Lane l owns 4*OQ output channels (OQ dY texels
// per pixel, its own) x the block's 4*XT input channels; the x values of a pixel are the same
// for every lane, so for 8 pixels at a time lane l fetches pixel l's XT x texels and
// subgroupBroadcast hands each lane the others': per pixel and lane OQ + XT/8 texel fetches
// feed 16*XT*OQ FMAs into as many scalar accumulators. A texel fetch is a call of ~170
// instructions on lavapipe, as dear as ~80 FMAs, so the blocks are as wide as the channels
// allow (XT = 8, OQ = 2: 85 FMAs per fetch, against 43 at XT = 4, OQ = 1). A workgroup sums one range of rows (at most 512 pixels,
// kernels/conv2d_sgtex.ts) and the ranges' partial sums are added by a second dispatch: one
// float32 chain over the whole batch was 7x less accurate than v3, and per-row sums plus totals
// kept 128 values live per lane, which spilled every pixel (2-3x slower).
override WG: u32 = 8;  // one subgroup: the lanes share the x block
override XT: u32 = 8;  // x texels per block: 4 or 8 (the branches on XT and OQ fold away)
override OQ: u32 = 2;  // dY texels per lane: 1 or 2
// Groups of at most 4 input channels (the stem's 3): the block's XT x texels are the group's one
// texel at XT consecutive taps, so a dY fetch feeds XT taps instead of one texel of 4 channels
// (3 of 16 real where a block held 4 texels of one tap).
override TAP_BLOCK: bool = false;
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

// acc[32*t + c]: the lane's dY texel t (4 output channels) x input channel c of the block
alias Acc = array<vec4f, 64>;
// one dY texel of the lane at the 8 pixels
alias Dy8 = array<vec4f, 8>;

// read-only storage textures, as conv2d_sgtex.wgsl's
@group(0) @binding(0) var xgrid: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var dygrid: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> dwout: array<f32>;
@group(0) @binding(3) var<uniform> params: SgDw;

fn xtexel(t: u32) -> vec4f {
  return textureLoad(xgrid, vec2u(t & TW_MASK, t >> LOG_TW));
}

fn dytexel(t: u32) -> vec4f {
  return textureLoad(dygrid, vec2u(t & TW_MASK, t >> LOG_TW));
}

// one input channel of the block over 8 pixels: its value x (lane l holds pixel l's) times the
// lane's 4 output channels d of each pixel, added pixel by pixel. Channel by channel, not
// pixel by pixel: each accumulator is loaded and stored once per 8 products (they do not fit
// the registers, and a store per product bound the loop).
fn chan(c: vec4f, x: f32, d: ptr<function, Dy8>) -> vec4f {
  return c + subgroupBroadcast(x, 0u) * (*d)[0] + subgroupBroadcast(x, 1u) * (*d)[1] + subgroupBroadcast(x, 2u) * (*d)[2]
    + subgroupBroadcast(x, 3u) * (*d)[3] + subgroupBroadcast(x, 4u) * (*d)[4] + subgroupBroadcast(x, 5u) * (*d)[5]
    + subgroupBroadcast(x, 6u) * (*d)[6] + subgroupBroadcast(x, 7u) * (*d)[7];
}

// x texel k of the block (input channels 4k..4k+3) into the accumulators of dY texel t
fn texel(acc: ptr<function, Acc>, t: u32, k: u32, x: vec4f, d: ptr<function, Dy8>) {
  let at = 32u * t + 4u * k;
  (*acc)[at] = chan((*acc)[at], x.x, d);
  (*acc)[at + 1u] = chan((*acc)[at + 1u], x.y, d);
  (*acc)[at + 2u] = chan((*acc)[at + 2u], x.z, d);
  (*acc)[at + 3u] = chan((*acc)[at + 3u], x.w, d);
}

// every x texel of the block into the accumulators of dY texel t
fn dy_texel(acc: ptr<function, Acc>, t: u32, x: ptr<function, array<vec4f, 8>>, d: ptr<function, Dy8>) {
  texel(acc, t, 0u, (*x)[0], d); texel(acc, t, 1u, (*x)[1], d);
  texel(acc, t, 2u, (*x)[2], d); texel(acc, t, 3u, (*x)[3], d);
  if (XT == 8u) {
    texel(acc, t, 4u, (*x)[4], d); texel(acc, t, 5u, (*x)[5], d);
    texel(acc, t, 6u, (*x)[6], d); texel(acc, t, 7u, (*x)[7], d);
  }
}

// the lane's dY texel at the 8 pixels from texel t on, pixels dct texels apart
fn load_dy(d: ptr<function, Dy8>, t: u32, dct: u32) {
  (*d)[0] = dytexel(t); (*d)[1] = dytexel(t + dct); (*d)[2] = dytexel(t + 2u * dct); (*d)[3] = dytexel(t + 3u * dct);
  (*d)[4] = dytexel(t + 4u * dct); (*d)[5] = dytexel(t + 5u * dct); (*d)[6] = dytexel(t + 6u * dct); (*d)[7] = dytexel(t + 7u * dct);
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

// x texel k's 4 input channels (from c0 + 4k, or c0 at tap + k under TAP_BLOCK) for the 4
// output channels (from o) of dY texel t
fn put_texel(p: SgDw, acc: ptr<function, Acc>, t: u32, k: u32, o: u32, c0: u32, tap: u32, grp: u32, split: u32) {
  let at = 32u * t + 4u * k;
  var c = c0 + 4u * k;
  var tk = tap;
  if (TAP_BLOCK) {
    c = c0;
    tk = tap + k;
    if (tk >= p.taps) { return; }
  }
  put(p, o, c, tk, grp, split, (*acc)[at]); put(p, o, c + 1u, tk, grp, split, (*acc)[at + 1u]);
  put(p, o, c + 2u, tk, grp, split, (*acc)[at + 2u]); put(p, o, c + 3u, tk, grp, split, (*acc)[at + 3u]);
}

fn put_all(p: SgDw, acc: ptr<function, Acc>, t: u32, o: u32, c0: u32, tap: u32, grp: u32, split: u32) {
  put_texel(p, acc, t, 0u, o, c0, tap, grp, split); put_texel(p, acc, t, 1u, o, c0, tap, grp, split);
  put_texel(p, acc, t, 2u, o, c0, tap, grp, split); put_texel(p, acc, t, 3u, o, c0, tap, grp, split);
  if (XT == 8u) {
    put_texel(p, acc, t, 4u, o, c0, tap, grp, split); put_texel(p, acc, t, 5u, o, c0, tap, grp, split);
    put_texel(p, acc, t, 6u, o, c0, tap, grp, split); put_texel(p, acc, t, 7u, o, c0, tap, grp, split);
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
  // the tap whose rows the block reads from: under TAP_BLOCK tap 0, the x texels being taps
  var tap = 0u;
  if (!TAP_BLOCK) {
    tap = rest % p.taps;
    rest = rest / p.taps;
  }
  let grp = rest % p.groups;
  let split = rest / p.groups;
  let a = tap / p.kw;
  let b = tap % p.kw;
  // the lane's OQ dY texels (4 output channels each) and the block's XT x texels, clamped into the group
  let oq = (cb * 8u + lane) * OQ;
  let dyc0 = grp * p.o4g + min(oq, p.o4g - 1u);
  let dyc1 = grp * p.o4g + min(oq + 1u, p.o4g - 1u);
  let k0 = select(kb * XT, 0u, TAP_BLOCK);       // the block's first x texel within the group
  let put_tap = select(tap, kb * XT, TAP_BLOCK); // the tap x texel 0's gradients belong to
  var xo = array<u32, 8>();
  for (var k = 0u; k < XT; k++) {
    if (TAP_BLOCK) { // the group's texel at tap kb*XT + k (the last tap past the end)
      let tk = min(put_tap + k, p.taps - 1u);
      xo[k] = ((tk / p.kw) * p.dh * p.wp + (tk % p.kw) * p.dw) * p.ct;
    } else { // the group's texel k0 + k at this tap (the last texel past the end)
      xo[k] = min(k0 + k, p.c4g - 1u) - k0;
    }
  }
  let xc = grp * p.c4g + k0;
  var acc = Acc();
  var x: array<vec4f, 8>;
  var d: Dy8;
  let r0 = split * p.rows_per_split;
  let r1 = min(r0 + p.rows_per_split, p.rows);
  // (n, i) of row r, stepped rather than divided: a division of uniform values is 8 scalar ones
  var n = r0 / p.ho;
  var i = r0 % p.ho;
  for (var r = r0; r < r1; r++) {
    let xrow = ((n * p.hp + i * p.sh + a * p.dh) * p.wp + b * p.dw) * p.ct + xc;
    let dyrow = r * p.wo8 * p.dct;
    i++;
    if (i == p.ho) { i = 0u; n++; }
    for (var j0 = 0u; j0 < p.wo8; j0 += 8u) {
      // pixels past the row's end read the last one's x; their dY is zero
      let xt = xrow + min(j0 + lane, p.wo - 1u) * p.sw * p.ct;
      x[0] = xtexel(xt + xo[0]); x[1] = xtexel(xt + xo[1]); x[2] = xtexel(xt + xo[2]); x[3] = xtexel(xt + xo[3]);
      if (XT == 8u) { x[4] = xtexel(xt + xo[4]); x[5] = xtexel(xt + xo[5]); x[6] = xtexel(xt + xo[6]); x[7] = xtexel(xt + xo[7]); }
      let dt = dyrow + j0 * p.dct;
      load_dy(&d, dt + dyc0, p.dct);
      dy_texel(&acc, 0u, &x, &d);
      if (OQ == 2u) {
        load_dy(&d, dt + dyc1, p.dct);
        dy_texel(&acc, 1u, &x, &d);
      }
    }
  }
  // constant indices only: a dynamically indexed array would live in memory, gathered per lane
  if (oq < p.o4g) { put_all(p, &acc, 0u, oq * 4u, k0 * 4u, put_tap, grp, split); }
  if (OQ == 2u && oq + 1u < p.o4g) { put_all(p, &acc, 1u, oq * 4u + 4u, k0 * 4u, put_tap, grp, split); }
}
