// conv2d version 10: a convolution of one group whose patches are short (the stem's first: 3
// channels x 3 x 3 taps, 27 values an output pixel) as a pointwise convolution over them
// (shaders/conv2d_patches.wgsl), so that its three passes run on the 1x1 kernels: forward and
// dX on v7's (conv2d_sgtex.ts), dW on v8's GEMM over the pixels (conv2d_pixels.ts). v7 runs
// such a convolution with 3 of every 4 channels of a texel real, and its dX at stride 2
// multiplies the zeros inserted into dY (v3 ran the stem's dX at 1% of peak); here dX is the
// pointwise dX into the patches' gradient, gathered back by conv2d_fold_v10.
import { gpu, packParams, type AdapterDescription, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { cig, type Conv2dGeometry } from './conv2d.ref.ts';
import { chunkBytesLimit, vec4Aligned, type ChunkIO, type Range } from './chunking.ts';
import { bwdInputSgTex, fwdSgTex } from './conv2d_sgtex.ts';
import { bwdWeightV8, pixelsMaxSamples, pixelsSupported } from './conv2d_pixels.ts';

/** The longest patch (input channels x taps) laid out: beyond it v7's own kernels read their operands as often and without the copy. */
const MAX_PATCH = 32;

export const patchSize = (g: Conv2dGeometry): number => cig(g) * g.kh * g.kw;

/** The pointwise convolution over the patches P [N, C*KH*KW, Ho, Wo], with w viewed as [Co, C*KH*KW, 1, 1]. */
export function patchGeometry(g: Conv2dGeometry): Conv2dGeometry {
  return { n: g.n, c: patchSize(g), h: g.ho, w: g.wo, co: g.co, ho: g.ho, wo: g.wo, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, groups: 1 };
}

const patchBytes = (g: Conv2dGeometry): number => 4 * patchSize(g) * g.ho * g.wo; // per sample

export function patchesSupported(g: Conv2dGeometry, adapter: AdapterDescription): boolean {
  if (g.groups !== 1 || g.kh * g.kw === 1 || patchSize(g) > MAX_PATCH) return false;
  return pixelsSupported(patchGeometry(g), adapter) && patchBytes(g) <= chunkBytesLimit();
}

/** Samples per chunk: the chunk's patches within one binding, and the 1x1 kernels' own caps. */
export function patchesMaxSamples(g: Conv2dGeometry, op: string): number {
  return Math.max(1, Math.min(Math.floor(chunkBytesLimit() / patchBytes(g)), pixelsMaxSamples(patchGeometry(g), op)));
}

/**
 * Where v10 runs untuned: dX of strided convolutions (the stem's first at 224 x 224, batch 8:
 * 17-20 ms against v3's 184). Its forward and dW are no faster than v7's there (12-16 ms
 * either way: laying out 27 values a pixel costs what v7's wasted fourth channel does).
 */
export function patchesPreferred(g: Conv2dGeometry, op: string): boolean {
  return op === 'bwd_input' && (g.sh > 1 || g.sw > 1);
}

/** The Patches struct of shaders/conv2d_patches.wgsl; the kernel's shape goes in as override constants. */
function params(g: Conv2dGeometry, base: number, total: number): ArrayBuffer {
  return packParams([
    ['u32', g.n], ['u32', cig(g)], ['u32', g.h], ['u32', g.w],
    ['u32', g.ho], ['u32', g.wo], ['i32', g.ph], ['i32', g.pw],
    ['u32', base], ['u32', total], ['u32', 0], ['u32', 0],
  ]);
}

const WG = 64;

function kernel(g: Conv2dGeometry, entry: string, extra: Record<string, number> = {}) {
  return { shader: 'conv2d_patches', entry, bindings: ['read', 'write', 'uniform'] as const,
    constants: { WG, KH: g.kh, KW: g.kw, SH: g.sh, SW: g.sw, DH: g.dh, DW: g.dw, ...extra } };
}

function acquirePatches(g: Conv2dGeometry, what: string): Range {
  const size = Math.ceil((g.n * patchBytes(g)) / 16) * 16; // whole vec4s
  return { buffer: gpu().pool.acquire(size, what), offset: 0, size };
}

/** The chunk's patches: one invocation per run of 4 pixels of an output row, every element of them. */
function layPatches(g: Conv2dGeometry, x: ChunkIO, label: string): Range {
  const p = acquirePatches(g, `${label} patches`), total = g.n * g.ho * Math.ceil(g.wo / 4);
  launch(kernel(g, 'conv2d_patches_v10', { VEC4: g.wo % 4 === 0 ? 1 : 0 }), [x.binding, p], params(g, x.base, total), grid1d(total, WG), `${label} patches`);
  return p;
}

export function fwdPatches(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  const p = layPatches(g, x, label);
  fwdSgTex(patchGeometry(g), { binding: p, base: 0 }, w, bias, y, label);
  gpu().pool.release(p.buffer);
}

export function bwdWeightPatches(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const p = layPatches(g, x, label);
  bwdWeightV8(patchGeometry(g), { binding: p, base: 0 }, dy, dw, accumulate, label);
  gpu().pool.release(p.buffer);
}

export function bwdInputPatches(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  const dp = acquirePatches(g, `${label} patch gradient`);
  bwdInputSgTex(patchGeometry(g), dy, w, { binding: dp, base: 0 }, label);
  const total = g.n * cig(g) * g.h * Math.ceil(g.w / 4);
  const vec4 = g.w % 4 === 0 && vec4Aligned(dx);
  launch(kernel(g, vec4 ? 'conv2d_fold_v10_vec4' : 'conv2d_fold_v10'), [dp, dx.binding], params(g, dx.base, total), grid1d(total, WG), `${label} fold`);
  gpu().pool.release(dp.buffer);
}
