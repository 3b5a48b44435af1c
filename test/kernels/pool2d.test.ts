import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import {
  adaptiveAvgPool2dBwdCpu, adaptiveAvgPool2dFwdCpu, avgPool2dBwdCpu, avgPool2dFwdCpu, avgPool2dForward, maxPool2dBwdCpu,
  maxPool2dFwdCpu, maxPool2dForward, poolOutputSize, type Pool2dShape,
} from '../../kernels/pool2d.ts';
import { loadFixtureCases } from '../fixtures/norm_pool/load.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const tol = { atol: 1e-5, rtol: 1e-4 };
const s = suite('kernels: pool2d');
s.before(setupGpu);

type Win = { k: [number, number]; s: [number, number]; p: [number, number]; d?: [number, number]; ceil?: boolean };

function geom(shape: number[], w: Win): Pool2dShape {
  const [N, C, H, W] = shape, [dh, dw] = w.d ?? [1, 1];
  return { N, C, H, W, kh: w.k[0], kw: w.k[1], sh: w.s[0], sw: w.s[1], ph: w.p[0], pw: w.p[1], dh, dw,
    OH: poolOutputSize(H, w.k[0], w.p[0], w.s[0], dh, w.ceil ?? false), OW: poolOutputSize(W, w.k[1], w.p[1], w.s[1], dw, w.ceil ?? false) };
}

// (shape, window): odd sizes (v1), W % 4 == 0 with OW % 4 == 0 and != 0 (v2), ceil mode, rectangular windows, dilation
const configs: [number[], Win][] = [
  [[2, 3, 11, 13], { k: [3, 3], s: [2, 2], p: [1, 1] }],
  [[2, 3, 12, 16], { k: [3, 3], s: [2, 2], p: [1, 1] }],
  [[2, 3, 10, 12], { k: [3, 3], s: [2, 2], p: [1, 1] }],
  [[1, 2, 7, 9], { k: [2, 2], s: [2, 2], p: [0, 0], ceil: true }],
  [[1, 2, 9, 12], { k: [2, 2], s: [2, 2], p: [1, 1], ceil: true }],
  [[2, 2, 9, 20], { k: [3, 3], s: [2, 2], p: [0, 0], ceil: true }],
  [[1, 3, 8, 8], { k: [2, 3], s: [1, 2], p: [1, 0] }],
  [[2, 5, 40, 36], { k: [3, 3], s: [2, 2], p: [1, 1] }],
  [[1, 2, 9, 8], { k: [3, 3], s: [1, 1], p: [1, 1], d: [2, 2] }],
  [[1, 2, 11, 16], { k: [3, 2], s: [2, 3], p: [1, 1], d: [2, 3], ceil: true }],
];

configs.forEach(([shape, w], i) => {
  const g = geom(shape, w);
  const n = shape.reduce((a, b) => a * b, 1);
  s(`maxPool2d forward, indices and backward match the reference: x[${shape}] ${JSON.stringify(w)}`, async () => {
    // small integers make ties common: the first maximum must win, as in PyTorch
    const x = Float32Array.from(randomArray(n, i, -3, 3), (v) => (i % 2 ? Math.round(v) : v));
    const tx = Tensor.fromArray(x, shape, { requiresGrad: true });
    const y = F.maxPool2d(tx, { kernelSize: w.k, stride: w.s, padding: w.p, dilation: w.d, ceilMode: w.ceil });
    assert.equal(y.shape, [g.N, g.C, g.OH, g.OW]);
    const ref = maxPool2dFwdCpu(x, g);
    assertClose(await y.toArray(), ref.y, tol, 'y');
    const dy = randomArray(y.size, i + 50);
    y.backward(Tensor.fromArray(dy, y.shape));
    assertClose(await tx.grad!.toArray(), maxPool2dBwdCpu(dy, ref.indices, g), tol, 'dx');
    tx.grad!.dispose(); tx.dispose(); y.dispose();
  });
  s(`avgPool2d forward and backward match the reference (include/exclude pad, divisor override): x[${shape}] ${JSON.stringify(w.d ? { ...w, d: undefined } : w)}`, async () => {
    // average pooling has no dilation (PyTorch's neither): dilated windows run undilated
    const ga = w.d ? geom(shape, { k: w.k, s: w.s, p: w.p, ceil: w.ceil }) : g;
    const x = randomArray(n, i + 100, -2, 2);
    const tx = Tensor.fromArray(x, shape, { requiresGrad: true });
    for (const mode of [{ countIncludePad: true }, { countIncludePad: false }, { countIncludePad: false, divisorOverride: 5 }]) {
      const y = F.avgPool2d(tx, { kernelSize: w.k, stride: w.s, padding: w.p, ceilMode: w.ceil, ...mode });
      assert.equal(y.shape, [ga.N, ga.C, ga.OH, ga.OW]);
      assertClose(await y.toArray(), avgPool2dFwdCpu(x, ga, mode), tol, `y ${JSON.stringify(mode)}`);
      const dy = randomArray(y.size, i + 150);
      y.backward(Tensor.fromArray(dy, y.shape));
      assertClose(await tx.grad!.toArray(), avgPool2dBwdCpu(dy, ga, mode), tol, `dx ${JSON.stringify(mode)}`);
      tx.grad!.dispose(); tx.grad = null; y.dispose();
    }
    tx.dispose();
  });
});

s('v1 and v2 forward kernels agree where both apply', async () => {
  const shape = [2, 3, 14, 20];
  for (const w of [configs[0][1], configs[3][1], configs[8][1]]) {
    const g = geom(shape, w), x = Tensor.fromArray(randomArray(2 * 3 * 14 * 20, 7), shape);
    const outs: Float32Array[] = [];
    for (const v of ['v1', 'v2']) {
      const y = Tensor.empty([g.N, g.C, g.OH, g.OW], 'y'), a = Tensor.empty([g.N, g.C, g.OH, g.OW], 'a');
      maxPool2dForward(x.binding, y.binding, a.binding, g, v, 'max');
      outs.push(await y.toArray(), Float32Array.from(new Int32Array((await a.toArray()).buffer)));
      avgPool2dForward(x.binding, y.binding, a.binding, g, { countIncludePad: false }, v, 'avg');
      outs.push(await y.toArray());
      y.dispose(); a.dispose();
    }
    for (let k = 0; k < 3; k++) assertClose(outs[k], outs[k + 3], { atol: 0, rtol: 0 }, `${JSON.stringify(w)} output ${k}`);
    x.dispose();
  }
});

s('adaptiveAvgPool2d: global (1) and general output sizes, forward and backward', async () => {
  for (const [shape, out] of [[[2, 3, 7, 7], [1, 1]], [[2, 3, 8, 8], [1, 1]], [[3, 70, 1, 1], [1, 1]], [[2, 3, 10, 11], [3, 5]],
    [[1, 2, 9, 9], [4, 4]], [[1, 2, 3, 3], [5, 5]]] as [number[], [number, number]][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomArray(n, n), tx = Tensor.fromArray(x, shape, { requiresGrad: true });
    const y = F.adaptiveAvgPool2d(tx, out[0] === out[1] ? out[0] : out);
    assert.equal(y.shape, [shape[0], shape[1], ...out]);
    assertClose(await y.toArray(), adaptiveAvgPool2dFwdCpu(x, shape, out[0], out[1]), tol, `y [${shape}] -> [${out}]`);
    const dy = randomArray(y.size, n + 1);
    y.backward(Tensor.fromArray(dy, y.shape));
    assertClose(await tx.grad!.toArray(), adaptiveAvgPool2dBwdCpu(dy, shape, out[0], out[1]), tol, `dx [${shape}] -> [${out}]`);
    tx.grad!.dispose(); tx.dispose(); y.dispose();
  }
});

s('reference backwards match f64 finite differences; GPU gradients pass finite differences', async () => {
  const g = geom([1, 2, 5, 7], { k: [3, 3], s: [2, 2], p: [1, 1], ceil: true });
  const x = Float64Array.from(randomArray(70, 3, -2, 2)), dy = randomArray(g.N * g.C * g.OH * g.OW, 4);
  const mode = { countIncludePad: false };
  const [na] = numericGradCpu(([v]) => avgPool2dFwdCpu(v, g, mode), [x], dy);
  assertClose(avgPool2dBwdCpu(dy, g, mode), na, { atol: 1e-8, rtol: 1e-6 }, 'avg');
  const [nm] = numericGradCpu(([v]) => maxPool2dFwdCpu(v, g).y, [x], dy);
  assertClose(maxPool2dBwdCpu(dy, maxPool2dFwdCpu(x, g).indices, g), nm, { atol: 1e-8, rtol: 1e-6 }, 'max');
  const [ng] = numericGradCpu(([v]) => adaptiveAvgPool2dFwdCpu(v, [1, 2, 5, 7], 2, 3), [x], dy.slice(0, 12));
  assertClose(adaptiveAvgPool2dBwdCpu(dy.slice(0, 12), [1, 2, 5, 7], 2, 3), ng, { atol: 1e-8, rtol: 1e-6 }, 'adaptive');
  const x32 = Float32Array.from(x);
  const opts = { samples: 10, atol: 1e-2, rtol: 1e-2 };
  for (const [name, fn] of [
    ['max', (t: Tensor[]) => F.maxPool2d(t[0], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true })],
    ['avg', (t: Tensor[]) => F.avgPool2d(t[0], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false })],
    ['adaptive', (t: Tensor[]) => F.adaptiveAvgPool2d(t[0], [2, 3])],
  ] as const) {
    const r = await gradcheck(fn, [x32], [[1, 2, 5, 7]], opts);
    assert.ok(r.ok, `${name}: ${r.failures.join('\n')}`);
  }
});

// PyTorch's float32 values: a window or a gradient scatter sums at most 9 (adaptive: 12) terms
// of |v| < 7 in an order that may differ from PyTorch's, so 12 * eps32 * 7 ~ 5e-6 bounds the gap.
const fixtureTol = { atol: 5e-6, rtol: 1e-6 };

s('PyTorch fixtures: max, avg and adaptive pooling (ceil mode dropping the last window, dilation), forward and backward', async () => {
  for (const fx of loadFixtureCases('pool2d')) {
    const a = fx.args as { op: string; shape: number[]; kernel: number[]; stride: number[]; padding: number[]; dilation: number[];
      ceil: boolean; include_pad: boolean; divisor: number | null; output: number[] };
    const x = Tensor.fromArray(fx.get('x'), a.shape, { requiresGrad: true });
    const y = a.op === 'max'
      ? F.maxPool2d(x, { kernelSize: a.kernel as [number, number], stride: a.stride as [number, number], padding: a.padding as [number, number], dilation: a.dilation as [number, number], ceilMode: a.ceil })
      : a.op === 'avg'
        ? F.avgPool2d(x, { kernelSize: a.kernel as [number, number], stride: a.stride as [number, number], padding: a.padding as [number, number], ceilMode: a.ceil, countIncludePad: a.include_pad, divisorOverride: a.divisor })
        : F.adaptiveAvgPool2d(x, a.output as [number, number]);
    assert.equal([...y.shape], fx.shape('y'), `${fx.name} output shape`);
    assertClose(await y.toArray(), fx.get('y'), fixtureTol, `${fx.name} y`);
    y.backward(Tensor.fromArray(fx.get('dy'), y.shape));
    assertClose(await x.grad!.toArray(), fx.get('dx'), fixtureTol, `${fx.name} dx`);
    x.grad!.dispose(); x.dispose(); y.dispose();
  }
});

s('bad input: shapes, padding over half the kernel, kernel bigger than the padded input, options', () => {
  const x = Tensor.zeros([1, 2, 5, 5]), x3 = Tensor.zeros([2, 5, 5]), x2 = Tensor.zeros([4, 4]);
  assertThrowsWith(() => F.maxPool2d(x3, { kernelSize: 3 }), /maxPool2d/, /4-D/, /\[2,5,5\]/);
  assertThrowsWith(() => F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 2 }), /maxPool2d/, /padding \[2,2\]/, /half of kernelSize \[3,3\]/);
  assertThrowsWith(() => F.avgPool2d(x, { kernelSize: [2, 4], padding: [1, 3] }), /avgPool2d/, /padding \[1,3\]/);
  assertThrowsWith(() => F.maxPool2d(x, { kernelSize: 7 }), /maxPool2d/, /too small/, /kernelSize \[7,7\]/, /\[1,2,5,5\]/);
  assertThrowsWith(() => F.maxPool2d(x, { kernelSize: 3, dilation: 3 }), /too small/, /dilation \[3,3\]/);
  assertThrowsWith(() => F.maxPool2d(x, { kernelSize: 0 }), /maxPool2d/, /kernelSize/);
  assertThrowsWith(() => F.avgPool2d(x, { kernelSize: 2, stride: [1, 0] }), /avgPool2d/, /stride/);
  assertThrowsWith(() => F.avgPool2d(x, { kernelSize: 2, divisorOverride: 0 }), /avgPool2d/, /divisorOverride/);
  assertThrowsWith(() => F.adaptiveAvgPool2d(x, 0), /adaptiveAvgPool2d/, /outputSize/);
  assertThrowsWith(() => F.adaptiveAvgPool2d(x2, 1), /adaptiveAvgPool2d/, /4-D/, /\[4,4\]/);
  for (const t of [x, x3, x2]) t.dispose();
});

s.run();
