// conv2d version 8: v7, except that the weight gradient of a pointwise convolution (1x1,
// stride 1, no padding, one group: every 1x1 of ResNeSt-50's bottlenecks) runs on v7's forward
// kernel as a GEMM whose reduction is the pixels (shaders/conv2d_pixels_pack.wgsl): v7's own
// dW kernel broadcasts activations across the subgroup and runs at about half its forward's rate.
import { gpu, packParams, type AdapterDescription, type Binding, type GridTexture } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, cog, reduceSplits, type ChunkIO } from './conv2d_common.ts';
import { chunkBytesLimit, vec4Aligned } from './chunking.ts';
import { acquireTexels, copyChunkTexels, launchSgConv, maxStagedTexels, sgTexMaxSamples, sgTexSupported, stage, unstage, unusedOutput } from './conv2d_sgtex.ts';

const WG = 64;
const CO = 32; // output channels per block of v7's forward kernel

export const pointwise = (g: Conv2dGeometry): boolean =>
  g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && g.groups === 1;

/** Texels a plane of pixels takes, padded to whole texels of 4. */
const planeTexels = (g: Conv2dGeometry): number => Math.ceil((g.h * g.w) / 4);

/** The larger of the two laid-out operands per sample: x (cig rows) or dY (whole blocks of 32 channels). */
const texelsPerSample = (g: Conv2dGeometry): number => Math.max(cig(g), Math.ceil(cog(g) / CO) * CO) * planeTexels(g);

export function pixelsSupported(g: Conv2dGeometry, adapter: AdapterDescription): boolean {
  if (!sgTexSupported(g, adapter)) return false;
  if (pointwise(g)) return texelsPerSample(g) <= maxStagedTexels();
  return stride1Taps(g) && 2 * tapsTexelsPerSample(g) <= maxStagedTexels();
}

/**
 * Samples per chunk: v7's for its passes; for the weight gradient both operands within one
 * texture each (room left for the last range's rounding up) and a partial sum per sample within one binding.
 */
export function pixelsMaxSamples(g: Conv2dGeometry, op: string): number {
  const v7 = sgTexMaxSamples(g);
  if (op !== 'bwd_weight') return v7;
  if (!pointwise(g)) return Math.max(1, Math.min(v7, Math.floor(maxStagedTexels() / tapsTexelsPerSample(g)) - 1));
  const partials = Math.floor(chunkBytesLimit() / (4 * cog(g) * cig(g)));
  return Math.max(1, Math.min(v7, Math.floor(maxStagedTexels() / texelsPerSample(g)) - 1, partials));
}

/** Reduction texels a range of pixels runs over where ranges are not planes: 512 pixels, as v7's own weight gradient. */
const RANGE_TEXELS = 128;
/** Planes of at least this many texels are ranges of their own, and x is copied rather than laid out. */
const PLANE_RANGE_TEXELS = 128;

/**
 * The ranges the pixels are cut into: each sample's plane where planes are large and whole
 * texels (x's NCHW buffer is then the grid: measured 1.15-1.4x v7 at 28 x 28 and 56 x 56),
 * else ranges of RANGE_TEXELS across the batch (at 7 x 7, planes as ranges would store a
 * weight-sized slice per 13 texels of work: 2x slower than ranges of 128).
 */
function ranges(g: Conv2dGeometry, x: ChunkIO): { ks: number; splits: number; copyX: boolean } {
  const pt = planeTexels(g), kt = g.n * pt;
  if ((g.h * g.w) % 4 === 0 && pt >= PLANE_RANGE_TEXELS && vec4Aligned(x)) return { ks: pt, splits: g.n, copyX: true };
  // never more partial sums than one binding holds (longer chains instead)
  const fit = Math.max(1, Math.floor(chunkBytesLimit() / (4 * cog(g) * cig(g))));
  const splits = Math.min(fit, Math.ceil(kt / RANGE_TEXELS));
  return { ks: Math.ceil(kt / splits), splits, copyX: false };
}

/**
 * Where v8's weight gradient is the default (kernels/conv2d.ts; tuning measures it everywhere it
 * runs): every pointwise convolution (1.25-2.1x v7's at ResNeSt-50's 1x1s), and stride-1
 * convolutions with taps on planes of 144 to 400 pixels. Against v7's dW, alternating
 * processes, 224/8: 1.5x at 14 x 14 (layer3's 3x3), but 0.8-1x at 7 x 7, where rows of 2
 * texels and 2 zero rows an image leave 68% of the work real, and 0.5-0.8x at 28 x 28 and
 * larger, where v7's own dW runs near its forward's rate and the KW shifted copies of x cost
 * a pass over 3x the activations.
 */
export function v8Preferred(g: Conv2dGeometry): boolean {
  const plane = g.ho * g.wo;
  return pointwise(g) || (stride1Taps(g) && plane >= 144 && plane <= 400);
}

/** v8's weight gradient: pointwise, or stride 1 with taps. */
export function bwdWeightV8(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  if (pointwise(g)) bwdWeightPixels(g, x, dy, dw, accumulate, label);
  else bwdWeightTaps(g, x, dy, dw, accumulate, label);
}

/** dw (+)= sum over the chunk's pixels of dY^T x: one range of outputs per range of pixels, added by a second dispatch. */
export function bwdWeightPixels(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const c = cig(g), co = cog(g), pt = planeTexels(g), ncb = Math.ceil(co / CO), wsize = co * c;
  const { ks, splits, copyX } = ranges(g, x), kt = splits * ks;
  const xTexels = c * kt, wTexels = ncb * CO * kt;
  // where planes are the ranges, dY too is read as it lies when its channels fill whole blocks:
  // texel (n*Co + o)*PT + t, 4 channels' texels transposed per lane (W_ROWS), no packing at all
  const dyLaid = copyX && co % CO === 0 && vec4Aligned(dy);
  const grid = acquireTexels(xTexels, `${label} x grid`), wtex = acquireTexels(wTexels, `${label} dy texels`);
  if (dyLaid) {
    copyChunkTexels(x, xTexels, grid);
    copyChunkTexels(dy, wTexels, wtex);
  } else {
    packPixels(g, x, dy, grid, wtex, { ks, splits, copyX }, label);
  }
  const direct = splits === 1 && !accumulate;
  const partial = direct ? null : gpu().pool.acquire(splits * wsize * 4, 'conv2d dw partials');
  // output pixel m = input channel c at grid texel c*(the grid's row: KT, or PT for planes);
  // range s is group s (grid offset s*KS, or s*C*PT for planes; outputs s*Co + o):
  // out[(s*Co + o)*Cig + c], range s's dW
  launchSgConv({ m: c, oh: 1, ow: c, ncbg: splits * ncb, hp: 1, wp: 1, ct: 1, ncb,
    kh: 1, kw: 1, sh: 1, sw: copyX ? pt : kt, dh: 1, dw: 1, c4g: copyX ? c * pt : ks, kc: ks, cog: co, dstC: splits * co,
    weights: dyLaid ? { wb: CO * pt, wl: 4 * pt, ws: pt, wc: 1, rows: true } : undefined },
  grid, wtex, null, { binding: partial ?? dw, base: 0 }, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
  if (partial) {
    reduceSplits(partial, splits, wsize, dw, accumulate, label);
    gpu().pool.release(partial);
  }
}

/** One dispatch laying out dY as v7's weight blocks (and x as its grid where x is not copied). */
function packPixels(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, grid: GridTexture, wtex: GridTexture,
  { ks, splits, copyX }: { ks: number; splits: number; copyX: boolean }, label: string): void {
  const c = cig(g), co = cog(g), plane = g.h * g.w, pt = planeTexels(g), ncb = Math.ceil(co / CO), kt = splits * ks;
  const xTexels = c * kt, wTexels = ncb * CO * kt;
  const vec4 = plane % 4 === 0 && vec4Aligned(dy);
  const gridStaged = copyX ? null : stage(xTexels, `${label} x grid`), wStaged = stage(wTexels, `${label} dy texels`);
  const dyThreads = wTexels / 4;
  launch({ shader: 'conv2d_pixels_pack', entry: vec4 ? 'conv2d_pack_pixels_vec4_v8' : 'conv2d_pack_pixels_v8', bindings: ['read', 'read', 'write', 'write', 'uniform'],
    constants: { WG, PT: pt, KS: ks, SPLITS: splits, NCB: ncb } },
    [x.binding, dy.binding, gridStaged?.buffer ?? unusedOutput(), wStaged.buffer], packParams([
      ['u32', g.n], ['u32', c], ['u32', co], ['u32', plane],
      ['u32', x.base], ['u32', dy.base], ['u32', copyX ? 0 : xTexels], ['u32', dyThreads],
    ]), grid1d((copyX ? 0 : xTexels) + dyThreads, WG), `${label} pack`);
  if (gridStaged) unstage(gridStaged, grid); else copyChunkTexels(x, xTexels, grid);
  unstage(wStaged, wtex);
}

/** v8's other weight gradients: stride 1 with taps (shaders/conv2d_taps_pack.wgsl). */
export const stride1Taps = (g: Conv2dGeometry): boolean => g.sh === 1 && g.sw === 1 && !pointwise(g);

/** The reduction's rows: WQ texels of 4 output pixels, HR rows an image (Ho real, then zeros for the taps' row offsets). */
function tapsRows(g: Conv2dGeometry): { wq: number; hr: number; halo: number } {
  const wq = Math.ceil(g.wo / 4), hr = g.ho + (g.kh - 1) * g.dh;
  return { wq, hr, halo: (g.kh - 1) * g.dh * wq };
}

/** Texels of the laid-out x (KW shifted copies) and dY per sample, the larger. */
export function tapsTexelsPerSample(g: Conv2dGeometry): number {
  const { wq, hr } = tapsRows(g);
  return hr * wq * Math.max(g.groups * cig(g) * g.kw, g.groups * Math.ceil(cog(g) / CO) * CO);
}

/**
 * dw (+)= the weight gradient of a stride-1 convolution with taps, as a GEMM on v7's forward
 * kernel: output pixel m = (input channel, tap row, tap column), the pixels as the reduction in
 * ranges of RANGE_TEXELS, (group, range) as the kernel's groups, then one dispatch adding the
 * ranges into dw's order.
 */
export function bwdWeightTaps(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const c = cig(g), co = cog(g), taps = g.kh * g.kw, ncb = Math.ceil(co / CO), wsize = g.co * c * taps;
  const { wq, hr, halo } = tapsRows(g), kt = g.n * hr * wq;
  const fit = Math.max(1, Math.floor(chunkBytesLimit() / (4 * wsize)));
  const splits = Math.min(fit, Math.ceil(kt / RANGE_TEXELS)), ks = Math.ceil(kt / splits), l = ks + halo;
  const blocks = g.groups * splits;
  const xTexels = blocks * c * g.kw * l, wTexels = blocks * ncb * CO * ks, dyThreads = wTexels / 4;
  const grid = acquireTexels(xTexels, `${label} x grid`), wtex = acquireTexels(wTexels, `${label} dy texels`);
  const gridStaged = stage(xTexels, `${label} x grid`), wStaged = stage(wTexels, `${label} dy texels`);
  launch({ shader: 'conv2d_taps_pack', entry: 'conv2d_pack_taps_v8', bindings: ['read', 'read', 'write', 'write', 'uniform'], constants: { WG } },
    [x.binding, dy.binding, gridStaged.buffer, wStaged.buffer], packParams([
      ['u32', g.n], ['u32', g.c], ['u32', g.co], ['u32', g.groups],
      ['u32', c], ['u32', co], ['u32', g.h], ['u32', g.w],
      ['u32', g.ho], ['u32', g.wo], ['u32', g.kw], ['u32', g.ph],
      ['u32', g.pw], ['u32', g.dh], ['u32', g.dw], ['u32', hr],
      ['u32', wq], ['u32', ks], ['u32', splits], ['u32', ncb],
      ['u32', l], ['u32', x.base], ['u32', dy.base], ['u32', xTexels],
      ['u32', dyThreads], ['u32', 0], ['u32', 0], ['u32', 0],
    ]), grid1d(xTexels + dyThreads, WG), `${label} pack`);
  unstage(gridStaged, grid);
  unstage(wStaged, wtex);
  const partial = gpu().pool.acquire(splits * wsize * 4, 'conv2d dw partials');
  // output pixel m = (c, a, b) of a KH x KW "plane" per input channel: grid texel (c*KW + b)*L + a*dh*WQ;
  // (group, range) G is the kernel's group: grid offset G*Cig*KW*L, outputs G*Cog + o
  launchSgConv({ m: c * taps, oh: g.kh, ow: g.kw, ncbg: blocks * ncb, hp: g.kw * l, wp: 1, ct: 1, ncb,
    kh: 1, kw: 1, sh: g.dh * wq, sw: l, dh: 1, dw: 1, c4g: c * g.kw * l, kc: ks, cog: co, dstC: blocks * co },
  grid, wtex, null, { binding: partial, base: 0 }, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
  launch({ shader: 'conv2d_taps_pack', entry: 'conv2d_sum_taps_v8', bindings: ['read', 'write', 'uniform'], constants: { WG } },
    [partial, dw], packParams([['u32', wsize], ['u32', taps], ['u32', c], ['u32', co], ['u32', splits], ['u32', blocks * co],
      ['u32', accumulate ? 1 : 0], ['u32', 0]]), grid1d(wsize, WG), `${label} (sum of ranges)`);
  gpu().pool.release(partial);
}
