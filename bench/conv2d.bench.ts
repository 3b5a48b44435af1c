// conv2d: every distinct convolution shape of ResNeSt-50 at batch 8, forward, dX, dW and all
// three together, with the version this adapter runs untuned; each version separately at
// layer1's split-attention conv, and on CPU adapters v3 beside the default at every shape; peers side by side: tfjs-webgpu on the same adapter
// (grouped conv by split/concat), PyTorch CPU (2 threads) when /usr/bin/python3 has torch,
// and the matmul kernel for 1x1 convolutions.
// Scale: input 224 x 224 (ResNeSt's native size, scale 1: layer1 at 56 x 56); --quick: 112
// and only a few shapes. At scale 1 each case takes 0.02-0.6 s per repetition here.
// CONV2D_BENCH_SHAPES=layer1.0.conv2.conv,conv1.0 limits the run to those layers.
import { execFileSync } from 'node:child_process';
import type { BenchCase } from './harness.ts';
import { F, gpu, Tensor, timeGpu } from '../src/index.ts';
import { tfjsConvPeer, type TfConvPeer } from './peers/tfjs.ts';
import {
  conv2dBackward, conv2dBackwardInput, conv2dBackwardWeight, conv2dBwdInputAt, conv2dBwdWeightAt, conv2dForward,
  conv2dFwdAt, conv2dMacs, conv2dVersion, conv2dVersions, type Conv2dGeometry, matmulForward, matmulVersion,
  type MatmulOptions, runs,
} from '../src/kernels.ts';

interface Shape { name: string; c: number; co: number; k: number; s: number; p: number; groups: number; h: number; bias: boolean }

/** Distinct convolutions of ResNeSt-50 (deep stem, radix 2, avd) for a square input of side `size`. */
export function resnest50Convs(size: number): Shape[] {
  const out = new Map<string, Shape>();
  const add = (name: string, c: number, co: number, k: number, s: number, p: number, groups: number, h: number, bias = false) => {
    const key = [c, co, k, s, p, groups, h, bias].join(',');
    if (!out.has(key)) out.set(key, { name, c, co, k, s, p, groups, h, bias });
  };
  const half = (h: number) => Math.floor((h + 2 - 3) / 2) + 1;
  let h = size;
  add('conv1.0', 3, 32, 3, 2, 1, 1, h); h = half(h);
  add('conv1.3', 32, 32, 3, 1, 1, 1, h);
  add('conv1.6', 32, 64, 3, 1, 1, 1, h);
  h = half(h); // max pool
  let inC = 64;
  [[64, 3], [128, 4], [256, 6], [512, 3]].forEach(([planes, blocks], li) => {
    for (let b = 0; b < blocks; b++) {
      const p = `layer${li + 1}.${b}`;
      add(`${p}.conv1`, inC, planes, 1, 1, 0, 1, h);
      add(`${p}.conv2.conv`, planes, 2 * planes, 3, 1, 1, 2, h);
      add(`${p}.conv2.fc1`, planes, Math.max(planes / 2, 32), 1, 1, 0, 1, 1, true);
      add(`${p}.conv2.fc2`, Math.max(planes / 2, 32), 2 * planes, 1, 1, 0, 1, 1, true);
      const ho = li > 0 && b === 0 ? half(h) : h; // avd pool after conv2 in the first block of layers 2-4
      add(`${p}.conv3`, planes, 4 * planes, 1, 1, 0, 1, ho);
      if (b === 0) add(`${p}.downsample.1`, inC, 4 * planes, 1, 1, 0, 1, ho);
      h = ho;
      inC = 4 * planes;
    }
  });
  return [...out.values()];
}

const fill = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 0.9);

type Op = 'fwd' | 'dX' | 'dW' | 'fwd+dX+dW';

interface Data { x: Float32Array; w: Float32Array; dy: Float32Array; t: Tensor[] }

function makeData(g: Conv2dGeometry): Data {
  const x = fill(g.n * g.c * g.h * g.w, 1), w = fill(g.co * (g.c / g.groups) * g.kh * g.kw, 2), dy = fill(g.n * g.co * g.ho * g.wo, 3);
  return { x, w, dy, t: [Tensor.fromArray(x, [g.n, g.c, g.h, g.w]), Tensor.fromArray(w, [g.co, g.c / g.groups, g.kh, g.kw]),
    Tensor.fromArray(dy, [g.n, g.co, g.ho, g.wo]), Tensor.empty([g.n, g.co, g.ho, g.wo], 'y'), Tensor.empty([g.n, g.c, g.h, g.w], 'dx'),
    Tensor.empty([g.co, g.c / g.groups, g.kh, g.kw], 'dw')] };
}

/** Compares 48 sampled values with the f64 reference; the tolerance grows with the sum's length. */
function checkSampled(what: string, got: Float32Array, at: (i: number) => number, terms: number): void {
  for (let s = 0; s < 48; s++) {
    const i = Math.floor(((s * 2654435761) % 4294967296) / 4294967296 * got.length);
    const want = at(i);
    if (Math.abs(got[i] - want) > 1e-4 + 2e-6 * terms + 1e-4 * Math.abs(want)) throw new Error(`${what}[${i}] = ${got[i]}, want ${want}`);
  }
}

const torchCache = new Map<string, Promise<Record<string, number>> | null>();
let torchAvailable: boolean | null = null;

function torchPeer(sh: Shape, g: Conv2dGeometry, op: 'fwd' | 'dx' | 'dw' | 'train'): { name: string; run: () => Promise<number> } | null {
  if (torchAvailable === null) {
    try { execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }); torchAvailable = true; } catch { torchAvailable = false; }
  }
  if (!torchAvailable) return null;
  const key = JSON.stringify({ n: g.n, c: g.c, h: g.h, w: g.w, co: g.co, kh: g.kh, kw: g.kw, stride: sh.s, padding: sh.p, dilation: 1, groups: g.groups, bias: false });
  return {
    name: 'torch-cpu',
    run: async () => {
      let p = torchCache.get(key);
      if (!p) {
        p = (async () => {
          const script = new URL('./peers/torch_conv.py', import.meta.url).pathname;
          const out = execFileSync('/usr/bin/python3', [script, JSON.stringify({ repeats: 3, shapes: [JSON.parse(key)] })], { encoding: 'utf8' });
          return (JSON.parse(out) as { results: Record<string, number>[] }).results[0];
        })();
        torchCache.set(key, p);
      }
      return (await p)[op];
    },
  };
}

let tfjsFor: { key: string; peer: Promise<TfConvPeer> } | null = null;

function tfjsPeer(g: Conv2dGeometry, sh: Shape, which: 'fwd' | 'train'): { name: string; run: () => Promise<number> } {
  const key = `${g.n},${g.c},${g.h},${g.co},${g.kh},${sh.s},${sh.p},${g.groups}`;
  return {
    name: 'tfjs-webgpu',
    run: async () => {
      if (tfjsFor?.key !== key) {
        if (tfjsFor) (await tfjsFor.peer).dispose();
        tfjsFor = { key, peer: tfjsConvPeer({ n: g.n, c: g.c, h: g.h, w: g.w, co: g.co, kh: g.kh, kw: g.kw, stride: sh.s, padding: sh.p, dilation: 1, groups: g.groups }) };
      }
      const peer = await tfjsFor.peer;
      return which === 'fwd' ? peer.fwd() : peer.train();
    },
  };
}

/** 1x1, stride 1, one group: y[n] = W [Co, C] x X[n] [C, H*W], the matmul kernel's batched GEMM. */
function matmulPeer(g: Conv2dGeometry, d: () => Data): { name: string; run: () => Promise<number> } | null {
  if (g.kh !== 1 || g.kw !== 1 || g.sh !== 1 || g.sw !== 1 || g.ph !== 0 || g.groups !== 1) return null;
  const hw = g.h * g.w;
  const o: MatmulOptions = { M: g.co, N: hw, K: g.c, batch: g.n, strideA: 0, strideB: g.c * hw, strideOut: g.co * hw };
  const version = matmulVersion(o);
  return {
    name: `matmul ${version}`,
    run: async () => {
      const [x, w, , y] = d().t;
      const rec = () => matmulForward(w.binding, x.binding, y.binding, { ...o, version }, `1x1 as matmul ${g.co}x${g.c}x${hw}`);
      rec();
      await gpu().recorder.sync();
      return Math.min(...(await timeGpu(rec, 3)).ms);
    },
  };
}

function convCase(sh: Shape, g: Conv2dGeometry, op: Op, forced?: string): BenchCase {
  let data: Data | null = null;
  const d = () => (data ??= makeData(g));
  const v = (o: 'fwd' | 'bwd_input' | 'bwd_weight') => forced ?? conv2dVersion(o, g);
  const macs = conv2dMacs(g);
  const shapeName = `${sh.name} ${g.c}->${g.co} ${g.kh}x${g.kw}${sh.s > 1 ? ` s${sh.s}` : ''}${g.groups > 1 ? ` g${g.groups}` : ''} @${g.h}`;
  const versionsUsed = op === 'fwd' ? v('fwd') : op === 'dX' ? v('bwd_input') : op === 'dW' ? v('bwd_weight')
    : [...new Set([v('fwd'), v('bwd_input'), v('bwd_weight')])].join('/');
  const record = () => {
    const [x, w, dy, y, dx, dw] = d().t;
    if (op === 'fwd' || op === 'fwd+dX+dW') conv2dForward(g, x.binding, w.binding, null, y.binding, { version: v('fwd') });
    if (op === 'dX') conv2dBackwardInput(g, dy.binding, w.binding, dx.binding, { version: v('bwd_input') });
    if (op === 'dW') conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version: v('bwd_weight') });
    if (op === 'fwd+dX+dW') { // as F.conv2d's backward runs them
      conv2dBackward(g, x.binding, w.binding, dy.binding, dx.binding, dw.binding, { inputVersion: v('bwd_input'), weightVersion: v('bwd_weight') });
    }
  };
  const peers: { name: string; run: () => Promise<number> }[] = [];
  const torchOp = ({ fwd: 'fwd', dX: 'dx', dW: 'dw', 'fwd+dX+dW': 'train' } as const)[op];
  if (!forced) {
    if (op === 'fwd' || op === 'fwd+dX+dW') peers.push(tfjsPeer(g, sh, op === 'fwd' ? 'fwd' : 'train'));
    const t = torchPeer(sh, g, torchOp);
    if (t) peers.push(t);
    const m = op === 'fwd' ? matmulPeer(g, d) : null;
    if (m) peers.push(m);
  }
  return {
    family: 'conv2d',
    name: `${shapeName} ${op} ${versionsUsed}`,
    version: versionsUsed,
    flops: 2 * macs * (op === 'fwd+dX+dW' ? 3 : 1),
    record,
    validate: async () => {
      record();
      const [, , , y, dx, dw] = d().t;
      const { x, w, dy } = d();
      if (op === 'fwd' || op === 'fwd+dX+dW') checkSampled('y', await y.toArray(), (i) => conv2dFwdAt(g, x, w, i), macs / (g.n * g.co * g.ho * g.wo));
      if (op === 'dX' || op === 'fwd+dX+dW') checkSampled('dx', await dx.toArray(), (i) => conv2dBwdInputAt(g, dy, w, i), macs / (g.n * g.c * g.h * g.w));
      if (op === 'dW' || op === 'fwd+dX+dW') checkSampled('dw', await dw.toArray(), (i) => conv2dBwdWeightAt(g, x, dy, i), g.n * g.ho * g.wo);
    },
    dispose: () => { for (const t of data?.t ?? []) t.dispose(); data = null; },
    peers,
  };
}

/** The kernel pass each single-pass case times. */
const PASS_OF = { fwd: 'fwd', dX: 'bwd_input', dW: 'bwd_weight' } as const;

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const size = opts.quick ? 112 : 224, batch = 8;
  let shapes = resnest50Convs(size);
  const only = process.env.CONV2D_BENCH_SHAPES?.split(',');
  if (only) shapes = shapes.filter((s) => only.includes(s.name));
  else if (opts.quick) shapes = shapes.filter((s) => ['conv1.0', 'layer1.0.conv1', 'layer1.0.conv2.conv', 'layer1.0.conv3', 'layer3.1.conv2.conv'].includes(s.name));
  const list: BenchCase[] = [];
  const geometry = (s: Shape) => F.conv2dGeometry([batch, s.c, s.h, s.h], [s.co, s.c / s.groups, s.k, s.k], null,
    { stride: s.s, padding: s.p, groups: s.groups });
  for (const s of shapes) {
    const g = geometry(s);
    for (const op of ['fwd', 'dX', 'dW', 'fwd+dX+dW'] as const) list.push(convCase(s, g, op));
    // v8's pointwise weight gradient beside v7's own, in the same run
    if (conv2dVersion('bwd_weight', g) === 'v8' && runs(conv2dVersions.v7, g, gpu().adapter, 'bwd_weight')) list.push(convCase(s, g, 'dW', 'v7'));
    // Winograd (v9) and v7's direct sums beside each other where v9 runs, whichever is not the default
    for (const op of ['fwd', 'dX', 'dW'] as const) {
      const o = PASS_OF[op], other = conv2dVersion(o, g) === 'v9' ? 'v7' : 'v9';
      if (op === 'dW' && conv2dVersion(o, g) === 'v8') continue; // v7 is beside it already
      if (conv2dVersion(o, g) !== other && runs(conv2dVersions.v9, g, gpu().adapter, o) && runs(conv2dVersions[other], g, gpu().adapter, o)) list.push(convCase(s, g, op, other));
    }
    // on CPU adapters, v3 (the version before v7) beside the default, pass by pass, in the same run
    // (layer1's split-attention conv has every version below)
    if (!gpu().adapter.software || s.name === 'layer1.0.conv2.conv' || !runs(conv2dVersions.v3, g, gpu().adapter, 'fwd')) continue;
    for (const op of ['fwd', 'dX', 'dW'] as const) if (conv2dVersion(PASS_OF[op], g) !== 'v3') list.push(convCase(s, g, op, 'v3'));
  }
  // every version at layer1's split-attention conv (v1 takes seconds per repetition: full runs only)
  const l1 = shapes.find((s) => s.name === 'layer1.0.conv2.conv');
  if (!l1) return list;
  for (const version of Object.keys(conv2dVersions)) {
    if (opts.quick && version === 'v1') continue;
    if (!runs(conv2dVersions[version], geometry(l1), gpu().adapter, 'fwd')) continue; // v4 runs only 1x1 convolutions of 1x1 maps
    for (const op of ['fwd', 'dX', 'dW'] as const) list.push(convCase(l1, geometry(l1), op, version));
  }
  return list;
}
