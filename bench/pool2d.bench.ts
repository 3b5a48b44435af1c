// Pooling at the ResNeSt-50 shapes around layer1, batch 8 (quick: half the spatial size):
//   stem max pool 3x3/s2/p1   x[8,64,112,112] -> layer1's input [8,64,56,56]
//   avd avg pool 3x3/s2/p1    x[8,128,56,56] (layer2.0 after its split-attention conv), count_include_pad
//   avg-down 2x2/s2 ceil      x[8,256,56,56] (layer1's output into layer2.0's shortcut), count_include_pad=False
//   global average            x[8,64,56,56] -> [8,64,1,1] (layer1's split attention)
// Bytes: every tensor read or written once (input, output, and the max pool's saved indices).
import type { BenchCase } from './harness.ts';
import { Tensor } from '../src/index.ts';
import {
  adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, avgPool2dBackward, avgPool2dFwdCpu, avgPool2dForward,
  maxPool2dBackward, maxPool2dFwdCpu, maxPool2dForward, poolOutputSize, type AvgPoolMode, type Pool2dShape,
} from '../src/kernels.ts';

function geometry(shape: number[], k: number, s: number, p: number, ceil: boolean): Pool2dShape {
  const [N, C, H, W] = shape;
  return { N, C, H, W, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: 1, dw: 1,
    OH: poolOutputSize(H, k, p, s, 1, ceil), OW: poolOutputSize(W, k, p, s, 1, ceil) };
}

function sampleCheck(got: Float32Array, want: ArrayLike<number>, what: string): void {
  for (let i = 0; i < got.length; i += 61) {
    if (Math.abs(got[i] - want[i]) > 1e-5 + 1e-4 * Math.abs(want[i])) throw new Error(`${what}[${i}] = ${got[i]}, want ${want[i]}`);
  }
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const scale = opts.quick ? 2 : 1;
  const out: BenchCase[] = [];
  const tensors: Tensor[] = [];
  let users = 0;
  const dispose = () => { if (--users === 0) for (const t of tensors) t.dispose(); };
  const add = (c: Omit<BenchCase, 'family' | 'dispose'>) => { users++; out.push({ family: 'pool2d', dispose, ...c }); };
  const make = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.61) + 0.25 * Math.cos(i * 0.013));
    const t = Tensor.fromArray(data, shape);
    tensors.push(t);
    return { t, data, n };
  };
  const empty = (shape: number[]) => { const t = Tensor.empty(shape, 'bench'); tensors.push(t); return t; };

  { // stem max pool
    const shape = [8, 64, 112 / scale, 112 / scale], g = geometry(shape, 3, 2, 1, false);
    const x = make(shape), oshape = [g.N, g.C, g.OH, g.OW], m = g.N * g.C * g.OH * g.OW;
    const y = empty(oshape), arg = empty(oshape), dy = make(oshape), dx = empty(shape);
    const tag = `3x3/s2/p1 x[${shape}]`;
    for (const v of ['v2', 'v1']) {
      const fwd = () => maxPool2dForward(x.t.binding, y.binding, arg.binding, g, v, `maxpool ${tag}`);
      add({ name: `max fwd ${tag} ${v}`, version: v, bytes: 4 * (x.n + 2 * m), record: fwd,
        validate: async () => { fwd(); sampleCheck(await y.toArray(), maxPool2dFwdCpu(x.data, g).y, 'y'); } });
      add({ name: `max bwd ${tag} ${v}`, version: v, bytes: 4 * (x.n + 2 * m), record: () => maxPool2dBackward(dy.t.binding, arg.binding, dx.binding, g, v, `maxpool bwd ${tag}`) });
    }
  }
  for (const [shape, k, p, ceil, mode, what] of [
    [[8, 128, 56 / scale, 56 / scale], 3, 1, false, { countIncludePad: true }, 'avd 3x3/s2/p1'],
    [[8, 256, 56 / scale, 56 / scale], 2, 0, true, { countIncludePad: false }, 'avg-down 2x2/s2 ceil exclude-pad'],
  ] as [number[], number, number, boolean, AvgPoolMode, string][]) {
    const g = geometry(shape, k, 2, p, ceil);
    const x = make(shape), oshape = [g.N, g.C, g.OH, g.OW], m = g.N * g.C * g.OH * g.OW;
    const y = empty(oshape), scratch = empty([4]), dy = make(oshape), dx = empty(shape);
    const tag = `${what} x[${shape}]`;
    for (const v of ['v2', 'v1']) {
      const fwd = () => avgPool2dForward(x.t.binding, y.binding, scratch.binding, g, mode, v, `avgpool ${tag}`);
      add({ name: `avg fwd ${tag} ${v}`, version: v, bytes: 4 * (x.n + m), record: fwd,
        validate: async () => { fwd(); sampleCheck(await y.toArray(), avgPool2dFwdCpu(x.data, g, mode), 'y'); } });
      add({ name: `avg bwd ${tag} ${v}`, version: v, bytes: 4 * (x.n + m), record: () => avgPool2dBackward(dy.t.binding, dx.binding, g, mode, v, `avgpool bwd ${tag}`) });
    }
  }
  { // global average
    const shape = [8, 64, 56 / scale, 56 / scale];
    const x = make(shape), y = empty([8, 64, 1, 1]), dy = make([8, 64, 1, 1]), dx = empty(shape);
    for (const v of ['v2', 'v1']) {
      add({ name: `global avg fwd x[${shape}] ${v}`, version: v, bytes: 4 * x.n, record: () => adaptiveAvgPool2dForward(x.t.binding, y.binding, shape, 1, 1, 'gap', v) });
      add({ name: `global avg bwd x[${shape}] ${v}`, version: v, bytes: 4 * x.n, record: () => adaptiveAvgPool2dBackward(dy.t.binding, dx.binding, shape, 1, 1, 'gap bwd', v) });
    }
  }
  return out;
}
