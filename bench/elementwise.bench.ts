// Elementwise and reduction kernels at ResNeSt-50 layer1 activation size (batch 8, 256 x 56 x 56 -> scaled 1/2 spatially).
import type { BenchCase } from './harness.ts';
import { Tensor } from '../src/index.ts';
import { elementwiseBinary, elementwiseUnary, elementwiseReluBackward, binaryCpu, reduceSum, sumCpu } from '../src/kernels.ts';

function sampleCheck(got: Float32Array, want: (i: number) => number, what: string): void {
  for (let i = 0; i < got.length; i += Math.max(1, Math.floor(got.length / 4096))) {
    const w = want(i);
    if (Math.abs(got[i] - w) > 1e-5 + 1e-5 * Math.abs(w)) throw new Error(`${what}[${i}] = ${got[i]}, want ${w}`);
  }
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const shape = opts.quick ? [8, 256, 14, 14] : [8, 256, 28, 28];
  const n = shape.reduce((a, b) => a * b, 1);
  const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  const ta = Tensor.fromArray(a, shape), tb = Tensor.fromArray(b, shape);
  const out = Tensor.empty(shape, 'bench out'), scalar = Tensor.empty([], 'bench sum');
  const tag = `[${shape}]`;
  let users = 4;
  const dispose = () => { if (--users === 0) for (const t of [ta, tb, out, scalar]) t.dispose(); };
  return [
    { family: 'elementwise', name: `add ${tag} (layer1 256ch, 1/2 spatial)`, bytes: 3 * 4 * n, dispose,
      record: () => elementwiseBinary('add', ta.binding, tb.binding, out.binding, n, `add ${tag}`),
      validate: async () => { elementwiseBinary('add', ta.binding, tb.binding, out.binding, n, `add ${tag}`); const ref = binaryCpu('add', a, b); sampleCheck(await out.toArray(), (i) => ref[i], 'add'); } },
    { family: 'elementwise', name: `relu ${tag}`, bytes: 2 * 4 * n, dispose,
      record: () => elementwiseUnary('relu', ta.binding, out.binding, n, `relu ${tag}`),
      validate: async () => { elementwiseUnary('relu', ta.binding, out.binding, n, `relu ${tag}`); sampleCheck(await out.toArray(), (i) => Math.max(a[i], 0), 'relu'); } },
    { family: 'elementwise', name: `relu backward ${tag}`, bytes: 3 * 4 * n, dispose,
      record: () => elementwiseReluBackward(ta.binding, tb.binding, out.binding, n, `relu bwd ${tag}`) },
    { family: 'reduce', name: `sum ${tag}`, bytes: 4 * n, dispose,
      record: () => reduceSum(ta.binding, scalar.binding, n, 1, `sum ${tag}`),
      validate: async () => { reduceSum(ta.binding, scalar.binding, n, 1, `sum ${tag}`); const got = await scalar.item(), want = sumCpu(a); if (Math.abs(got - want) > 1e-2 + 1e-5 * Math.abs(want)) throw new Error(`sum ${got} vs ${want}`); } },
  ];
}
