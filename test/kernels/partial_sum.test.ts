// The one sum-of-partials kernel, in the three layouts the families use, against its f64
// reference: interleaved blocks (conv2d dW splits, the full reduction's passes), contiguous runs
// (split attention), and strided slots (chunk sums of the full reduction), with scale,
// accumulate and a ragged tail, interleaved blocks also on the vec4 entry point.
import { suite } from 'uvu';
import { Tensor } from '../../src/tensor.ts';
import { partialSumCpu, partialSum, type PartialSumShape } from '../../kernels/partial_sum.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const s = suite('kernels: partial_sum');
s.before(setupGpu);

// each output adds at most T = 300 values of magnitude <= 1 in f32: error <= T * 2^-24 * sum |x|
const tolFor = (T: number) => ({ atol: T * 6e-8 * T, rtol: 1e-6 });

const cases: [string, PartialSumShape, { scale?: number; accumulate?: boolean }][] = [
  ['interleaved blocks (conv2d dW splits), accumulate', { count: 37, T: 5, si: 1, st: 37, n: 5 * 37 }, { accumulate: true }],
  ['interleaved with a ragged tail (full reduction pass)', { count: 16, T: 64, si: 1, st: 16, n: 1001 }, { scale: 0.5 }],
  ['contiguous runs (split attention), odd T', { count: 24, T: 7, si: 7, st: 1, n: 24 * 7 }, { scale: 1 / 9 }],
  ['strided slots (chunk sums)', { count: 1, T: 11, si: 0, st: 64, n: 11 * 64 }, {}],
  ['long runs', { count: 3, T: 300, si: 300, st: 1, n: 900 }, {}],
  // count, ST and n multiples of 4 with SI = 1: the vec4 entry point, 4 outputs an invocation
  ['interleaved blocks as vec4s, accumulate', { count: 36, T: 5, si: 1, st: 36, n: 5 * 36 }, { accumulate: true }],
  ['interleaved as vec4s with a ragged tail', { count: 16, T: 64, si: 1, st: 16, n: 1000 }, { scale: 0.5 }],
];

for (const [name, shape, o] of cases) {
  s(`${name}: matches the f64 reference`, async () => {
    const parts = randomArray(shape.n, shape.count + shape.T), prior = randomArray(shape.count, 5);
    const tp = Tensor.fromArray(parts, [shape.n]), out = Tensor.fromArray(prior, [shape.count]);
    partialSum(tp.binding, out.binding, shape, `partial sum ${name}`, o);
    assertClose(await out.toArray(), partialSumCpu(parts, shape, o, prior), tolFor(shape.T), name);
    tp.dispose(); out.dispose();
  });
}

s('bad shapes are refused before recording, naming the op', () => {
  const t = Tensor.zeros([4]);
  assertThrowsWith(() => partialSum(t.binding, t.binding, { count: 1, T: -1, si: 1, st: 1, n: 4 }, 'my sum'), /my sum/, /T must be a u32/);
  t.dispose();
});

s.run();
