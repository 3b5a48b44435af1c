// Host half of the conv2d family: version table, per-adapter version choice (autotune.ts),
// batch chunking for tensors larger than one binding, and the bias gradient.
//   v1  conv2d_direct.wgsl  direct loops, NCHW storage buffers (reference port, any adapter)
//   v2  conv2d_tiled.wgsl   implicit GEMM, workgroup-memory tiles, NCHW storage buffers (GPUs)
//   v3  conv2d_tex*.wgsl    implicit GEMM, NHWC texel grids + uniform weight slices, no barriers (lavapipe)
//   v4  matmul kernels      1x1 convolutions of 1x1 maps (split attention's fc layers) as one GEMM
//   v5  conv2d_gemm.wgsl    implicit GEMM, tile sizes as tuned parameters, one dispatch per pass (GPUs)
//   v6  conv2d_gemm_sg.wgsl v5 with a subgroupAdd weight gradient (GPUs with subgroups)
//   v7  conv2d_sgtex*.wgsl  v3's texel grids, weights shared across 8-lane subgroups, one dispatch per pass (lavapipe)
//   v8  conv2d_pixels_pack  v7, with the weight gradient of pointwise convolutions on v7's forward kernel (lavapipe)
//   v9  conv2d_winograd*    Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions, its products on v7's forward kernel (lavapipe)
//   v10 conv2d_patches.wgsl short patches (the stem's 3 x 3 x 3) laid out, the passes on v7's and v8's 1x1 kernels (lavapipe)
// Public boundary: x [N,C,H,W], w [Co,C/groups,KH,KW], y [N,Co,Ho,Wo], f32, as in PyTorch.
// Test: npm test -- conv2d. Bench: npm run bench -- --filter conv2d. Design: docs/kernels/conv2d.md
import { gpu, packParams, type AdapterDescription, type Binding, type BufferRange } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { elementwiseFill } from './elementwise.ts';
import type { TuneJob } from './autotune.ts';
import { adapterHasSubgroups, chooseVersion, parseChoice, usableChoices, type Choice, type KernelFamily, type KernelVersion } from './versions.ts';
import { cig, cog, type Conv2dGeometry } from './conv2d.ref.ts';
import { blockFill, convLabel } from './conv2d_common.ts';
import { batchChunks, samplesPerChunk, type BatchChunk, type ChunkIO } from './chunking.ts';
import { bwdInputDirect, bwdWeightDirect, fwdDirect } from './conv2d_direct.ts';
import { bwdInputTiled, bwdWeightTiled, fwdTiled } from './conv2d_tiled.ts';
import { bwdInputLinear, bwdWeightLinear, fwdLinear, linearSupported } from './conv2d_linear.ts';
import { bwdBothTex, bwdInputTex, bwdWeightTex, fwdTex, sharedDyGrid, texMaxSamples, texSupported } from './conv2d_tex.ts';
import { bwdInputSgTex, bwdWeightSgTex, dwBlocks, fwdSgTex, sgConvBlocks, sgTexAdapter, sgTexMaxSamples, sgTexSupported } from './conv2d_sgtex.ts';
import { bwdWeightV8, pixelsMaxSamples, pixelsSupported, v8Preferred } from './conv2d_pixels.ts';
import { bwdInputWinograd, bwdWeightWinograd, fwdWinograd, winogradFill, winogradMaxSamples, winogradPreferred, winogradSupported } from './conv2d_winograd.ts';
import { bwdInputPatches, bwdWeightPatches, fwdPatches, patchesMaxSamples, patchesPreferred, patchesSupported, patchGeometry } from './conv2d_patches.ts';
import { bwdInputGemm, bwdWeightGemm, bwdWeightSubgroups, fwdGemm, GEMM_TILE_PARAMS, type TileParams } from './conv2d_gemm.ts';

export * from './conv2d.ref.ts';

type Range = Required<BufferRange>;

// each pass gets the choice's tuning parameters (kernels/versions.ts) last; versions without any ignore them
export interface Conv2dVersion extends KernelVersion<Conv2dGeometry> {
  fwd(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string, params?: TileParams): void;
  /** dx = (accumulate ? dx : 0) + dX; accumulate only where bwdInputAdds */
  bwdInput(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string, params?: TileParams, accumulate?: boolean): void;
  /**
   * bwdInput can add dX into what dx holds (the tape then sums a tensor's gradients without an
   * add pass): the GPU versions, whose store reads the destination coalesced. Not v7-v9: on
   * lavapipe a read before every store of v7's dX took longer than the add pass it saves
   * (layer1's 256-channel dX: 19-21 -> 30-31 ms, against an add of 7-8 ms).
   */
  bwdInputAdds?: boolean;
  /** dw = (accumulate ? dw : 0) + this chunk's contribution */
  bwdWeight(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string, params?: TileParams): void;
  /** a cap on the samples of one chunk of pass `op` beyond the binding limit (texture sizes, partial sums) */
  maxSamples?(g: Conv2dGeometry, op: Conv2dOp): number;
  /** dX and dW together, sharing work, where canFuseBackward(g) holds */
  bwdBoth?(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, w: Binding, dx: ChunkIO, dw: Binding, accumulate: boolean, label: string): void;
  canFuseBackward?(g: Conv2dGeometry): boolean;
}

export const versions: Record<string, Conv2dVersion> = {
  v1: { about: 'direct loops over NCHW storage buffers, one output per invocation', supports: () => true,
    fwd: fwdDirect, bwdInput: bwdInputDirect, bwdWeight: bwdWeightDirect },
  v2: { about: 'implicit GEMM, 64x64x16 workgroup-memory tiles over NCHW storage buffers (GPUs)', supports: () => true,
    fwd: fwdTiled, bwdInput: bwdInputTiled, bwdWeight: bwdWeightTiled, bwdInputAdds: true },
  v3: { about: 'implicit GEMM, NHWC texel grids + uniform weight slices, no barriers (lavapipe)',
    fwd: fwdTex, bwdInput: bwdInputTex, bwdWeight: (g, x, dy, dw, acc, label) => bwdWeightTex(g, x, dy, dw, acc, label), supports: texSupported, maxSamples: texMaxSamples,
    bwdBoth: bwdBothTex, canFuseBackward: sharedDyGrid },
  v4: { about: '1x1 convolution of 1x1 maps as one GEMM on the matmul kernels (attention fc layers)',
    fwd: fwdLinear, bwdInput: bwdInputLinear, bwdWeight: bwdWeightLinear, supports: linearSupported },
  // GPU-shaped: automatic (default, tuned) on GPUs only, since CPU adapters' barriers make
  // workgroup tiles slow; forcing still runs them anywhere, as their tests do
  v5: { about: 'implicit GEMM, BM x BN x BK workgroup tiles (tuned parameters), one dispatch per pass (GPUs)', supports: () => true,
    automatic: (_g, adapter) => !adapter.software, params: GEMM_TILE_PARAMS,
    fwd: fwdGemm, bwdInput: bwdInputGemm, bwdWeight: bwdWeightGemm, bwdInputAdds: true },
  v6: { about: 'v5 with the weight gradient reduced by subgroupAdd (GPUs with subgroups)',
    needs: adapterHasSubgroups, supports: (_g, adapter) => adapterHasSubgroups(adapter), automatic: (_g, adapter) => !adapter.software,
    fwd: fwdGemm, bwdInput: bwdInputGemm, bwdWeight: bwdWeightSubgroups, bwdInputAdds: true },
  v7: { about: 'implicit GEMM, NHWC texel grids, weights shared across 8-lane subgroups, one dispatch per pass (lavapipe)',
    needs: sgTexAdapter, supports: sgTexSupported, automatic: (_g, adapter) => adapter.software,
    fwd: fwdSgTex, bwdInput: bwdInputSgTex, bwdWeight: bwdWeightSgTex,
    maxSamples: sgTexMaxSamples },
  v8: { about: 'v7, with the weight gradient of pointwise convolutions as a GEMM over the pixels on v7\'s forward kernel (lavapipe)',
    needs: sgTexAdapter, supports: pixelsSupported, automatic: (_g, adapter) => adapter.software,
    fwd: fwdSgTex, bwdInput: bwdInputSgTex, bwdWeight: bwdWeightV8, maxSamples: pixelsMaxSamples },
  v9: { about: 'Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions, the 16 products as one grouped GEMM on v7\'s forward kernel (lavapipe)',
    needs: sgTexAdapter, supports: winogradSupported, automatic: (_g, adapter) => adapter.software,
    fwd: fwdWinograd, bwdInput: bwdInputWinograd, bwdWeight: bwdWeightWinograd, maxSamples: winogradMaxSamples },
  v10: { about: 'a convolution of short patches (few input channels x taps) as a pointwise one over them, on v7\'s and v8\'s 1x1 kernels (lavapipe)',
    needs: sgTexAdapter, supports: patchesSupported, automatic: (_g, adapter) => adapter.software,
    fwd: fwdPatches, bwdInput: bwdInputPatches, bwdWeight: bwdWeightPatches, maxSamples: patchesMaxSamples },
};

export type Conv2dOp = 'fwd' | 'bwd_input' | 'bwd_weight';

const REVISION = 'conv2d-11';


/** Share of a version's arithmetic that is real work, the rest being padding to its blocks. */
export function blockEfficiency(version: string, op: Conv2dOp, g: Conv2dGeometry): number {
  if (version === 'v3') { // channels in whole texels of 4 (read) and blocks of 16 (written); dW 8 x 8
    if (op === 'fwd') return blockFill(cig(g), 4) * blockFill(cog(g), 16);
    if (op === 'bwd_input') return (blockFill(cog(g), 4) * blockFill(cig(g), 16)) / (g.sh * g.sw); // zero-inserted dY
    return blockFill(cig(g), 8) * blockFill(cog(g), 8);
  }
  if (version === 'v8' && op === 'bwd_weight') { // output channels in blocks of 32, (input channel, tap) in v7's pixel blocks,
    // pixels in texels of 4: whole planes where pointwise, else rows of the output plus (KH-1)*dh zero rows
    const rows = g.kh === 1 && g.kw === 1 ? blockFill(g.h * g.w, 4) : blockFill(g.wo, 4) * (g.ho / (g.ho + (g.kh - 1) * g.dh));
    const m = cig(g) * g.kh * g.kw;
    return blockFill(cog(g), 32) * rows * blockFill(m, sgConvBlocks(m).pixels);
  }
  if (version === 'v9' && op === 'bwd_weight') { // output channels in blocks of 32, input channels in v7's pixel blocks, whole tiles
    return blockFill(cog(g), 32) * blockFill(cig(g), sgConvBlocks(cig(g)).pixels) * winogradFill(g, 'fwd').plane;
  }
  if (version === 'v9') { // v7's forward kernel on the 16 products: channels as v7's, tiles in its pixel blocks;
    // outputs in 2 x 2 tiles, each worth 9/4 of its multiplies
    const [a, b] = op === 'fwd' ? [cig(g), cog(g)] : [cog(g), cig(g)];
    const { plane, tiles } = winogradFill(g, op);
    return blockFill(a, 4) * blockFill(b, sgConvBlocks(1).channels) * blockFill(tiles, sgConvBlocks(tiles).pixels) * plane;
  }
  if (version === 'v10') return blockEfficiency(op === 'bwd_weight' ? 'v8' : 'v7', op, patchGeometry(g)); // the 1x1 over the patches
  if (version === 'v7' || version === 'v8') { // read channels in texels of 4, written in blocks (kernels/conv2d_sgtex.ts), pixels in blocks per
    // workgroup; dW: 32 or 64 output x 16 or 32 input channels, rows of whole multiples of 8 pixels
    const px = (m: number) => blockFill(m, sgConvBlocks(m).pixels), co = sgConvBlocks(1).channels;
    if (op === 'fwd') return blockFill(cig(g), 4) * blockFill(cog(g), co) * px(g.n * g.ho * g.wo);
    if (op === 'bwd_input') return (blockFill(cog(g), 4) * blockFill(cig(g), co) * px(g.n * g.h * g.w)) / (g.sh * g.sw); // zero-inserted dY
    const dw = dwBlocks(g), written = blockFill(cog(g), 32 * dw.oq) * blockFill(g.wo, 8);
    return (dw.tapBlock ? blockFill(cig(g), 4) * blockFill(g.kh * g.kw, dw.xt) : blockFill(cig(g), 4 * dw.xt)) * written;
  }
  if (version === 'v2') { // 64-wide tiles of channels
    if (op === 'fwd') return blockFill(cog(g), 64);
    if (op === 'bwd_input') return blockFill(cig(g), 64);
    return blockFill(cog(g), 64) * blockFill(cig(g) * g.kh * g.kw, 64);
  }
  return 1;
}

/**
 * The version a shape runs with before it is tuned: v4 where it applies (a GEMM of batch x
 * channels), else on CPU adapters v7 where it runs (8-wide subgroups; 1.3-3x v3 at ResNeSt-50's
 * shapes, one dispatch per pass) or v3, v2 on GPUs, unless
 * padding to their blocks leaves under 1/32 of the work real (depthwise convolutions), where
 * v1's direct loops were measured faster (4-25x on lavapipe), unless v3's smaller blocks
 * keep more than that: the stem's dX, at 1/21 on v3, is 3x faster there than on v1.
 */
function defaultChoice(op: string, g: Conv2dGeometry, adapter: AdapterDescription, usableVersions: readonly string[]): string {
  if (usableVersions.includes('v4')) return 'v4';
  // Winograd's products on v7's kernel where they were measured faster (kernels/conv2d_winograd.ts)
  if (usableVersions.includes('v9') && winogradPreferred(g, op)) return 'v9';
  // strided convolutions of short patches as pointwise ones (kernels/conv2d_patches.ts)
  if (usableVersions.includes('v10') && patchesPreferred(g, op)) return 'v10';
  // weight gradients on v7's forward kernel over the pixels where that was measured faster (kernels/conv2d_pixels.ts)
  if (op === 'bwd_weight' && usableVersions.includes('v8') && v8Preferred(g)) return 'v8';
  // v7 unless its blocks waste more than twice v3's (dW on rows of 2-4 pixels)
  const v7 = usableVersions.includes('v7') && (!usableVersions.includes('v3')
    || blockEfficiency('v7', op as Conv2dOp, g) >= blockEfficiency('v3', op as Conv2dOp, g) / 2);
  const preferred = !adapter.software ? 'v2' : v7 ? 'v7' : 'v3';
  const mostlyReal = (v: string) => usableVersions.includes(v) && blockEfficiency(v, op as Conv2dOp, g) >= 1 / 32;
  if (mostlyReal(preferred)) return preferred;
  // v7's 32-channel blocks leave the stem's dX (3 channels written, stride 2) at 1/43: v3's 16 at 1/21
  if (adapter.software && mostlyReal('v3')) return 'v3';
  return 'v1';
}

const samplesIn = (g: Conv2dGeometry): number => g.c * g.h * g.w;
const samplesOut = (g: Conv2dGeometry): number => g.co * g.ho * g.wo;

/** Samples per batch chunk (kernels/chunking.ts) of pass `op` so that every batched binding fits, within the version's cap. */
export function chunkSamples(g: Conv2dGeometry, version?: string, op: Conv2dOp = 'fwd'): number {
  const per = [samplesIn(g), samplesOut(g)];
  return samplesPerChunk(convLabel('', g, ''), g.n, per, per.map((p) => 4 * p * g.n),
    { offsets: true, maxCount: version ? versions[version].maxSamples?.(g, op) : undefined });
}

export function shapeKey(g: Conv2dGeometry): string {
  return [g.n, g.c, g.h, g.w, g.co, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.groups].join(',');
}

const paddedBytes = (n: number): number => Math.max(16, Math.ceil(n / 4) * 16);

function tuneJob(op: string, g: Conv2dGeometry): TuneJob {
  const pool = gpu().pool;
  const n = Math.min(...usableChoices(conv2dFamily, g, op).map((id) => chunkSamples(g, parseChoice(conv2dFamily, id).version, op as Conv2dOp)));
  const cg = { ...g, n };
  const xBytes = paddedBytes(n * g.c * g.h * g.w), yBytes = paddedBytes(n * g.co * g.ho * g.wo);
  const wBytes = paddedBytes(g.co * cig(g) * g.kh * g.kw);
  const bufs = [pool.acquire(xBytes, 'tune x'), pool.acquire(wBytes, 'tune w'), pool.acquire(yBytes, 'tune y')];
  const [x, w, y] = bufs.map((b, i) => ({ buffer: b, offset: 0, size: [xBytes, wBytes, yBytes][i] }));
  for (const r of [x, w, y]) elementwiseFill(r, r.size / 4, 0.5, 'conv2d tune data'); // no stale NaNs or denormals in the timing
  const io = (r: Range): ChunkIO => ({ binding: r, base: 0 });
  return {
    record: (id) => {
      const c = parseChoice(conv2dFamily, id), impl = versions[c.version], label = convLabel(`${op} tune`, cg, id);
      if (op === 'fwd') impl.fwd(cg, io(x), w, null, io(y), label, c.params);
      else if (op === 'bwd_input') impl.bwdInput(cg, io(y), w, io(x), label, c.params);
      else impl.bwdWeight(cg, io(x), io(y), w, false, label, c.params);
    },
    dispose: () => { for (const b of bufs) pool.release(b); },
  };
}

export const conv2dFamily: KernelFamily<Conv2dGeometry> = {
  name: 'conv2d', ops: ['fwd', 'bwd_input', 'bwd_weight'], versions, defaultChoice, shapeKey,
  tune: { revision: REVISION, job: tuneJob },
};

/** The choice (version and parameters) `op` runs with on this shape: requested, forced, tuned, or the adapter's default. */
export function conv2dChoice(op: Conv2dOp, g: Conv2dGeometry, requested?: string): Choice {
  return chooseVersion(conv2dFamily, op, g, requested);
}

/** The version `op` runs with on this shape (conv2dChoice's, without parameters). */
export function conv2dVersion(op: Conv2dOp, g: Conv2dGeometry, requested?: string): string {
  return conv2dChoice(op, g, requested).version;
}

function checkWeight(g: Conv2dGeometry, w: Range, label: string): void {
  const max = gpu().limits.maxStorageBufferBindingSize;
  if (w.size > max) throw new Error(`${label}: weight of ${w.size} bytes exceeds maxStorageBufferBindingSize (${max})`);
}

/** Calls body per batch chunk of pass `op`: conv2d's kernels take an element offset, so chunks start at any sample. */
function forChunks(g: Conv2dGeometry, version: string, op: Conv2dOp | null, label: string, batched: readonly (readonly [Range, number])[],
  body: (cg: Conv2dGeometry, ch: BatchChunk) => void): void {
  const maxCount = op ? versions[version].maxSamples?.(g, op) : undefined;
  for (const ch of batchChunks(label, g.n, batched, { offsets: true, maxCount })) {
    body(ch.count === g.n ? g : { ...g, n: ch.count }, ch);
  }
}

export interface KernelOptions { version?: string }
/** accumulate: dW is added into the weight gradient binding, not written over it. */
export interface WeightGradOptions extends KernelOptions { accumulate?: boolean }

export function conv2dForward(g: Conv2dGeometry, x: Range, w: Range, bias: Range | null, y: Range, opts: KernelOptions = {}): void {
  const c = conv2dChoice('fwd', g, opts.version), v = c.version;
  const label = convLabel('fwd', g, c.id), xs = samplesIn(g), ys = samplesOut(g);
  checkWeight(g, w, label);
  forChunks(g, v, 'fwd', label, [[x, xs], [y, ys]], (cg, ch) => versions[v].fwd(cg, ch.at(x, xs), w, bias, ch.at(y, ys), label, c.params));
}

/** Whether dX of this shape (with the version it would run) can be added into what dx holds. */
export function conv2dBackwardInputAdds(g: Conv2dGeometry, version?: string): boolean {
  return !!versions[conv2dVersion('bwd_input', g, version)].bwdInputAdds;
}

/** dx = dX, or with accumulate dx + dX (versions with bwdInputAdds only: conv2dBackwardInputAdds). */
export function conv2dBackwardInput(g: Conv2dGeometry, dy: Range, w: Range, dx: Range, opts: KernelOptions & { accumulate?: boolean } = {}): void {
  const c = conv2dChoice('bwd_input', g, opts.version), v = c.version;
  const label = convLabel('bwd_input', g, c.id), xs = samplesIn(g), ys = samplesOut(g);
  checkWeight(g, w, label);
  if (opts.accumulate && !versions[v].bwdInputAdds) throw new Error(`${label}: version ${v} cannot add dX into dx`);
  forChunks(g, v, 'bwd_input', label, [[dy, ys], [dx, xs]], (cg, ch) =>
    versions[v].bwdInput(cg, ch.at(dy, ys), w, ch.at(dx, xs), label, c.params, !!opts.accumulate));
}

export function conv2dBackwardWeight(g: Conv2dGeometry, x: Range, dy: Range, dw: Range, opts: WeightGradOptions = {}): void {
  const c = conv2dChoice('bwd_weight', g, opts.version), v = c.version;
  const label = convLabel('bwd_weight', g, c.id), xs = samplesIn(g), ys = samplesOut(g);
  checkWeight(g, dw, label);
  forChunks(g, v, 'bwd_weight', label, [[x, xs], [dy, ys]], (cg, ch) =>
    versions[v].bwdWeight(cg, ch.at(x, xs), ch.at(dy, ys), dw, ch.n0 > 0 || !!opts.accumulate, label, c.params));
}

/**
 * dX and/or dW (null: not wanted). When both run on one version that can share work between
 * them (v3 at stride 1 packs dY once), they do; otherwise this is the two calls above.
 */
export function conv2dBackward(g: Conv2dGeometry, x: Range, w: Range, dy: Range, dx: Range | null, dw: Range | null,
  opts: { inputVersion?: string; weightVersion?: string; accumulate?: boolean; accumulateInput?: boolean } = {}): void {
  const ci = dx ? conv2dChoice('bwd_input', g, opts.inputVersion) : null;
  const cw = dw ? conv2dChoice('bwd_weight', g, opts.weightVersion) : null;
  const vi = ci?.version ?? null;
  const impl = vi !== null ? versions[vi] : null;
  const both = impl?.bwdBoth;
  if (!dx || !dw || vi === null || ci!.id !== cw?.id || !both || !impl.canFuseBackward?.(g) || opts.accumulateInput) {
    if (dx && ci) conv2dBackwardInput(g, dy, w, dx, { version: ci.id, accumulate: opts.accumulateInput });
    if (dw && cw) conv2dBackwardWeight(g, x, dy, dw, { version: cw.id, accumulate: opts.accumulate });
    return;
  }
  const label = convLabel('bwd_input+bwd_weight', g, vi), xs = samplesIn(g), ys = samplesOut(g);
  checkWeight(g, w, label);
  forChunks(g, vi, 'bwd_weight', label, [[x, xs], [dy, ys], [dx, xs]], (cg, ch) =>
    both(cg, ch.at(x, xs), ch.at(dy, ys), w, ch.at(dx, xs), dw, ch.n0 > 0 || !!opts.accumulate, label));
}

const BIAS_WG = 64;

/** db[o] = sum over batch and plane of dy[:, o] (added into db with accumulate). */
export function conv2dBackwardBias(g: Conv2dGeometry, dy: Range, db: Range, accumulate = false): void {
  const label = convLabel('bwd_bias', g, '');
  const plane = g.ho * g.wo;
  forChunks(g, 'v1', null, label, [[dy, g.co * plane]], (cg, ch) => {
    const c = ch.at(dy, g.co * plane), add = ch.n0 > 0 || accumulate;
    launch({ shader: 'conv2d_bias', entry: 'conv2d_bwd_bias', bindings: ['read', 'write', 'uniform'], constants: { WG: BIAS_WG } },
      [c.binding, db], packParams([['u32', cg.n], ['u32', g.co], ['u32', plane], ['u32', c.base], ['u32', add ? 1 : 0]]),
      grid1d(g.co, 1), label);
  });
}
