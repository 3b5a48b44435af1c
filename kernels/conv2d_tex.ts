// conv2d version 3 (shaders/conv2d_tex*.wgsl): activations in padded NHWC rgba32float
// textures, weights in <= 64 KB uniform-buffer slices, no workgroup memory or barriers.
// Made for adapters whose storage-buffer loads are slow (lavapipe); see docs/kernels/conv2d.md.
import { gpu, packParams, type Binding, type GridTexture } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, cog, reduceSplits, type ChunkIO } from './conv2d_common.ts';

const WG = 64;
const TW = 4096; // grid texture width in texels; tensors are laid out linearly in rows of TW

/** Most texels one grid texture can hold on this device. */
export const maxGridTexels = (): number => TW * gpu().limits.maxTextureDimension2D;

function acquireGrid(texels: number, label: string): GridTexture {
  const max = gpu().limits.maxTextureDimension2D, rows = Math.max(1, Math.ceil(texels / TW));
  if (rows > max) throw new Error(`${label}: ${texels} texels exceed a ${TW}x${max} texture`);
  return gpu().scratch.acquireTexture(TW, rows, label);
}
const releaseGrid = (t: GridTexture): void => gpu().scratch.releaseTexture(t);
const SLICE_VEC4 = 4096;   // 64 KB: the uniform binding size every device supports
const PX = 4, CO = 16;          // output pixels x output channels per invocation (fixed by the WGSL)
const DW_INVOCATIONS = 16384; // the weight gradient splits its reduction until it has about this many

/** How a conv's weights are cut into uniform slices: (group, output block, input block). */
export interface SlicePlan { a4: number; kc: number; nkb: number; cob: number; ncb: number; sliceFloats: number; slices: number }

/** a: channels the kernel reads per group, b: channels it writes per group. Null if a slice cannot hold one block. */
export function planSlices(taps: number, a: number, b: number, groups: number): SlicePlan | null {
  const a4 = Math.ceil(a / 4);
  const b8 = Math.ceil(b / CO) * CO;
  let kc = a4;
  let cob = Math.floor(SLICE_VEC4 / (taps * kc) / CO) * CO;
  if (cob < CO) {
    cob = CO;
    kc = Math.floor(SLICE_VEC4 / (taps * CO));
    if (kc < 1) return null;
  }
  cob = Math.min(cob, b8);
  const ncb = Math.ceil(b / cob);
  cob = Math.ceil(b / ncb / CO) * CO;     // even blocks
  const nkb = Math.ceil(a4 / kc);
  kc = Math.ceil(a4 / nkb);
  const sliceFloats = Math.ceil((taps * kc * 4 * cob) / 64) * 64;
  return { a4, kc, nkb, cob, ncb, sliceFloats, slices: groups * ncb * nkb };
}

/** v3 runs a shape if a weight slice holds one block and one sample's grids fit a texture. */
export function texSupported(g: Conv2dGeometry): boolean {
  return planSlices(g.kh * g.kw, cig(g), cog(g), g.groups) !== null && planSlices(g.kh * g.kw, cog(g), cig(g), g.groups) !== null
    && texelsPerSample(g) <= maxGridTexels();
}

export interface GridSpec { c: number; h: number; w: number; hp: number; wp: number; offh: number; offw: number; uh: number; uw: number }

// The grids of x (forward, dW), of dY zero-inserted and padded for dX, and of dY as it is.
export const fwdGrid = (g: Conv2dGeometry): GridSpec => ({ c: g.c, h: g.h, w: g.w, offh: g.ph, offw: g.pw, uh: 1, uw: 1,
  hp: (g.ho - 1) * g.sh + (g.kh - 1) * g.dh + 1, wp: (g.wo - 1) * g.sw + (g.kw - 1) * g.dw + 1 });
export const bwdGrid = (g: Conv2dGeometry): GridSpec => ({ c: g.co, h: g.ho, w: g.wo, uh: g.sh, uw: g.sw,
  offh: (g.kh - 1) * g.dh - g.ph, offw: (g.kw - 1) * g.dw - g.pw, hp: g.h + (g.kh - 1) * g.dh, wp: g.w + (g.kw - 1) * g.dw });
export const dyGrid = (g: Conv2dGeometry): GridSpec => ({ c: g.co, h: g.ho, w: g.wo, offh: 0, offw: 0, uh: 1, uw: 1, hp: g.ho, wp: g.wo });

export function gridTexels(n: number, s: GridSpec, groups: number, c4g = Math.ceil(s.c / groups / 4)): number {
  return n * s.hp * s.wp * groups * c4g;
}

/** Texels per group of x and dY for the weight gradient: whole blocks of 8 channels. */
const dyTexelsPerGroup = (g: Conv2dGeometry): number => 2 * Math.ceil(cog(g) / 8);
const xTexelsPerGroupDw = (g: Conv2dGeometry): number => 2 * Math.ceil(cig(g) / 8);

function texelsPerSample(g: Conv2dGeometry): number {
  return Math.max(gridTexels(1, fwdGrid(g), g.groups), gridTexels(1, bwdGrid(g), g.groups, dyTexelsPerGroup(g)),
    gridTexels(1, dyGrid(g), g.groups, dyTexelsPerGroup(g)), gridTexels(1, fwdGrid(g), g.groups, xTexelsPerGroupDw(g)));
}

/** Samples per chunk so that each grid fits one texture. */
export function texMaxSamples(g: Conv2dGeometry): number {
  return Math.max(1, Math.floor(maxGridTexels() / texelsPerSample(g)));
}


/** Lays a batch of NCHW activations out as a padded NHWC texel grid. */
export function packGrid(src: ChunkIO, n: number, s: GridSpec, groups: number, label: string,
  c4g = Math.ceil(s.c / groups / 4)): GridTexture {
  const cg = s.c / groups;
  const total = gridTexels(n, s, groups, c4g);
  const tex = acquireGrid(total, label);
  launch({ shader: 'conv2d_tex_pack', entry: 'conv2d_pack_v3', bindings: ['read', 'storage-texture', 'uniform'], constants: { WG } },
    [src.binding, tex.binding], packParams([
      ['u32', n], ['u32', s.c], ['u32', s.h], ['u32', s.w], ['u32', s.hp], ['u32', s.wp], ['u32', cg], ['u32', c4g],
      ['u32', groups * c4g], ['i32', s.offh], ['i32', s.offw], ['u32', s.uh], ['u32', s.uw], ['u32', src.base], ['u32', total / s.wp], ['u32', 0],
    ]), grid1d(total / s.wp, WG), `${label} pack`);
  return tex;
}

function packWeights(w: Binding, g: Conv2dGeometry, plan: SlicePlan, transposed: boolean, label: string): GPUBuffer {
  const taps = g.kh * g.kw;
  const bytes = (plan.slices - 1) * plan.sliceFloats * 4 + SLICE_VEC4 * 16;
  const buf = gpu().scratch.acquireUniform(bytes, 'conv2d weight slices');
  const perSlice = taps * plan.kc * 4 * plan.cob;
  const total = plan.slices * perSlice;
  const [a, b] = transposed ? [cog(g), cig(g)] : [cig(g), cog(g)];
  launch({ shader: 'conv2d_tex_pack', entry: 'conv2d_pack_weight_v3', bindings: ['read', 'write', 'uniform'], constants: { WG } },
    [w, buf], packParams([
      ['u32', transposed ? 1 : 0], ['u32', cig(g)], ['u32', cog(g)], ['u32', taps], ['u32', plan.cob], ['u32', plan.kc * 4],
      ['u32', plan.ncb], ['u32', plan.nkb], ['u32', plan.sliceFloats], ['u32', total], ['u32', a], ['u32', b],
    ]), grid1d(total, WG), `${label} pack weights`);
  return buf;
}

interface TexConvRun { n: number; oh: number; ow: number; sh: number; sw: number; dh: number; dw: number; dstC: number; bias: Binding | null }

/** One dispatch per weight slice of the implicit GEMM over a packed grid. */
function runTexConv(entry: string, g: Conv2dGeometry, grid: GridTexture, spec: GridSpec, gridC4g: number, wbuf: GPUBuffer,
  plan: SlicePlan, r: TexConvRun, y: ChunkIO, label: string): void {
  const tiles = Math.ceil(r.ow / PX);
  const cbs = plan.cob / CO;
  const b = r.dstC / g.groups;
  const total = tiles * cbs * r.n * r.oh;
  let s = 0;
  for (let grp = 0; grp < g.groups; grp++) {
    for (let cb = 0; cb < plan.ncb; cb++) {
      for (let kb = 0; kb < plan.nkb; kb++, s++) {
        const co0 = grp * b + cb * plan.cob;
        launch({ shader: 'conv2d_tex', entry, bindings: ['texture', 'uniform', 'read', 'write', 'uniform'], constants: { WG, HAS_BIAS: r.bias ? 1 : 0 } },
          [grid.binding, { buffer: wbuf, offset: s * plan.sliceFloats * 4, size: SLICE_VEC4 * 16 }, r.bias ?? { buffer: wbuf, offset: 0, size: 16 }, y.binding],
          packParams([
            ['u32', r.n], ['u32', r.oh], ['u32', r.ow], ['u32', tiles],
            ['u32', spec.hp], ['u32', spec.wp], ['u32', g.groups * gridC4g], ['u32', cbs],
            ['u32', g.kh], ['u32', g.kw], ['u32', r.sh], ['u32', r.sw],
            ['u32', r.dh], ['u32', r.dw], ['u32', grp * gridC4g + kb * plan.kc], ['u32', Math.min(plan.kc, plan.a4 - kb * plan.kc)],
            ['u32', co0], ['u32', Math.min(grp * b + b, co0 + plan.cob)], ['u32', r.dstC], ['u32', y.base],
            ['u32', kb > 0 ? 1 : 0], ['u32', total], ['u32', plan.cob / 4], ['u32', plan.kc],
          ]), grid1d(total, WG), label);
      }
    }
  }
}

export function fwdTex(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  const plan = planSlices(g.kh * g.kw, cig(g), cog(g), g.groups)!;
  const spec = fwdGrid(g);
  const grid = packGrid(x, g.n, spec, g.groups, label);
  const wbuf = packWeights(w, g, plan, false, label);
  runTexConv('conv2d_fwd_v3', g, grid, spec, plan.a4, wbuf, plan,
    { n: g.n, oh: g.ho, ow: g.wo, sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw, dstC: g.co, bias }, y, label);
  releaseGrid(grid);
  gpu().scratch.releaseUniform(wbuf);
}

export function bwdInputTex(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  const spec = bwdGrid(g);
  const grid = packGrid(dy, g.n, spec, g.groups, label);
  bwdInputFromGrid(g, grid, spec, Math.ceil(cog(g) / 4), w, dx, label);
  releaseGrid(grid);
}

function bwdInputFromGrid(g: Conv2dGeometry, grid: GridTexture, spec: GridSpec, gridC4g: number, w: Binding, dx: ChunkIO, label: string): void {
  const plan = planSlices(g.kh * g.kw, cog(g), cig(g), g.groups)!;
  const wbuf = packWeights(w, g, plan, true, label);
  runTexConv('conv2d_bwd_input_v3', g, grid, spec, gridC4g, wbuf, plan,
    { n: g.n, oh: g.h, ow: g.w, sh: 1, sw: 1, dh: g.dh, dw: g.dw, dstC: g.c, bias: null }, dx, label);
  gpu().scratch.releaseUniform(wbuf);
}

/** At stride 1 with padding within the kernel's reach, dX's padded dY grid also serves dW. */
export function sharedDyGrid(g: Conv2dGeometry): boolean {
  const s = bwdGrid(g);
  return g.sh === 1 && g.sw === 1 && s.offh >= 0 && s.offw >= 0;
}

/** dX and dW from one packing of dY (sharedDyGrid(g) must hold). */
export function bwdBothTex(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, w: Binding, dx: ChunkIO, dw: Binding, accumulate: boolean,
  label: string): void {
  const spec = bwdGrid(g);
  const o4g = dyTexelsPerGroup(g);
  const grid = packGrid(dy, g.n, spec, g.groups, label, o4g);
  bwdInputFromGrid(g, grid, spec, o4g, w, dx, label);
  bwdWeightTex(g, x, dy, dw, accumulate, label, { grid, spec });
  releaseGrid(grid);
}

/** Partial weight gradients over ranges of output rows, then their sum. */
export function bwdWeightTex(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string,
  packedDy?: { grid: GridTexture; spec: GridSpec }): void {
  const xs = fwdGrid(g), ys = packedDy?.spec ?? dyGrid(g);
  const c4g = xTexelsPerGroupDw(g), o4g = dyTexelsPerGroup(g), obs = o4g / 2, taps = g.kh * g.kw;
  const xgrid = packGrid(x, g.n, xs, g.groups, label, c4g);
  const ygrid = packedDy?.grid ?? packGrid(dy, g.n, ys, g.groups, label, o4g);
  const rows = g.n * g.ho;
  const base = taps * (c4g / 2) * obs * g.groups;
  const wanted = Math.min(rows, Math.max(1, Math.ceil(DW_INVOCATIONS / base)));
  const rowsPerSplit = Math.ceil(rows / wanted);
  const splits = Math.ceil(rows / rowsPerSplit);
  const wsize = g.co * cig(g) * taps;
  const pool = gpu().pool;
  const partial = pool.acquire(splits * wsize * 4, 'conv2d dw partials');
  const total = base * splits;
  launch({ shader: 'conv2d_tex_dw', entry: 'conv2d_bwd_weight_v3', bindings: ['texture', 'texture', 'write', 'uniform'], constants: { WG } },
    [xgrid.binding, ygrid.binding, partial], packParams([
      ['u32', rows], ['u32', g.ho], ['u32', g.wo], ['u32', rowsPerSplit],
      ['u32', xs.hp], ['u32', xs.wp], ['u32', g.groups * c4g], ['u32', g.groups * o4g],
      ['u32', g.kw], ['u32', taps], ['u32', g.sh], ['u32', g.sw],
      ['u32', g.dh], ['u32', g.dw], ['u32', c4g], ['u32', o4g],
      ['u32', cig(g)], ['u32', cog(g)], ['u32', g.groups], ['u32', obs],
      ['u32', total], ['u32', wsize], ['u32', 0], ['u32', 0],
      ['u32', ys.hp], ['u32', ys.wp], ['u32', ys.offh], ['u32', ys.offw],
    ]), grid1d(total, WG), label);
  releaseGrid(xgrid);
  if (!packedDy) releaseGrid(ygrid);
  reduceSplits(partial, splits, wsize, dw, accumulate, label);
  pool.release(partial);
}
