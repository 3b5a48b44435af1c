// conv2d version 9: Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions, forward and dX
// (shaders/conv2d_winograd.wgsl) and dW (conv2d_winograd_dw.wgsl, its sum in
// conv2d_winograd_dw_sum.wgsl), the 16 element-wise products as one grouped pointwise GEMM on
// v7's forward kernel. Three dispatches a pass: the transforms of both operands (one), the GEMM,
// the output transform (for dW, the sum of its ranges and G^T dU G).
import { gpu, packParams, type AdapterDescription, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, cog, type ChunkIO } from './conv2d_common.ts';
import { chunkBytesLimit, vec4Aligned } from './chunking.ts';
import { acquireTexels, laidTexels, launchSgConv, maxStagedTexels, noBias, sgTexAdapter, stage, unstage } from './conv2d_sgtex.ts';

const WG = 64;
const CO = 32; // output channels per block of v7's forward kernel

export const winograd3x3 = (g: Conv2dGeometry): boolean =>
  g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1;

/** One pass as a forward convolution: channels read (a) and written (b) a group, the output plane, the input origin of tile (0, 0). */
interface WinoPass { a: number; b: number; srcC: number; h: number; w: number; oh: number; ow: number; offh: number; offw: number; transposed: boolean }

const fwdPass = (g: Conv2dGeometry): WinoPass =>
  ({ a: cig(g), b: cog(g), srcC: g.c, h: g.h, w: g.w, oh: g.ho, ow: g.wo, offh: -g.ph, offw: -g.pw, transposed: false });
// dX = the stride-1 convolution of dY padded by 2 - p with the transposed, flipped weights
const bwdPass = (g: Conv2dGeometry): WinoPass =>
  ({ a: cog(g), b: cig(g), srcC: g.co, h: g.ho, w: g.wo, oh: g.h, ow: g.w, offh: g.ph - 2, offw: g.pw - 2, transposed: true });

/** Share of the tiles' outputs inside the plane, and the batch's tiles, of pass `op`. */
export function winogradFill(g: Conv2dGeometry, op: string): { plane: number; tiles: number } {
  const p = op === 'fwd' ? fwdPass(g) : bwdPass(g), { th, tw } = tilesOf(p);
  return { plane: (p.oh * p.ow) / (4 * th * tw), tiles: g.n * th * tw };
}

/**
 * Where v9 is the default (tuning measures it wherever it runs). Forward and dX: where both a
 * group's read and written channels number 128 or more (layer3's and layer4's split-attention
 * convolutions) and the batch has 16 tiles or more (at 8, layer4 at 64 x 64 input, batch 8,
 * transforming the weights costs more than the GEMM saves: v7 7.6 against 13.1 ms forward).
 * Their products run on v7's kernel as pointwise GEMMs, whose cost per output block is paid
 * over a reduction of only Cin (not 9 Cin) channels, and the transforms move 4x the activations. Against v7, same process: 1.3-1.9x at layer3.0 (28 x 28) and layer4 (14 x 14
 * and 7 x 7) at 224/8 and at layer4 at 320/32; 0.9-1.1x at layer3's 14 x 14 and at 64 x 64
 * input; 0.5-0.9x at layer1, layer2 and the stem, reductions of 32 to 64 channels.
 * dW: where 32 or more channels are read and 64 or more written a group (layer1 on). Its GEMM's
 * reduction is the tiles, long at every shape; against the default before it (v7, or v8 on
 * 12-20 x 12-20 planes), 224/8: layer2.0 (56 x 56) 1.2x, layer2 1.7x, layer3.0 2x, layer3 2.2x,
 * layer4.0 2.8x, layer4 1.8x; layer1 (32 -> 64 a group) 1.1-1.2x at 56 x 56 and at 16 x 16 since
 * its sum of ranges takes vec4s (all dispatches, alternating runs); not on the stem's planes of
 * 10000 pixels or more (112 x 112 at 224 input, 160 x 160 at 320): its 32 -> 64 at 112 x 112 is
 * a wash in alternating processes (0.9-1.1x) and slower in both full benchmark runs that measured
 * it (v7 73 against 89 ms, 80 against 104), and its transformed operands hold 4x the
 * activations; its 32 -> 32 0.7-0.8x. (Layer1 and layer2.0 at 320 input, 80 x 80, keep v9.)
 */
export const winogradPreferred = (g: Conv2dGeometry, op: string): boolean => {
  if (!winograd3x3(g)) return false;
  if (op === 'bwd_weight') return cig(g) >= 32 && cog(g) >= 64 && g.ho * g.wo < 100 * 100;
  return Math.min(cig(g), cog(g)) >= 128 && winogradFill(g, op).tiles >= 16;
};

const tilesOf = (p: WinoPass): { th: number; tw: number } => ({ th: Math.ceil(p.oh / 2), tw: Math.ceil(p.ow / 2) });

/** Per sample: texels of V, and floats of M. */
function perSample(g: Conv2dGeometry, p: WinoPass): { texels: number; floats: number } {
  const { th, tw } = tilesOf(p), tiles = th * tw;
  return { texels: tiles * 16 * g.groups * Math.ceil(p.a / 4), floats: tiles * 16 * g.groups * p.b };
}

const weightTexels = (g: Conv2dGeometry, p: WinoPass): number => 16 * g.groups * Math.ceil(p.b / CO) * Math.ceil(p.a / 4) * CO;

/** The weight gradient's laid-out operands per sample, the larger: V (4 tiles a texel) or dM (whole blocks of 32 channels). */
function dwTexelsPerSample(g: Conv2dGeometry): number {
  const { th, tw } = tilesOf(fwdPass(g));
  return Math.ceil((th * tw) / 4) * 16 * g.groups * Math.max(cig(g), Math.ceil(cog(g) / CO) * CO);
}

export function winogradSupported(g: Conv2dGeometry, adapter: AdapterDescription): boolean {
  if (!sgTexAdapter(adapter) || !winograd3x3(g)) return false;
  const max = maxStagedTexels(), bytes = gpu().limits.maxStorageBufferBindingSize;
  if (2 * dwTexelsPerSample(g) > max || 4 * 16 * g.co * cig(g) > bytes) return false;
  return [fwdPass(g), bwdPass(g)].every((p) => {
    const s = perSample(g, p);
    return s.texels <= max && 4 * s.floats <= bytes && weightTexels(g, p) <= max;
  });
}

/** Samples per chunk: V within one texture, M within one binding; for dW both laid-out operands within one texture each. */
export function winogradMaxSamples(g: Conv2dGeometry, op: string): number {
  if (op === 'bwd_weight') {
    return Math.max(1, Math.floor(maxStagedTexels() / dwTexelsPerSample(g)) - 1); // room for the last range's rounding up
  }
  const s = perSample(g, op === 'fwd' ? fwdPass(g) : bwdPass(g));
  return Math.max(1, Math.min(Math.floor(maxStagedTexels() / s.texels), Math.floor(chunkBytesLimit() / (4 * s.floats))));
}

function run(g: Conv2dGeometry, p: WinoPass, src: ChunkIO, w: Binding, bias: Binding | null, dst: ChunkIO, label: string): void {
  const { th, tw } = tilesOf(p), tiles = g.n * th * tw, G = g.groups;
  const c4g = Math.ceil(p.a / 4), ncb = Math.ceil(p.b / CO);
  const inThreads = G * c4g * tiles, vTexels = inThreads * 16, wTexels = weightTexels(g, p);
  const grid = acquireTexels(vTexels, `${label} V`), wtex = acquireTexels(wTexels, `${label} U`);
  const vStaged = stage(vTexels, `${label} V`), wStaged = stage(wTexels, `${label} U`);
  // the source read as it lies from a texture where its rows have even length (each row of a
  // patch is then within two texels at one of two offsets): a fetch is one row load a lane
  const srcFloats = g.n * p.srcC * p.h * p.w;
  const srcTex = p.w % 2 === 0 && srcFloats % 4 === 0 && vec4Aligned(src) ? laidTexels(src, srcFloats / 4, `${label} source texels`) : null;
  launch({ shader: 'conv2d_winograd', entry: srcTex ? 'conv2d_winograd_pack_tex' : 'conv2d_winograd_pack',
    bindings: [srcTex ? 'storage-texture-read' : 'read', 'read', 'write', 'write', 'uniform'], constants: { WG, LEAD_PARITY: p.offw & 1 } },
    [srcTex?.binding ?? src.binding, w, vStaged.buffer, wStaged.buffer], packParams([
      ['u32', g.n], ['u32', p.srcC], ['u32', p.h], ['u32', p.w],
      ['u32', G], ['u32', p.a], ['u32', c4g], ['u32', th],
      ['u32', tw], ['i32', p.offh], ['i32', p.offw], ['u32', srcTex ? 0 : src.base],
      ['u32', inThreads], ['u32', p.transposed ? 1 : 0], ['u32', cig(g)], ['u32', cog(g)],
      ['u32', ncb], ['u32', p.b], ['u32', wTexels / 16], ['u32', 0],
    ]), grid1d(inThreads + wTexels / 16, WG), `${label} transform`);
  if (srcTex) gpu().scratch.releaseTexture(srcTex);
  unstage(vStaged, grid);
  unstage(wStaged, wtex);
  const mFloats = tiles * 16 * G * p.b;
  const m = gpu().pool.acquire(4 * mFloats, `${label} M`);
  // tile t is output pixel t of one 1 x T plane at grid texel t*c4g; the GEMM's group e*G + g reads from texel (e*G + g)*T*c4g
  launchSgConv({ m: tiles, oh: 1, ow: tiles, ncbg: 16 * G * ncb, hp: 1, wp: tiles, ct: c4g, ncb,
    kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, c4g: tiles * c4g, kc: c4g, cog: p.b, dstC: 16 * G * p.b },
  grid, wtex, null, { binding: { buffer: m, offset: 0, size: 4 * mFloats }, base: 0 }, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
  const total = G * p.b * tiles;
  launch({ shader: 'conv2d_winograd', entry: 'conv2d_winograd_out', bindings: ['read', 'read', 'write', 'uniform'], constants: { WG, HAS_BIAS: bias ? 1 : 0 } },
    [{ buffer: m, offset: 0, size: 4 * mFloats }, bias ?? noBias(), dst.binding], packParams([
      ['u32', tiles], ['u32', p.b], ['u32', G * p.b], ['u32', th],
      ['u32', tw], ['u32', p.oh], ['u32', p.ow], ['u32', dst.base],
      ['u32', total], ['u32', 0], ['u32', 0], ['u32', 0],
    ]), grid1d(total, WG), `${label} output transform`);
  gpu().pool.release(m);
}

export function fwdWinograd(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  run(g, fwdPass(g), x, w, bias, y, label);
}

export function bwdInputWinograd(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  run(g, bwdPass(g), dy, w, null, dx, label);
}

/** Reduction texels (4 tiles each) a range of the weight gradient's GEMM runs over, as v8's ranges of pixels. */
const RANGE_TEXELS = 128;

/**
 * dw (+)= the weight gradient through Winograd's transforms: V of x as the forward's, dM = A dY A^T,
 * dU_e = sum over tiles of dM_e V_e^T as one grouped GEMM on v7's forward kernel (output pixel m =
 * input channel, the tiles its reduction in ranges), then dW = G^T dU G summed over the ranges.
 */
export function bwdWeightWinograd(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const { th, tw } = tilesOf(fwdPass(g)), G = g.groups, c = cig(g), co = cog(g), ncb = Math.ceil(co / CO);
  const tileTexels = Math.ceil((g.n * th * tw) / 4);
  // never more partial sums than one binding holds (longer chains instead)
  const fit = Math.max(1, Math.floor(chunkBytesLimit() / (4 * 16 * g.co * c)));
  const splits = Math.min(fit, Math.ceil(tileTexels / RANGE_TEXELS)), ks = Math.ceil(tileTexels / splits), kt = splits * ks;
  const groupsGemm = 16 * G * splits;
  const xThreads = G * c * kt, dyThreads = G * ncb * 8 * kt * 4;
  const vTexels = xThreads * 16, mTexels = groupsGemm * ncb * ks * CO;
  const grid = acquireTexels(vTexels, `${label} V`), wtex = acquireTexels(mTexels, `${label} dM`);
  const vStaged = stage(vTexels, `${label} V`), mStaged = stage(mTexels, `${label} dM`);
  // x and dY read as they lie from textures where their rows are whole texels (x: and rows of
  // tiles whole quads) or pairs (dY): a fetch is one row load a lane, a storage load a loop over the lanes
  const xTex = tw % 4 === 0 && g.w % 4 === 0 && vec4Aligned(x) ? laidTexels(x, g.n * g.c * g.h * g.w / 4, `${label} x texels`) : null;
  const dyTex = g.wo % 2 === 0 && (g.n * g.co * g.ho * g.wo) % 4 === 0 && vec4Aligned(dy) ? laidTexels(dy, g.n * g.co * g.ho * g.wo / 4, `${label} dy texels`) : null;
  const entry = `conv2d_winograd_dw_pack${xTex ? (dyTex ? '_tex' : '_xtex') : dyTex ? '_dytex' : ''}`;
  launch({ shader: 'conv2d_winograd_dw', entry,
    bindings: [xTex ? 'storage-texture-read' : 'read', dyTex ? 'storage-texture-read' : 'read', 'write', 'write', 'uniform'],
    constants: { WG, LEAD: (4 - (g.pw % 4)) % 4 } },
    [xTex?.binding ?? x.binding, dyTex?.binding ?? dy.binding, vStaged.buffer, mStaged.buffer], packParams([
      ['u32', g.n], ['u32', c], ['u32', g.h], ['u32', g.w],
      ['u32', co], ['u32', g.ho], ['u32', g.wo], ['u32', G],
      ['u32', th], ['u32', tw], ['i32', g.ph], ['i32', g.pw],
      ['u32', ks], ['u32', splits], ['u32', ncb], ['u32', xTex ? 0 : x.base],
      ['u32', dyTex ? 0 : dy.base], ['u32', xThreads], ['u32', dyThreads], ['u32', 0],
    ]), grid1d(xThreads + dyThreads, WG), `${label} transform`);
  for (const t of [xTex, dyTex]) if (t) gpu().scratch.releaseTexture(t);
  unstage(vStaged, grid);
  unstage(mStaged, wtex);
  const partialFloats = groupsGemm * co * c;
  const partial = gpu().pool.acquire(4 * partialFloats, 'conv2d dw partials');
  // output pixel m = input channel at grid texel m*KS; GEMM group gamma = (e*G + g)*S + s reads from texel gamma*C*KS
  launchSgConv({ m: c, oh: 1, ow: c, ncbg: groupsGemm * ncb, hp: 1, wp: 1, ct: 1, ncb,
    kh: 1, kw: 1, sh: 1, sw: ks, dh: 1, dw: 1, c4g: c * ks, kc: ks, cog: co, dstC: groupsGemm * co },
  grid, wtex, null, { binding: { buffer: partial, offset: 0, size: 4 * partialFloats }, base: 0 }, label);
  gpu().scratch.releaseTexture(grid);
  gpu().scratch.releaseTexture(wtex);
  const quads = c % 4 === 0, total = G * co * (quads ? c / 4 : c);
  launch({ shader: 'conv2d_winograd_dw_sum', entry: quads ? 'conv2d_winograd_sum_dw' : 'conv2d_winograd_sum_dw_1', bindings: ['read', 'write', 'uniform'], constants: { WG } },
    [{ buffer: partial, offset: 0, size: 4 * partialFloats }, dw], packParams([
      ['u32', c], ['u32', co], ['u32', G], ['u32', splits],
      ['u32', total], ['u32', accumulate ? 1 : 0], ['u32', 0], ['u32', 0],
    ]), grid1d(total, WG), `${label} (sum of ranges)`);
  gpu().pool.release(partial);
}
