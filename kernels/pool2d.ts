// Host half of shaders/pool2d_{fwd,bwd,adaptive}.wgsl: max / average pooling with PyTorch's windows, adaptive and
// global average pooling; forward and backward. f64 references: kernels/pool2d.ref.ts.
// Test: npm test -- pool2d. Bench: bench/pool2d.bench.ts.
//
// Versions (docs/kernels/pool2d.md):
//   v1  scalar: one output (forward) or input element (backward) per thread, any shape
//   v2  W % 4 == 0: 4 outputs per thread sharing aligned vec4 loads of each window row;
//       backward: 4 input columns per thread and a vec4 store; global average: vec4 loads
//       (H*W % 4 == 0). The default wherever it applies.
// Each pass (fwd, bwd, global_fwd, global_bwd) chooses separately (pool2d_<pass> for setKernelVersion).
// The window (kernel, stride, padding, dilation) is compiled into the pipeline as override
// constants; a model uses a handful of windows, so a handful of pipelines.
// Every pass is per sample: tensors over one storage binding run in batch chunks
// (kernels/chunking.ts), the same kernels on each chunk's sub-ranges.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { batchChunks } from './chunking.ts';
import { chooseVersion, type KernelFamily } from './versions.ts';
import type { AvgPoolMode, Pool2dShape } from './pool2d.ref.ts';

export * from './pool2d.ref.ts';

export const POOL_WG = 64;
const MAX_SPAN_VEC4 = 8; // MAXV in the shader

export type Pool2dPass = 'fwd' | 'bwd' | 'global_fwd' | 'global_bwd';

const floorDiv = (a: number, b: number) => Math.floor(a / b);

/** vec4s one window row spans for 4 neighbouring outputs (NV in the shader). */
function spanVec4(g: Pool2dShape): number {
  const off = (4 - (g.pw % 4)) % 4;
  return floorDiv(off + 3 * g.sw + (g.kw - 1) * g.dw, 4) + 1;
}

/** Block geometry of the v2 backward (FH ... NVO in the shader). */
function bwdBlock(g: Pool2dShape): Record<string, number> {
  const FH = -floorDiv(-(g.ph - (g.kh - 1) * g.dh), g.sh);
  const FW = -floorDiv(-(g.pw - (g.kw - 1) * g.dw), g.sw);
  const NOWC = floorDiv(4 * g.sw - 1 + g.pw, g.sw) - FW + 1;
  const QOFF = floorDiv(FW, 4), OFFO = FW - 4 * QOFF;
  return { FH, FW, NOHB: floorDiv(g.sh - 1 + g.ph, g.sh) - FH + 1, NOWC, QOFF, OFFO, NVO: floorDiv(OFFO + NOWC - 1, 4) + 1 };
}

/** v2 where it applies: W % 4 == 0 and a window row of at most 4 * MAX_SPAN_VEC4 columns; backward strides of at most 2 (its block registers). */
function vec4Supported(s: Pool2dShape, pass: string): boolean {
  if (pass === 'global_fwd' || pass === 'global_bwd') return (s.H * s.W) % 4 === 0;
  if (s.W % 4 !== 0) return false;
  if (pass === 'fwd') return spanVec4(s) <= MAX_SPAN_VEC4;
  return s.sh <= 2 && s.sw <= 2 && bwdBlock(s).NVO <= 4;
}

export const pool2dFamily: KernelFamily<Pool2dShape> = {
  name: 'pool2d',
  ops: ['fwd', 'bwd', 'global_fwd', 'global_bwd'],
  versions: {
    v1: { about: 'scalar: one output (forward) or input element (backward) per thread, any shape', supports: () => true },
    v2: { about: '4 outputs (backward: 4 input columns) per thread on aligned vec4 loads and stores', supports: (s, _adapter, pass) => vec4Supported(s, pass) },
  },
  defaultChoice: (_op, _s, _a, usable) => (usable.includes('v2') ? 'v2' : 'v1'),
  shapeKey: (s) => `[${s.N},${s.C},${s.H},${s.W}] k${s.kh}x${s.kw} s${s.sh}x${s.sw} p${s.ph}x${s.pw} d${s.dh}x${s.dw}`,
};

/** The version of a pass on a window: requested (it must run it), forced where it runs, or the default. */
export function pool2dVersion(s: Pool2dShape, pass: Pool2dPass = 'fwd', requested?: string): string {
  return chooseVersion(pool2dFamily, pass, s, requested).version;
}

function windowConstants(g: Pool2dShape, blockBwd = false): Record<string, number> {
  const c = { WG: POOL_WG, KH: g.kh, KW: g.kw, SH: g.sh, SW: g.sw, PH: g.ph, PW: g.pw, DH: g.dh, DW: g.dw };
  return blockBwd ? { ...c, ...bwdBlock(g) } : c;
}

function params(g: Pool2dShape, threads: number, mode: AvgPoolMode | null, units = 0): ArrayBuffer {
  return packParams([['i32', g.H], ['i32', g.W], ['i32', g.OH], ['i32', g.OW], ['i32', g.N * g.C], ['u32', threads],
    ['u32', mode?.countIncludePad ? 1 : 0], ['f32', mode?.divisorOverride ?? 0], ['f32', -Infinity], ['i32', units], ['u32', 0], ['u32', 0]]);
}

const inPlane = (g: Pool2dShape) => g.C * g.H * g.W;
const outPlane = (g: Pool2dShape) => g.C * g.OH * g.OW;

/** max: `arg` is the saved indices (batched like y); avg: an unused scratch buffer. */
function forward(kind: 'max' | 'avg', x: Binding, y: Binding, arg: Binding, g: Pool2dShape, mode: AvgPoolMode | null,
  version: string, label: string): void {
  version = pool2dVersion(g, 'fwd', version);
  const xs = inPlane(g), ys = outPlane(g);
  for (const ch of batchChunks(label, g.N, [[x, xs], [y, ys], ...(kind === 'max' ? [[arg, ys] as const] : [])])) {
    const cg = { ...g, N: ch.count };
    const units = version === 'v2' ? Math.ceil(g.OW / 4) : g.OW, threads = cg.N * g.C * g.OH * units;
    launch({ shader: 'pool2d_fwd', entry: `pool2d_${kind}_fwd_${version}`, bindings: ['read', 'write', 'write', 'uniform'], constants: windowConstants(g) },
      [ch.of(x, xs), ch.of(y, ys), kind === 'max' ? ch.of(arg, ys) : arg], params(cg, threads, mode, units), grid1d(threads, POOL_WG), label);
  }
}

/** max: `arg` is the saved indices; avg: dy again (unread). */
function backward(kind: 'max' | 'avg', dy: Binding, arg: Binding, dx: Binding, g: Pool2dShape, mode: AvgPoolMode | null,
  version: string, label: string): void {
  version = pool2dVersion(g, 'bwd', version);
  const xs = inPlane(g), ys = outPlane(g);
  for (const ch of batchChunks(label, g.N, [[dy, ys], [arg, ys], [dx, xs]])) {
    const cg = { ...g, N: ch.count };
    const threads = version === 'v2' ? cg.N * g.C * Math.ceil(g.H / g.sh) * Math.ceil(g.W / (4 * g.sw)) : cg.N * g.C * g.H * g.W;
    launch({ shader: 'pool2d_bwd', entry: `pool2d_${kind}_bwd_${version}`, bindings: ['read', 'read', 'write', 'uniform'], constants: windowConstants(g, version === 'v2') },
      [ch.of(dy, ys), ch.of(arg, ys), ch.of(dx, xs)], params(cg, threads, mode), grid1d(threads, POOL_WG), label);
  }
}

/** y and argmax (i32 index ih*W + iw within the plane, one per output). */
export function maxPool2dForward(x: Binding, y: Binding, argmax: Binding, g: Pool2dShape, version: string, label: string): void {
  forward('max', x, y, argmax, g, null, version, label);
}

export function maxPool2dBackward(dy: Binding, argmax: Binding, dx: Binding, g: Pool2dShape, version: string, label: string): void {
  backward('max', dy, argmax, dx, g, null, version, label);
}

/** `scratch`: any writable buffer not bound elsewhere (the max entries' index output, unused here). */
export function avgPool2dForward(x: Binding, y: Binding, scratch: Binding, g: Pool2dShape, mode: AvgPoolMode,
  version: string, label: string): void {
  forward('avg', x, y, scratch, g, mode, version, label);
}

export function avgPool2dBackward(dy: Binding, dx: Binding, g: Pool2dShape, mode: AvgPoolMode, version: string, label: string): void {
  backward('avg', dy, dy, dx, g, mode, version, label);
}

function adaptiveShape(shape: readonly number[], OH: number, OW: number): Pool2dShape {
  const [N, C, H, W] = shape;
  return { N, C, H, W, OH, OW, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
}

/** x [N,C,H,W] -> y [N,C,OH,OW]; a 1x1 output takes the global path (one thread per plane, vec4 when H*W % 4 == 0). */
export function adaptiveAvgPool2dForward(x: Binding, y: Binding, shape: readonly number[], OH: number, OW: number, label: string,
  version?: string): void {
  const full = adaptiveShape(shape, OH, OW);
  const xs = inPlane(full), ys = outPlane(full);
  const chunks = batchChunks(label, full.N, [[x, xs], [y, ys]]);
  if (chunks.length > 1) {
    for (const ch of chunks) adaptiveAvgPool2dForward(ch.of(x, xs), ch.of(y, ys), [ch.count, ...shape.slice(1)], OH, OW, label, version);
    return;
  }
  const g = full;
  const constants = { WG: POOL_WG };
  if (OH === 1 && OW === 1) {
    const planes = g.N * g.C, v = pool2dVersion(g, 'global_fwd', version);
    launch({ shader: 'pool2d_adaptive', entry: `pool2d_global_avg_fwd_${v}`, bindings: ['read', 'write', 'uniform'], constants },
      [x, y], params(g, planes, null), grid1d(planes, POOL_WG), label);
    return;
  }
  const threads = g.N * g.C * OH * OW;
  launch({ shader: 'pool2d_adaptive', entry: 'pool2d_adaptive_avg_fwd', bindings: ['read', 'write', 'uniform'], constants },
    [x, y], params(g, threads, null), grid1d(threads, POOL_WG), label);
}

export function adaptiveAvgPool2dBackward(dy: Binding, dx: Binding, shape: readonly number[], OH: number, OW: number, label: string,
  version?: string): void {
  const full = adaptiveShape(shape, OH, OW);
  const xs = inPlane(full), ys = outPlane(full);
  const chunks = batchChunks(label, full.N, [[dy, ys], [dx, xs]]);
  if (chunks.length > 1) {
    for (const ch of chunks) adaptiveAvgPool2dBackward(ch.of(dy, ys), ch.of(dx, xs), [ch.count, ...shape.slice(1)], OH, OW, label, version);
    return;
  }
  const g = full;
  const constants = { WG: POOL_WG };
  const n = g.N * g.C * g.H * g.W;
  if (OH === 1 && OW === 1) {
    const v = pool2dVersion(g, 'global_bwd', version), perPlane = v === 'v2' ? (g.H * g.W) / 4 : g.H * g.W;
    const planes = g.N * g.C, maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
    launch({ shader: 'pool2d_adaptive', entry: `pool2d_global_avg_bwd_${v}`, bindings: ['read', 'write', 'uniform'], constants },
      [dy, dx], params(g, 0, null), [Math.ceil(perPlane / (4 * POOL_WG)), Math.min(planes, maxDim), Math.ceil(planes / maxDim)], label);
    return;
  }
  launch({ shader: 'pool2d_adaptive', entry: 'pool2d_adaptive_avg_bwd', bindings: ['read', 'write', 'uniform'], constants },
    [dy, dx], params(g, n, null), grid1d(n, POOL_WG), label);
}
