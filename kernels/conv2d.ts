// Host half of the conv2d family: version table, per-adapter version choice (autotune.ts),
// batch chunking for tensors larger than one binding, and the bias gradient.
//   v1  conv2d_direct.wgsl  direct loops, NCHW storage buffers (reference port, any adapter)
//   v2  conv2d_tiled.wgsl   implicit GEMM, workgroup-memory tiles, NCHW storage buffers (GPUs)
//   v3  conv2d_tex*.wgsl    implicit GEMM, NHWC texel grids + uniform weight slices, no barriers (lavapipe)
//   v4  matmul kernels      1x1 convolutions of 1x1 maps (split attention's fc layers) as one GEMM
//   v5  conv2d_gemm.wgsl    implicit GEMM, parameterised workgroup tiles, one dispatch per pass (GPUs)
//   v6  conv2d_gemm_sg.wgsl v5 with a subgroupAdd weight gradient (GPUs with subgroups)
// Public boundary: x [N,C,H,W], w [Co,C/groups,KH,KW], y [N,Co,Ho,Wo], f32, as in PyTorch.
// Test: npm test -- conv2d. Bench: npm run bench -- --filter conv2d. Design: docs/kernels/conv2d.md
import { gpu, packParams, type Binding, type BufferRange } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { fillKernel } from './elementwise.ts';
import { forcedVersion, selectVersion, type TuneJob } from './autotune.ts';
import { cig, cog, type Conv2dGeometry } from './conv2d.ref.ts';
import { chunkOf, convLabel, OFFSET_ALIGN, type ChunkIO } from './conv2d_common.ts';
import { bwdInputDirect, bwdWeightDirect, fwdDirect } from './conv2d_direct.ts';
import { bwdInputTiled, bwdWeightTiled, fwdTiled } from './conv2d_tiled.ts';
import { bwdInputLinear, bwdWeightLinear, fwdLinear, linearSupported } from './conv2d_linear.ts';
import { bwdBothTex, bwdInputTex, bwdWeightTex, fwdTex, sharedDyGrid, texMaxSamples, texSupported } from './conv2d_tex.ts';
import { bwdInputGemm, bwdWeightGemm, bwdWeightSubgroups, fwdGemm, hasSubgroups } from './conv2d_gemm.ts';

export * from './conv2d.ref.ts';

type Range = Required<BufferRange>;

export interface Conv2dVersion {
  about: string;
  fwd(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void;
  bwdInput(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void;
  /** dw = (accumulate ? dw : 0) + this chunk's contribution */
  bwdWeight(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void;
  /** false where the version cannot run the shape (it is then neither forced nor tuned) */
  supports?(g: Conv2dGeometry): boolean;
  /** a cap on the samples of one chunk beyond the binding limit (texture sizes) */
  maxSamples?(g: Conv2dGeometry): number;
  /** dX and dW together, sharing work, where canFuseBackward(g) holds */
  bwdBoth?(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, w: Binding, dx: ChunkIO, dw: Binding, accumulate: boolean, label: string): void;
  canFuseBackward?(g: Conv2dGeometry): boolean;
  /** neither tuned nor a fallback on CPU adapters */
  gpuOnly?: boolean;
}

export const versions: Record<string, Conv2dVersion> = {
  v1: { about: 'direct loops over NCHW storage buffers, one output per invocation', fwd: fwdDirect, bwdInput: bwdInputDirect, bwdWeight: bwdWeightDirect },
  v2: { about: 'implicit GEMM, 64x64x16 workgroup-memory tiles over NCHW storage buffers (GPUs)',
    fwd: fwdTiled, bwdInput: bwdInputTiled, bwdWeight: bwdWeightTiled },
  v3: { about: 'implicit GEMM, NHWC texel grids + uniform weight slices, no barriers (lavapipe)',
    fwd: fwdTex, bwdInput: bwdInputTex, bwdWeight: bwdWeightTex, supports: texSupported, maxSamples: texMaxSamples,
    bwdBoth: bwdBothTex, canFuseBackward: sharedDyGrid },
  v4: { about: '1x1 convolution of 1x1 maps as one GEMM on the matmul kernels (attention fc layers)',
    fwd: fwdLinear, bwdInput: bwdInputLinear, bwdWeight: bwdWeightLinear, supports: linearSupported },
  // GPU-shaped: tuned on GPUs only (CPU adapters' barriers make workgroup tiles slow); forcing runs them anywhere
  v5: { about: 'implicit GEMM, parameterised workgroup tiles, one dispatch per pass (GPUs)',
    fwd: fwdGemm, bwdInput: bwdInputGemm, bwdWeight: bwdWeightGemm, gpuOnly: true },
  v6: { about: 'v5 with the weight gradient reduced by subgroupAdd (GPUs with subgroups)',
    fwd: fwdGemm, bwdInput: bwdInputGemm, bwdWeight: bwdWeightSubgroups, supports: () => hasSubgroups(), gpuOnly: true },
};

export type Conv2dOp = 'fwd' | 'bwd_input' | 'bwd_weight';
const REVISION = 'conv2d-3';

/** CPU adapters (lavapipe, SwiftShader): slow storage loads and barriers, fast texel fetches. */
export function isSoftwareAdapter(): boolean {
  const i = gpu().adapterInfo;
  return i.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${i.device} ${i.description}`);
}

const used = (n: number, block: number) => n / (Math.ceil(n / block) * block);

/** Share of a version's arithmetic that is real work, the rest being padding to its blocks. */
export function blockEfficiency(version: string, op: Conv2dOp, g: Conv2dGeometry): number {
  if (version === 'v3') { // channels in whole texels of 4 (read) and blocks of 16 (written); dW 8 x 8
    if (op === 'fwd') return used(cig(g), 4) * used(cog(g), 16);
    if (op === 'bwd_input') return (used(cog(g), 4) * used(cig(g), 16)) / (g.sh * g.sw); // zero-inserted dY
    return used(cig(g), 8) * used(cog(g), 8);
  }
  if (version === 'v2') { // 64-wide tiles of channels
    if (op === 'fwd') return used(cog(g), 64);
    if (op === 'bwd_input') return used(cig(g), 64);
    return used(cog(g), 64) * used(cig(g) * g.kh * g.kw, 64);
  }
  return 1;
}

/**
 * The version a shape runs with before it is tuned: v4 where it applies (a GEMM of batch x
 * channels), else v3 on CPU adapters, v2 on GPUs, unless
 * padding to their blocks leaves under 1/32 of the work real (depthwise convolutions), where
 * v1's direct loops were measured faster (4-25x on lavapipe); the stem's dX, at 1/21, is
 * still 3x faster on v3.
 */
function fallbackVersion(op: Conv2dOp, g: Conv2dGeometry, usableVersions: string[]): string {
  if (usableVersions.includes('v4')) return 'v4';
  const preferred = isSoftwareAdapter() ? 'v3' : 'v2';
  if (!usableVersions.includes(preferred) || blockEfficiency(preferred, op, g) < 1 / 32) return 'v1';
  return preferred;
}

let chunkBytesLimit: number | null = null;

/** @internal Caps the bytes of one batch chunk's binding (tests force the chunking path with it). */
export function setConv2dChunkBytes(bytes: number | null): void {
  chunkBytesLimit = bytes;
}

/** Samples per chunk so that every batched binding fits the device's (or the forced) limit. */
export function chunkSamples(g: Conv2dGeometry, version?: string): number {
  const limit = Math.min(gpu().limits.maxStorageBufferBindingSize, chunkBytesLimit ?? Infinity);
  const perSample = 4 * Math.max(g.c * g.h * g.w, g.co * g.ho * g.wo);
  const fit = Math.floor((limit - OFFSET_ALIGN - 16) / perSample);
  if (fit < 1) {
    throw new Error(`${convLabel('', g, '')}: one sample needs ${perSample} bytes, over the binding limit of ${limit} bytes`);
  }
  const cap = version ? versions[version].maxSamples?.(g) ?? Infinity : Infinity;
  return Math.max(1, Math.min(g.n, fit, cap));
}

export function shapeKey(g: Conv2dGeometry): string {
  return [g.n, g.c, g.h, g.w, g.co, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.groups].join(',');
}

const paddedBytes = (n: number): number => Math.max(16, Math.ceil(n / 4) * 16);

function tuneJob(op: Conv2dOp, g: Conv2dGeometry): TuneJob {
  const pool = gpu().pool;
  const n = Math.min(...usable(g).map((v) => chunkSamples(g, v)));
  const cg = { ...g, n };
  const xBytes = paddedBytes(n * g.c * g.h * g.w), yBytes = paddedBytes(n * g.co * g.ho * g.wo);
  const wBytes = paddedBytes(g.co * cig(g) * g.kh * g.kw);
  const bufs = [pool.acquire(xBytes, 'tune x'), pool.acquire(wBytes, 'tune w'), pool.acquire(yBytes, 'tune y')];
  const [x, w, y] = bufs.map((b, i) => ({ buffer: b, offset: 0, size: [xBytes, wBytes, yBytes][i] }));
  for (const r of [x, w, y]) fillKernel(r, r.size / 4, 0.5, 'conv2d tune data'); // no stale NaNs or denormals in the timing
  const io = (r: Range): ChunkIO => ({ binding: r, base: 0 });
  return {
    record: (v) => {
      const impl = versions[v], label = convLabel(`${op} tune`, cg, v);
      if (op === 'fwd') impl.fwd(cg, io(x), w, null, io(y), label);
      else if (op === 'bwd_input') impl.bwdInput(cg, io(y), w, io(x), label);
      else impl.bwdWeight(cg, io(x), io(y), w, false, label);
    },
    dispose: () => { for (const b of bufs) pool.release(b); },
  };
}

const usable = (g: Conv2dGeometry): string[] => Object.keys(versions).filter((v) => versions[v].supports?.(g) ?? true);

/** The version `op` runs with on this shape: forced, tuned, or the adapter's fallback. */
export function conv2dVersion(op: Conv2dOp, g: Conv2dGeometry, forced?: string): string {
  if (forced !== undefined) {
    if (!(forced in versions)) throw new Error(`conv2d ${op}: no version ${forced} (have ${Object.keys(versions).join(', ')})`);
    if (versions[forced].supports?.(g) === false) throw new Error(`${convLabel(op, g, forced)}: version ${forced} cannot run this shape`);
    return forced;
  }
  const ok = usable(g).filter((v) => !(versions[v].gpuOnly && isSoftwareAdapter() && forcedVersion(`conv2d_${op}`) === undefined));
  return selectVersion({ op: `conv2d_${op}`, revision: REVISION, versions: ok, fallback: fallbackVersion(op, g, ok) },
    shapeKey(g), () => tuneJob(op, g));
}

function checkWeight(g: Conv2dGeometry, w: Range, label: string): void {
  const max = gpu().limits.maxStorageBufferBindingSize;
  if (w.size > max) throw new Error(`${label}: weight of ${w.size} bytes exceeds maxStorageBufferBindingSize (${max})`);
}

/** Calls body for each batch chunk with the chunk's geometry and its range of samples. */
function forChunks(g: Conv2dGeometry, version: string, body: (cg: Conv2dGeometry, first: number, count: number) => void): void {
  const per = chunkSamples(g, version);
  for (let first = 0; first < g.n; first += per) {
    const count = Math.min(per, g.n - first);
    body({ ...g, n: count }, first, count);
  }
}

export interface KernelOptions { version?: string }

export function conv2dForward(g: Conv2dGeometry, x: Range, w: Range, bias: Range | null, y: Range, opts: KernelOptions = {}): void {
  const v = conv2dVersion('fwd', g, opts.version);
  const label = convLabel('fwd', g, v);
  checkWeight(g, w, label);
  forChunks(g, v, (cg, first, count) => versions[v].fwd(cg, chunkOf(x, first, count, g.c * g.h * g.w), w, bias,
    chunkOf(y, first, count, g.co * g.ho * g.wo), label));
}

export function conv2dBackwardInput(g: Conv2dGeometry, dy: Range, w: Range, dx: Range, opts: KernelOptions = {}): void {
  const v = conv2dVersion('bwd_input', g, opts.version);
  const label = convLabel('bwd_input', g, v);
  checkWeight(g, w, label);
  forChunks(g, v, (cg, first, count) => versions[v].bwdInput(cg, chunkOf(dy, first, count, g.co * g.ho * g.wo), w,
    chunkOf(dx, first, count, g.c * g.h * g.w), label));
}

export function conv2dBackwardWeight(g: Conv2dGeometry, x: Range, dy: Range, dw: Range, opts: KernelOptions = {}): void {
  const v = conv2dVersion('bwd_weight', g, opts.version);
  const label = convLabel('bwd_weight', g, v);
  checkWeight(g, dw, label);
  forChunks(g, v, (cg, first, count) => versions[v].bwdWeight(cg, chunkOf(x, first, count, g.c * g.h * g.w),
    chunkOf(dy, first, count, g.co * g.ho * g.wo), dw, first > 0, label));
}

/**
 * dX and/or dW (null: not wanted). When both run on one version that can share work between
 * them (v3 at stride 1 packs dY once), they do; otherwise this is the two calls above.
 */
export function conv2dBackward(g: Conv2dGeometry, x: Range, w: Range, dy: Range, dx: Range | null, dw: Range | null,
  opts: { inputVersion?: string; weightVersion?: string } = {}): void {
  const vi = dx ? conv2dVersion('bwd_input', g, opts.inputVersion) : null;
  const vw = dw ? conv2dVersion('bwd_weight', g, opts.weightVersion) : null;
  const impl = vi !== null ? versions[vi] : null;
  const both = impl?.bwdBoth;
  if (!dx || !dw || vi === null || vi !== vw || !both || !impl.canFuseBackward?.(g)) {
    if (dx && vi !== null) conv2dBackwardInput(g, dy, w, dx, { version: vi });
    if (dw && vw !== null) conv2dBackwardWeight(g, x, dy, dw, { version: vw });
    return;
  }
  const label = convLabel('bwd_input+bwd_weight', g, vi);
  checkWeight(g, w, label);
  forChunks(g, vi, (cg, first, count) => both(cg, chunkOf(x, first, count, g.c * g.h * g.w),
    chunkOf(dy, first, count, g.co * g.ho * g.wo), w, chunkOf(dx, first, count, g.c * g.h * g.w), dw, first > 0, label));
}

const BIAS_WG = 64;

/** db[o] = sum over batch and plane of dy[:, o]. */
export function conv2dBackwardBias(g: Conv2dGeometry, dy: Range, db: Range): void {
  const label = convLabel('bwd_bias', g, '');
  const plane = g.ho * g.wo;
  forChunks(g, 'v1', (cg, first, count) => {
    const c = chunkOf(dy, first, count, g.co * plane);
    launch({ shader: 'conv2d_bias', entry: 'conv2d_bwd_bias', bindings: ['read', 'write', 'uniform'], constants: { WG: BIAS_WG } },
      [c.binding, db], packParams([['u32', cg.n], ['u32', g.co], ['u32', plane], ['u32', c.base], ['u32', first > 0 ? 1 : 0]]),
      grid1d(g.co, 1), label);
  });
}
