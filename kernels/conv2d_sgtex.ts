// conv2d version 7 (shaders/conv2d_sgtex*.wgsl): v3's padded NHWC texel grids, the weights in
// a texture shared across each 8-lane subgroup, one dispatch per convolution whatever its size.
// For CPU adapters with 8-wide subgroups (lavapipe); see docs/kernels/conv2d.md.
import { gpu, packParams, type AdapterDescription, type Binding, type GridTexture } from '../src/gpu/index.ts';
import { bufferRegion, grid1d, launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { blockFill, cig, cog, reduceSplits, type ChunkIO } from './conv2d_common.ts';
import { chunkBytesLimit, vec4Aligned } from './chunking.ts';
import { bwdGrid, fwdGrid, gridTexels, maxGridTexels, type GridSpec } from './conv2d_tex.ts';

const WG = 64;
const TW = 4096;  // texture width in texels, as the grids of conv2d_tex.ts
const CO = 32;    // output channels per workgroup (fixed by the WGSL)
const LANES = 8;  // subgroup width the weight sharing is written for

/** Texels of the weight texture: per block of 32 written channels, tap and texel of read channels, 32. */
const weightTexels = (g: Conv2dGeometry, a: number, b: number): number => g.groups * Math.ceil(b / CO) * g.kh * g.kw * Math.ceil(a / 4) * CO;

const texelsPerSample = (g: Conv2dGeometry): number =>
  Math.max(gridTexels(1, fwdGrid(g), g.groups), gridTexels(1, bwdGrid(g), g.groups), gridTexels(1, dyGrid8(g), g.groups));

/**
 * v7 is written for subgroups of exactly 8 lanes (lavapipe on AVX2 and wider), and reads its
 * textures as read-only storage textures: lavapipe loads such a texel in about 50 instructions
 * (a masked row load per lane and a transpose) against about 170 for a sampled texture's
 * textureLoad, which had been most of the inner loop (v7's forward 1.1-1.5x faster).
 */
export function sgTexAdapter(adapter: AdapterDescription): boolean {
  return adapter.features.has('subgroups') && adapter.subgroupMinSize === LANES && adapter.subgroupMaxSize === LANES
    && adapter.wgslFeatures.has('readonly_and_readwrite_storage_textures');
}

export function sgTexSupported(g: Conv2dGeometry, adapter: AdapterDescription): boolean {
  if (!sgTexAdapter(adapter)) return false;
  const max = maxStagedTexels();
  return texelsPerSample(g) <= max && weightTexels(g, cig(g), cog(g)) <= max && weightTexels(g, cog(g), cig(g)) <= max;
}

/** Samples per chunk: each of its grids fits one texture. */
export function sgTexMaxSamples(g: Conv2dGeometry): number {
  return Math.max(1, Math.floor(maxStagedTexels() / texelsPerSample(g)));
}

type U32s = (readonly ['u32' | 'i32', number])[];

/** The 16 words of a grid job (the GridJob struct of conv2d_sgtex_pack.wgsl). */
function gridJob(src: ChunkIO, n: number, s: GridSpec, groups: number): { words: U32s; rows: number; texels: number } {
  const cg = s.c / groups, c4g = Math.ceil(cg / 4), texels = gridTexels(n, s, groups);
  return { rows: texels / s.wp, texels, words: [
    ['u32', n], ['u32', s.c], ['u32', s.h], ['u32', s.w], ['u32', s.hp], ['u32', s.wp], ['u32', cg], ['u32', c4g],
    ['u32', groups * c4g], ['i32', s.offh], ['i32', s.offw], ['u32', s.uh], ['u32', s.uw], ['u32', src.base], ['u32', texels / s.wp], ['u32', 0],
  ] };
}

export function acquireTexels(texels: number, label: string): GridTexture {
  const rows = Math.max(1, Math.ceil(texels / TW)), max = gpu().limits.maxTextureDimension2D;
  if (rows > max) throw new Error(`${label}: ${texels} texels exceed a ${TW}x${max} texture`);
  return gpu().scratch.acquireTexture(TW, rows, label);
}

/**
 * The packing kernels write texels to a storage buffer and the texture is filled by a copy:
 * on lavapipe a texel store is 4x a buffer store (a 25 MB grid: 102 ms stored to the texture,
 * 20 ms to a buffer plus 7 for the copy), and packing was 17% of a ResNeSt-50 step.
 */
export interface Staged { buffer: GPUBuffer; rows: number }
export const stage = (texels: number, label: string): Staged => {
  const rows = Math.max(1, Math.ceil(texels / TW));
  return { buffer: gpu().pool.acquire(rows * TW * 16, `${label} staging`), rows };
};
export function unstage(s: Staged, into: GridTexture): void {
  gpu().recorder.copyToTexture(s.buffer, into.texture, TW, s.rows, TW * 16);
  gpu().pool.release(s.buffer);
}

/** `texels` texels of a buffer from a 16-byte aligned offset into a texture: whole rows, then the rest of a row. */
function copyTexels(buffer: GPUBuffer, offset: number, texels: number, into: GridTexture): void {
  const rows = Math.floor(texels / TW), rest = texels % TW;
  if (rows > 0) gpu().recorder.copyToTexture(buffer, into.texture, TW, rows, TW * 16, offset);
  if (rest > 0) gpu().recorder.copyToTexture(buffer, into.texture, rest, 1, TW * 16, offset + rows * TW * 16, rows);
}

/** A chunk's tensor as it lies (NCHW, from a 16-byte aligned element) into a texture, `texels` texels of it. */
export const copyChunkTexels = (io: ChunkIO, texels: number, into: GridTexture): void =>
  copyTexels(io.binding.buffer, io.binding.offset + 4 * io.base, texels, into);

/** `texels` texels of a chunk's tensor as it lies, copied into a texture of their own. */
export function laidTexels(io: ChunkIO, texels: number, label: string): GridTexture {
  const tex = acquireTexels(texels, label);
  copyChunkTexels(io, texels, tex);
  return tex;
}

/** A 1x1's weight matrix w[Co, C] as it lies, copied into a texture of C/4 texels a row (weightsAsLaid). */
function laidWeightTexture(g: Conv2dGeometry, w: Binding, label: string): GridTexture {
  const texels = g.co * g.c / 4, r = bufferRegion(w), wtex = acquireTexels(texels, `${label} weight texels`);
  copyTexels(r.buffer, r.offset, texels, wtex);
  return wtex;
}

/**
 * Weight matrices from this size up are transposed for dX (conv2d_weight_transpose.wgsl) rather
 * than read as they lie: dX reads 4 rows of 8 texels a step, each row a page or more apart (a
 * 2048 x 1024 matrix spans 8 MB), and its GEMM ran 1.15-1.4x slower than on a transposed
 * layout at layer4's 1x1s on 7 x 7 (2 MB matrices: no difference).
 */
const TRANSPOSE_BYTES = 4 * 2 ** 20;

/** A 1x1's weights for the kernel's fetches: as they lie, or for a large dX transposed (wT[C, Co], Co/4 texels a row). */
function laidWeights(g: Conv2dGeometry, w: Binding, transposed: boolean, label: string): { wtex: GridTexture; reads: WeightReads } {
  const laid = laidWeightTexture(g, w, label);
  if (!transposed || 4 * g.co * g.c < TRANSPOSE_BYTES) return { wtex: laid, reads: laidReads(g.c / 4, transposed) };
  const texels = g.co * g.c / 4, blocks = texels / 4, staged = stage(texels, `${label} transposed weights`);
  launch({ shader: 'conv2d_weight_transpose', entry: 'conv2d_weight_transpose_v7', bindings: ['storage-texture-read', 'write', 'uniform'], constants: { WG } },
    [laid.binding, staged.buffer], packParams([['u32', g.c / 4], ['u32', g.co / 4], ['u32', blocks], ['u32', 0]]),
    grid1d(blocks, WG), `${label} weight transpose`);
  gpu().scratch.releaseTexture(laid);
  const wtex = acquireTexels(texels, `${label} transposed weights`);
  unstage(staged, wtex);
  return { wtex, reads: laidReads(g.co / 4, false) }; // wT[C, Co]: its rows are the channels dX writes
}

/**
 * Where a pass reads a 1x1's weight matrix w[Co, C] as it lies, copied into a texture, instead
 * of packing it (the weights' pack had been most of a pass's packing at 64 x 64): one group, the
 * channels reduced over and the rows in whole texels, w 16-byte aligned (kernels/conv2d_sgtex.wgsl).
 */
function weightsAsLaid(g: Conv2dGeometry, transposed: boolean, w: Binding): boolean {
  return g.kh === 1 && g.kw === 1 && g.groups === 1 && g.c % 4 === 0 && (!transposed || g.co % 4 === 0)
    && bufferRegion(w).offset % 16 === 0;
}

/** The weight fetches of conv2d_sgtex.wgsl: packed blocks, or a 1x1's matrix as it lies (rows: the forward's, transposed in registers). */
export interface WeightReads { wb: number; wl: number; ws: number; wc: number; rows: boolean }
const packedReads = (j: { kh: number; kw: number; kc: number }): WeightReads => ({ wb: j.kh * j.kw * j.kc * CO, wl: 1, ws: LANES, wc: CO, rows: false });
/** A matrix as it lies, kr texels a row: its rows are the channels written (forward) or read (transposed, dX). */
function laidReads(kr: number, transposed: boolean): WeightReads {
  return transposed ? { wb: LANES, wl: 1, ws: kr, wc: 4 * kr, rows: false } : { wb: CO * kr, wl: 4 * kr, ws: kr, wc: 1, rows: true };
}

/** Texels a grid or weight block may have: one texture, staged through one storage binding. */
export const maxStagedTexels = (): number =>
  Math.min(maxGridTexels(), Math.floor(gpu().limits.maxStorageBufferBindingSize / (16 * TW)) * TW);

/** One dispatch: the activation grid, and the weights as the texel blocks of conv2d_sgtex.wgsl. */
function packGridAndWeights(src: ChunkIO, n: number, s: GridSpec, w: Binding, g: Conv2dGeometry, transposed: boolean,
  label: string): { grid: GridTexture; wtex: GridTexture; reads: WeightReads | null } {
  const [a, b] = transposed ? [cog(g), cig(g)] : [cig(g), cog(g)];
  const laid = weightsAsLaid(g, transposed, w);
  const job = gridJob(src, n, s, g.groups), wTexels = laid ? 0 : weightTexels(g, a, b);
  const grid = acquireTexels(job.texels, `${label} grid`);
  const gridStaged = stage(job.texels, `${label} grid`), wStaged = laid ? null : stage(wTexels, `${label} weight texels`);
  const weightWords: U32s = [
    ['u32', transposed ? 1 : 0], ['u32', cig(g)], ['u32', cog(g)], ['u32', g.kh * g.kw],
    ['u32', Math.ceil(b / CO)], ['u32', Math.ceil(a / 4)], ['u32', a], ['u32', b],
    ['u32', wTexels], ['u32', 0], ['u32', 0], ['u32', 0], ['u32', 0], ['u32', 0], ['u32', 0], ['u32', 0],
  ];
  launch({ shader: 'conv2d_sgtex_pack', entry: 'conv2d_pack_grid_weight_v7', bindings: ['read', 'read', 'write', 'write', 'uniform'], constants: { WG } },
    [src.binding, w, gridStaged.buffer, wStaged?.buffer ?? unusedOutput()], packParams([...job.words, ...weightWords]),
    grid1d(job.rows + wTexels / CO, WG), `${label} pack`);
  unstage(gridStaged, grid);
  if (!wStaged) return { grid, ...laidWeights(g, w, transposed, label) };
  const wtex = acquireTexels(wTexels, `${label} weight texels`);
  unstage(wStaged, wtex);
  return { grid, wtex, reads: null };
}

/** One dispatch: two activation grids (x and dY for dW). */
function packTwoGrids(x: ChunkIO, xs: GridSpec, dy: ChunkIO, ys: GridSpec, g: Conv2dGeometry, label: string): [GridTexture, GridTexture] {
  const jx = gridJob(x, g.n, xs, g.groups), jy = gridJob(dy, g.n, ys, g.groups);
  const xgrid = acquireTexels(jx.texels, `${label} x grid`), ygrid = acquireTexels(jy.texels, `${label} dy grid`);
  const xStaged = stage(jx.texels, `${label} x grid`), yStaged = stage(jy.texels, `${label} dy grid`);
  launch({ shader: 'conv2d_sgtex_pack', entry: 'conv2d_pack_grids_v7', bindings: ['read', 'read', 'write', 'write', 'uniform'], constants: { WG } },
    [x.binding, dy.binding, xStaged.buffer, yStaged.buffer], packParams([...jx.words, ...jy.words]),
    grid1d(jx.rows + jy.rows, WG), `${label} pack`);
  unstage(xStaged, xgrid);
  unstage(yStaged, ygrid);
  return [xgrid, ygrid];
}

/** The bias binding when there is none (never read: HAS_BIAS is off). */
export const noBias = (): GPUBuffer => gpu().state('conv2d v7 no bias', () => gpu().pool.acquire(16, 'conv2d v7 no bias'));

/** A pack's output binding that no invocation of the dispatch writes (an operand copied, not laid out). */
export const unusedOutput = (): GPUBuffer => gpu().state('conv2d unused output', () => gpu().pool.acquire(16, 'conv2d unused output'));

interface SgRun { oh: number; ow: number; sh: number; sw: number; dstC: number; a: number; b: number; bias: Binding | null }

/**
 * The SgConv block of conv2d_sgtex.wgsl: m output pixels, each at grid texel
 * ((n*hp + i*sh)*wp + j*sw)*ct (+ grp*c4g, + the tap's offset) for (n, i, j) of an oh x ow
 * plane; kc texels of 4 read channels a tap; ncbg blocks of 32 written channels, ncb a group.
 */
export interface SgConvJob {
  m: number; oh: number; ow: number; ncbg: number; hp: number; wp: number; ct: number; ncb: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; c4g: number; kc: number;
  cog: number; dstC: number;
  /** How the weight texture is read where not as packed blocks. */
  weights?: WeightReads;
  /** The grid is an NCHW tensor as it lies (X_ROWS in conv2d_sgtex.wgsl: wp = texels a plane, ct = texels a sample). */
  xRows?: boolean;
}

/** The whole implicit GEMM in one dispatch: a workgroup per (up to 512 output pixels, block of 32 channels). */
export function launchSgConv(j: SgConvJob, grid: GridTexture, wtex: GridTexture, bias: Binding | null, y: { binding: Binding; base: number },
  label: string): void {
  const wg = sgConvWorkgroup(j.m), px = sgConvPixels(j.m);
  // whole vec4 stores where every run of 4 output pixels is 4-aligned within one plane
  const vec4 = (j.oh * j.ow) % 4 === 0 && y.base % 4 === 0;
  const workgroups = Math.ceil(j.m / (wg * px)) * j.ncbg;
  const wr = j.weights ?? packedReads(j);
  launch({ shader: 'conv2d_sgtex', entry: vec4 ? 'conv2d_v7_vec4' : 'conv2d_v7', bindings: ['storage-texture-read', 'storage-texture-read', 'read', 'write', 'uniform'],
    constants: { WG: wg, HAS_BIAS: bias ? 1 : 0, PX: px, W_ROWS: wr.rows ? 1 : 0, X_ROWS: j.xRows ? 1 : 0 } },
    [grid.binding, wtex.binding, bias ?? noBias(), y.binding], packParams([
      ['u32', j.m], ['u32', j.oh], ['u32', j.ow], ['u32', j.ncbg],
      ['u32', j.hp], ['u32', j.wp], ['u32', j.ct], ['u32', j.ncb],
      ['u32', j.kh], ['u32', j.kw], ['u32', j.sh], ['u32', j.sw],
      ['u32', j.dh], ['u32', j.dw], ['u32', j.c4g], ['u32', j.kc],
      ['u32', j.cog], ['u32', j.dstC], ['u32', y.base], ['u32', wr.ws],
      ['u32', wr.wb], ['u32', wr.wl], ['u32', wr.wc], ['u32', 0],
    ]), grid1d(workgroups * wg, wg), label);
}

function runSgConv(g: Conv2dGeometry, grid: GridTexture, spec: GridSpec, wtex: GridTexture, reads: WeightReads | null, r: SgRun, y: ChunkIO,
  label: string): void {
  const ncb = Math.ceil(r.b / CO), c4g = Math.ceil(r.a / 4);
  launchSgConv({ m: g.n * r.oh * r.ow, oh: r.oh, ow: r.ow, ncbg: g.groups * ncb, hp: spec.hp, wp: spec.wp, ct: g.groups * c4g, ncb,
    kh: g.kh, kw: g.kw, sh: r.sh, sw: r.sw, dh: g.dh, dw: g.dw, c4g, kc: c4g, cog: r.b, dstC: r.dstC, weights: reads ?? undefined },
  grid, wtex, r.bias, y, label);
}

/**
 * Invocations per workgroup of the forward / dX kernel: 64, or one subgroup where the output
 * pixels are so few (under 2048) that a last block of 256-512 would be mostly padding.
 */
const sgConvWorkgroup = (pixels: number): number => (pixels >= 8 * WG * 4 ? WG : LANES);

/**
 * Output pixels per invocation: 8 (4 weight fetches per 8 pixels' 4 activation fetches; 5-15%
 * faster than 4 at ResNeSt-50's shapes, 7 x 7 maps included), or 4 where blocks of 8 would be
 * more than a quarter padding (2 x 2 maps at 64 x 64 input).
 */
const sgConvPixels = (pixels: number): number => (blockFill(pixels, 8 * sgConvWorkgroup(pixels)) >= 0.75 ? 8 : 4);

/** The blocks v7 pads to: output pixels per workgroup and channels written per block (forward, dX). */
export const sgConvBlocks = (pixels: number): { pixels: number; channels: number } =>
  ({ pixels: sgConvPixels(pixels) * sgConvWorkgroup(pixels), channels: CO });

/**
 * A stride-1, unpadded 1x1 of one group whose operands are all read as they lie: the activations
 * (NCHW planes of whole texels, channels reduced over in whole texels) and the weight matrix,
 * both copied into textures; no packing dispatch at all (kernels/conv2d_sgtex.wgsl, X_ROWS).
 */
function allAsLaid(g: Conv2dGeometry, src: ChunkIO, transposed: boolean, w: Binding): boolean {
  return g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && (g.h * g.w) % 4 === 0
    && weightsAsLaid(g, transposed, w) && vec4Aligned(src);
}

/** y = the pointwise GEMM of act (NCHW, `a` channels read) with the weights as they lie, writing `b` channels. */
function runAsLaid(g: Conv2dGeometry, act: ChunkIO, a: number, b: number, w: Binding, transposed: boolean, bias: Binding | null,
  y: ChunkIO, label: string): void {
  const pt = (g.h * g.w) / 4, texels = g.n * a * pt;
  const grid = laidTexels(act, texels, `${label} activation texels`), { wtex, reads } = laidWeights(g, w, transposed, label);
  const ncb = Math.ceil(b / CO), kc = a / 4;
  launchSgConv({ m: g.n * g.h * g.w, oh: g.h, ow: g.w, ncbg: ncb, hp: 1, wp: pt, ct: a * pt, ncb, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1,
    c4g: 0, kc, cog: b, dstC: b, weights: reads, xRows: true }, grid, wtex, bias, y, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
}

export function fwdSgTex(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  if (allAsLaid(g, x, false, w)) return runAsLaid(g, x, g.c, g.co, w, false, bias, y, label);
  const spec = fwdGrid(g);
  const { grid, wtex, reads } = packGridAndWeights(x, g.n, spec, w, g, false, label);
  runSgConv(g, grid, spec, wtex, reads, { oh: g.ho, ow: g.wo, sh: g.sh, sw: g.sw, dstC: g.co, a: cig(g), b: cog(g), bias }, y, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
}

/** dX as the stride-1 convolution of the zero-inserted, padded dY with the transposed, flipped weights. */
export function bwdInputSgTex(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  if (allAsLaid(g, dy, true, w)) return runAsLaid(g, dy, g.co, g.c, w, true, null, dx, label);
  const spec = bwdGrid(g);
  const { grid, wtex, reads } = packGridAndWeights(dy, g.n, spec, w, g, true, label);
  runSgConv(g, grid, spec, wtex, reads, { oh: g.h, ow: g.w, sh: 1, sw: 1, dstC: g.c, a: cog(g), b: cig(g), bias: null }, dx, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
}

/** Workgroups (one subgroup each) the weight gradient wants before it splits its rows into partial sums. */
const DW_MIN_WORKGROUPS = 64;
/** Pixels one float32 sum runs over before it joins the partial sums of the other row ranges. */
const DW_CHAIN_PIXELS = 512;

/** x's grid as the forward's; dY's unpadded but with rows of whole multiples of 8 pixels (zeros past the end). */
const dyGrid8 = (g: Conv2dGeometry): GridSpec => ({ c: g.co, h: g.ho, w: g.wo, offh: 0, offw: 0, uh: 1, uw: 1, hp: g.ho, wp: Math.ceil(g.wo / 8) * 8 });

/**
 * dW's blocks: x texels (XT: 8 = 32 input channels where a group has more than 16, else 4) and
 * dY texels per lane (OQ: 2 = 64 output channels a block where a group has 64, else 1). Wider
 * blocks fetch less per FMA: 5.4 instructions per FMA at XT = 8, OQ = 2 against 6.2 at OQ = 1
 * (GALLIVM_DEBUG=asm of layer2.0.conv1's, the texel fetch calls counted). A group of one texel
 * (at most 4 input channels) with several taps takes XT of its taps a block instead (tapBlock):
 * the stem's 3 channels filled 3 of a block's 16, and its dW kernel ran 1.8x slower.
 */
export function dwBlocks(g: Conv2dGeometry): { xt: number; oq: number; tapBlock: boolean } {
  const oq = cog(g) >= 64 ? 2 : 1, taps = g.kh * g.kw;
  // groups of one texel (the stem's 3 channels): the block's texels are that texel at XT taps
  if (cig(g) <= 4 && taps > 1) return { xt: taps > 4 ? 8 : 4, oq, tapBlock: true };
  return { xt: cig(g) > 16 ? 8 : 4, oq, tapBlock: false };
}

/** dW in one dispatch where the blocks alone give DW_MIN_WORKGROUPS, else over ranges of rows plus their sum. */
export function bwdWeightSgTex(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const xs = fwdGrid(g), ys = dyGrid8(g);
  const c4g = Math.ceil(cig(g) / 4), o4g = Math.ceil(cog(g) / 4), taps = g.kh * g.kw;
  const { xt, oq, tapBlock } = dwBlocks(g), ncb = Math.ceil(o4g / (8 * oq));
  const nkb = tapBlock ? Math.ceil(taps / xt) : Math.ceil(c4g / xt);
  const [xgrid, ygrid] = packTwoGrids(x, xs, dy, ys, g, label);
  const rows = g.n * g.ho, base = g.groups * ncb * nkb * (tapBlock ? 1 : taps);
  const wsize = g.co * cig(g) * taps;
  // ranges of at most DW_CHAIN_PIXELS, but never more partial sums than one binding holds (longer
  // chains instead: 13 instead of 43 ranges for layer3's 3x3 at 320 x 320, batch 32)
  const fit = Math.max(1, Math.floor(chunkBytesLimit() / (4 * wsize)));
  const splits = Math.min(rows, fit, Math.max(Math.ceil(DW_MIN_WORKGROUPS / base), Math.ceil(rows * ys.wp / DW_CHAIN_PIXELS)));
  const rowsPerSplit = Math.ceil(rows / splits);
  const used = Math.ceil(rows / rowsPerSplit);
  const partial = used > 1 ? gpu().pool.acquire(used * wsize * 4, 'conv2d dw partials') : null;
  launch({ shader: 'conv2d_sgtex_dw', entry: 'conv2d_bwd_weight_v7', bindings: ['storage-texture-read', 'storage-texture-read', 'write', 'uniform'], constants: { WG: LANES, XT: xt, OQ: oq, TAP_BLOCK: tapBlock ? 1 : 0 } },
    [xgrid.binding, ygrid.binding, partial ?? dw], packParams([
      ['u32', rows], ['u32', g.ho], ['u32', g.wo], ['u32', ys.wp],
      ['u32', rowsPerSplit], ['u32', xs.hp], ['u32', xs.wp], ['u32', g.groups * c4g],
      ['u32', g.groups * o4g], ['u32', g.kw], ['u32', g.sh], ['u32', g.sw],
      ['u32', g.dh], ['u32', g.dw], ['u32', c4g], ['u32', o4g],
      ['u32', cig(g)], ['u32', cog(g)], ['u32', ncb], ['u32', nkb],
      ['u32', taps], ['u32', g.groups], ['u32', !partial && accumulate ? 1 : 0], ['u32', wsize],
    ]), grid1d(base * used * LANES, LANES), label);
  gpu().scratch.releaseTexture(xgrid);
  gpu().scratch.releaseTexture(ygrid);
  if (partial) {
    reduceSplits(partial, used, wsize, dw, accumulate, label);
    gpu().pool.release(partial);
  }
}
