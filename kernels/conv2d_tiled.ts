// conv2d version 2 (shaders/conv2d_tiled.wgsl, its tile loop shared with v5 in
// shaders/conv2d_gemm_tile.wgsl): implicit GEMM with 64 x 64 x 16 workgroup tiles over NCHW
// storage buffers, for GPUs. The weight gradient splits its long reduction
// (batch x plane) over workgroups and sums the partials (the partial sum kernel, shaders/partial_sum.wgsl).
import { gpu, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, cog, reduceSplits, type ChunkIO } from './conv2d_common.ts';
import { gemmParams } from './conv2d_gemm.ts';

const BM = 64, BN = 64, BK = 16;
const DW_WORKGROUPS = 512; // the weight gradient splits its reduction until it has about this many

type Mode = 'fwd' | 'bwd_input' | 'bwd_weight';

function dispatch(mode: Mode, g: Conv2dGeometry, m: number, n: number, k: number, splits: number, kSplit: number,
  a: ChunkIO, b: ChunkIO | Binding, bias: Binding | null, out: Binding, oBase: number, label: string, accumulate = false): void {
  const tilesM = Math.ceil(m / BM), tilesN = Math.ceil(n / BN);
  const maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.ceil(tilesM / maxDim);
  const bBinding = 'binding' in b ? b.binding : b;
  const bBase = 'binding' in b ? b.base : 0;
  launch({ shader: 'conv2d_tiled', entry: `conv2d_${mode}_v2`, bindings: ['read', 'read', 'read', 'write', 'uniform'], constants: { HAS_BIAS: bias ? 1 : 0 } },
    [a.binding, bBinding, bias ?? bBinding, out], gemmParams(g, m, n, k, { aBase: a.base, bBase, oBase, kSplit, tilesN, accumulate }),
    [Math.ceil(tilesM / gy), gy, tilesN * g.groups * splits], label);
}

export function fwdTiled(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  const k = cig(g) * g.kh * g.kw;
  dispatch('fwd', g, g.n * g.ho * g.wo, cog(g), k, 1, k, x, w, bias, y.binding, y.base, label);
}

export function bwdInputTiled(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string, _params?: unknown, accumulate = false): void {
  const k = cog(g) * g.kh * g.kw;
  dispatch('bwd_input', g, g.n * g.h * g.w, cig(g), k, 1, k, dy, w, null, dx.binding, dx.base, label, accumulate);
}

export function bwdWeightTiled(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const m = cog(g), n = cig(g) * g.kh * g.kw, k = g.n * g.ho * g.wo;
  const base = Math.ceil(m / BM) * Math.ceil(n / BN) * g.groups;
  const wanted = Math.min(Math.ceil(k / BK), Math.max(1, Math.ceil(DW_WORKGROUPS / base)));
  const kSplit = Math.ceil(k / wanted / BK) * BK;
  const splits = Math.ceil(k / kSplit);
  const wsize = g.co * n;
  const pool = gpu().pool;
  const partial = pool.acquire(splits * wsize * 4, 'conv2d dw partials');
  dispatch('bwd_weight', g, m, n, k, splits, kSplit, dy, x, null, partial, 0, label);
  reduceSplits(partial, splits, wsize, dw, accumulate, label);
  pool.release(partial);
}
