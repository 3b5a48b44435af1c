// conv2d version 5 (shaders/conv2d_gemm.wgsl): implicit GEMM for GPUs with workgroup-memory
// tiles of BM x BN x BK (override constants) and 4 x 4 outputs per invocation, one dispatch per
// pass: the weight gradient reduces over every pixel inside its workgroup instead of splitting
// the reduction and summing partials in a second pass (v2).
// Tiles per pass: 64 x 64 x 16 (256 invocations) where the output fills enough of them to keep a
// GPU busy, else 32 x 32 x 16 (64 invocations), so that the few output tiles of a weight
// gradient or a late-stage layer spread over four times as many workgroups.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, cog } from './conv2d_common.ts';
import type { ChunkIO } from './chunking.ts';

export interface GemmTile { bm: number; bn: number; bk: number }

type Mode = 'fwd' | 'bwd_input' | 'bwd_weight';

export const GEMM_TILES: readonly GemmTile[] = [{ bm: 64, bn: 64, bk: 16 }, { bm: 32, bn: 32, bk: 16 }];
/** Below this many 64 x 64 output tiles a pass takes 32 x 32 tiles. */
const FEW_TILES = 256;

// the test knob is the device's, like every other per-device setting
const tileState = (): { forced: GemmTile | null } => gpu().state('conv2d v5 tile', () => ({ forced: null }));

/** @internal Runs every pass with `tile` (tests cover each tile shape); null: chosen per pass. */
export function setGemmTileForTests(tile: GemmTile | null): void {
  if (tile) {
    const l = gpu().limits, bytes = 4 * tile.bk * (tile.bm + tile.bn);
    if (tile.bm % 4 || tile.bn % 4 || (tile.bm / 4) * (tile.bn / 4) > l.maxComputeInvocationsPerWorkgroup || bytes > l.maxComputeWorkgroupStorageSize) {
      throw new Error(`conv2d v5: tile ${tile.bm}x${tile.bn}x${tile.bk} needs BM and BN multiples of 4, at most ` +
        `${l.maxComputeInvocationsPerWorkgroup} invocations and ${l.maxComputeWorkgroupStorageSize} bytes of workgroup memory (it takes ${bytes})`);
    }
  }
  tileState().forced = tile;
}

function tileFor(m: number, n: number, groups: number): GemmTile {
  const forced = tileState().forced;
  if (forced) return forced;
  const big = GEMM_TILES[0];
  return Math.ceil(m / big.bm) * Math.ceil(n / big.bn) * groups >= FEW_TILES ? big : GEMM_TILES[1];
}

function dispatch(mode: Mode, g: Conv2dGeometry, m: number, n: number, k: number, accumulate: boolean,
  a: ChunkIO, b: ChunkIO | Binding, bias: Binding | null, out: Binding, oBase: number, label: string): void {
  const t = tileFor(m, n, g.groups);
  const tilesM = Math.ceil(m / t.bm), tilesN = Math.ceil(n / t.bn);
  const maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.ceil(tilesM / maxDim);
  if (tilesN * g.groups > maxDim) throw new Error(`${label}: ${tilesN * g.groups} column tiles exceed ${maxDim} workgroups per dimension`);
  const bBinding = 'binding' in b ? b.binding : b;
  const bBase = 'binding' in b ? b.base : 0;
  launch({ shader: 'conv2d_gemm', entry: `conv2d_${mode}_v5`, bindings: ['read', 'read', 'read', 'write', 'uniform'],
    constants: { BM: t.bm, BN: t.bn, BK: t.bk, HAS_BIAS: bias ? 1 : 0 } },
  [a.binding, bBinding, bias ?? bBinding, out], packParams([
    ['u32', g.n], ['u32', g.c], ['u32', g.h], ['u32', g.w],
    ['u32', g.co], ['u32', g.ho], ['u32', g.wo], ['u32', g.groups],
    ['u32', g.kh], ['u32', g.kw], ['u32', g.sh], ['u32', g.sw],
    ['i32', g.ph], ['i32', g.pw], ['u32', g.dh], ['u32', g.dw],
    ['u32', cig(g)], ['u32', cog(g)], ['u32', a.base], ['u32', bBase],
    ['u32', m], ['u32', n], ['u32', k], ['u32', accumulate ? 1 : 0],
    ['u32', tilesN], ['u32', oBase], ['u32', 0], ['u32', 0],
  ]), [Math.ceil(tilesM / gy), gy, tilesN * g.groups], `${label} ${t.bm}x${t.bn}x${t.bk}`);
}

export function fwdGemm(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  dispatch('fwd', g, g.n * g.ho * g.wo, cog(g), cig(g) * g.kh * g.kw, false, x, w, bias, y.binding, y.base, label);
}

export function bwdInputGemm(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  dispatch('bwd_input', g, g.n * g.h * g.w, cig(g), cog(g) * g.kh * g.kw, false, dy, w, null, dx.binding, dx.base, label);
}

export function bwdWeightGemm(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  dispatch('bwd_weight', g, cog(g), cig(g) * g.kh * g.kw, g.n * g.ho * g.wo, accumulate, dy, x, null, dw, 0, label);
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
    [dy.binding, x.binding, dw], packParams([
      ['u32', g.n], ['u32', g.c], ['u32', g.h], ['u32', g.w],
      ['u32', g.co], ['u32', g.ho], ['u32', g.wo], ['u32', g.groups],
      ['u32', g.kh], ['u32', g.kw], ['u32', g.sh], ['u32', g.sw],
      ['i32', g.ph], ['i32', g.pw], ['u32', g.dh], ['u32', g.dw],
      ['u32', cig(g)], ['u32', cog(g)], ['u32', dy.base], ['u32', x.base],
      ['u32', m], ['u32', n], ['u32', k], ['u32', accumulate ? 1 : 0],
      ['u32', tilesN], ['u32', 0], ['u32', 0], ['u32', 0],
    ]), [Math.ceil(tiles / gy), gy, g.groups], `${label} subgroups`);
}
