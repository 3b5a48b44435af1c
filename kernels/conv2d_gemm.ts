// conv2d version 5 (shaders/conv2d_gemm.wgsl): implicit GEMM for GPUs with workgroup-memory
// tiles of BM x BN x BK and 4 x 4 outputs per invocation, one dispatch per pass: the weight
// gradient reduces over every pixel inside its workgroup instead of splitting the reduction and
// summing partials in a second pass (v2). The tile sizes are the version's parameters
// (GEMM_TILE_PARAMS, kernels/versions.ts): autotune measures them per adapter and shape, and a
// forced choice names them, `v5(bm=32,bn=32)`; the defaults are 64 x 64 x 16.
// Version 6 (shaders/conv2d_gemm_sg.wgsl) is v5 with a subgroupAdd weight gradient.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, cog } from './conv2d_common.ts';
import type { ChunkIO } from './chunking.ts';

/**
 * v5's tuning parameters, each list's first value the default. Every combination fits the
 * limits WebGPU guarantees on any adapter: at most 256 invocations ((BM/4) * (BN/4)) and
 * 16 KiB of workgroup memory (4 * BK * (BM + BN) bytes: 16 KiB at 64 x 64 x 32).
 */
export const GEMM_TILE_PARAMS = { bm: [64, 32], bn: [64, 32], bk: [16, 32] } as const;

export interface GemmTile { bm: number; bn: number; bk: number }

type Mode = 'fwd' | 'bwd_input' | 'bwd_weight';
export type TileParams = Readonly<Record<string, number>>;

/** The tile of a v5 choice's parameters (absent ones at their defaults); throws, naming the tile, past this device's limits. */
export function gemmTile(params: TileParams = {}): GemmTile {
  const t = { bm: params.bm ?? GEMM_TILE_PARAMS.bm[0], bn: params.bn ?? GEMM_TILE_PARAMS.bn[0], bk: params.bk ?? GEMM_TILE_PARAMS.bk[0] };
  const l = gpu().limits, bytes = 4 * t.bk * (t.bm + t.bn);
  if (t.bm % 4 || t.bn % 4 || (t.bm / 4) * (t.bn / 4) > l.maxComputeInvocationsPerWorkgroup || bytes > l.maxComputeWorkgroupStorageSize) {
    throw new Error(`conv2d v5: tile ${t.bm}x${t.bn}x${t.bk} needs BM and BN multiples of 4, at most ` +
      `${l.maxComputeInvocationsPerWorkgroup} invocations and ${l.maxComputeWorkgroupStorageSize} bytes of workgroup memory (it takes ${bytes})`);
  }
  return t;
}

/** The uniform block of shaders/conv2d_gemm_geometry.wgsl. */
export function gemmParams(g: Conv2dGeometry, m: number, n: number, k: number, o: {
  aBase: number; bBase: number; oBase?: number; kSplit?: number; tilesN: number; accumulate?: boolean;
}): ArrayBuffer {
  return packParams([
    ['u32', g.n], ['u32', g.c], ['u32', g.h], ['u32', g.w],
    ['u32', g.co], ['u32', g.ho], ['u32', g.wo], ['u32', g.groups],
    ['u32', g.kh], ['u32', g.kw], ['u32', g.sh], ['u32', g.sw],
    ['i32', g.ph], ['i32', g.pw], ['u32', g.dh], ['u32', g.dw],
    ['u32', cig(g)], ['u32', cog(g)], ['u32', o.aBase], ['u32', o.bBase],
    ['u32', m], ['u32', n], ['u32', k], ['u32', o.kSplit ?? k],
    ['u32', o.tilesN], ['u32', o.oBase ?? 0], ['u32', o.accumulate ? 1 : 0], ['u32', 0],
  ]);
}

function dispatch(mode: Mode, g: Conv2dGeometry, m: number, n: number, k: number, accumulate: boolean,
  a: ChunkIO, b: ChunkIO | Binding, bias: Binding | null, out: Binding, oBase: number, params: TileParams, label: string): void {
  const t = gemmTile(params);
  const tilesM = Math.ceil(m / t.bm), tilesN = Math.ceil(n / t.bn);
  const maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.ceil(tilesM / maxDim);
  if (tilesN * g.groups > maxDim) throw new Error(`${label}: ${tilesN * g.groups} column tiles exceed ${maxDim} workgroups per dimension`);
  const bBinding = 'binding' in b ? b.binding : b;
  const bBase = 'binding' in b ? b.base : 0;
  launch({ shader: 'conv2d_gemm', entry: `conv2d_${mode}_v5`, bindings: ['read', 'read', 'read', 'write', 'uniform'],
    constants: { BM: t.bm, BN: t.bn, BK: t.bk, HAS_BIAS: bias ? 1 : 0 } },
  [a.binding, bBinding, bias ?? bBinding, out], gemmParams(g, m, n, k, { aBase: a.base, bBase, oBase, tilesN, accumulate }),
  [Math.ceil(tilesM / gy), gy, tilesN * g.groups], `${label} ${t.bm}x${t.bn}x${t.bk}`);
}

export function fwdGemm(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string, params: TileParams = {}): void {
  dispatch('fwd', g, g.n * g.ho * g.wo, cog(g), cig(g) * g.kh * g.kw, false, x, w, bias, y.binding, y.base, params, label);
}

export function bwdInputGemm(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string, params: TileParams = {}, accumulate = false): void {
  dispatch('bwd_input', g, g.n * g.h * g.w, cig(g), cog(g) * g.kh * g.kw, accumulate, dy, w, null, dx.binding, dx.base, params, label);
}

export function bwdWeightGemm(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string, params: TileParams = {}): void {
  dispatch('bwd_weight', g, cog(g), cig(g) * g.kh * g.kw, g.n * g.ho * g.wo, accumulate, dy, x, null, dw, 0, params, label);
}

/** Whether this device runs version 6's weight gradient (shaders/conv2d_gemm_sg.wgsl needs subgroups). */
export const hasSubgroups = (): boolean => gpu().features.has('subgroups');

const SG_WG = 64;

/**
 * Version 6's weight gradient: one workgroup per 4 x 4 block of dW, its invocations splitting
 * the sum over pixels and reducing with subgroupAdd; one dispatch, for the weight gradients
 * with few outputs and long sums, where v5's 64 x 64 tiles leave most of a GPU idle.
 */
export function bwdWeightSubgroups(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  if (!hasSubgroups()) throw new Error(`${label}: conv2d v6 needs the 'subgroups' feature, which this device lacks`);
  const m = cog(g), n = cig(g) * g.kh * g.kw, k = g.n * g.ho * g.wo;
  const tilesN = Math.ceil(n / 4), tiles = Math.ceil(m / 4) * tilesN;
  const maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.ceil(tiles / maxDim);
  launch({ shader: 'conv2d_gemm_sg', entry: 'conv2d_bwd_weight_v6', bindings: ['read', 'read', 'write', 'uniform'], constants: { WG: SG_WG } },
    [dy.binding, x.binding, dw], gemmParams(g, m, n, k, { aBase: dy.base, bBase: x.base, tilesN, accumulate }),
    [Math.ceil(tiles / gy), gy, g.groups], `${label} subgroups`);
}
