// The version harness: per kernel family, small shapes for each op and a check of forward and
// backward against the f64 reference. Shared by test/kernels/versions.test.ts (Dawn on lavapipe)
// and the version page of test/browser/versions.test.ts (Chromium on SwiftShader), so that both
// software adapters run the same version tests; it imports nothing Node-only.
import { Tensor } from '../../src/tensor.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { chooseVersion, usableChoices, type KernelFamily } from '../../kernels/versions.ts';
import * as F from '../../src/functional.ts';
import { conv2dGeometry } from '../../src/ops/conv2d.ts';
import { conv2dBwdInputCpu, conv2dBwdWeightCpu, conv2dFwdCpu, type Conv2dGeometry } from '../../kernels/conv2d.ts';
import { matmulCpu, matmulForward, type MatmulOptions } from '../../kernels/matmul.ts';
import { batchNorm2dBwdCpu, batchNorm2dFwdCpu } from '../../kernels/batchnorm2d.ref.ts';
import { adaptiveAvgPool2dBwdCpu, adaptiveAvgPool2dFwdCpu, maxPool2dBwdCpu, maxPool2dFwdCpu, type Pool2dShape } from '../../kernels/pool2d.ts';
import { splitAttentionCombineBwdCpu, splitAttentionCombineCpu, splitAttentionPoolCpu, type SplitShape } from '../../kernels/split_attention.ts';
import { assertClose, randomArray } from '../helpers.ts';

/** f32 sums of K terms of magnitude <= 1: rounding grows about K * 2^-24 per unit of result; 4x margin for summation order. */
export const sumTol = (K: number) => ({ atol: 4 * 6e-8 * K, rtol: 4 * 6e-8 * Math.sqrt(K) + 1e-6 });

export interface Case<S> { shapes: Partial<Record<string, S>>; check(): Promise<void> }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const harness: Record<string, Case<any>[]> = {};

function convCase(x: number[], w: number[], opts: { padding?: number; stride?: number; groups?: number }): Case<Conv2dGeometry> {
  const g = conv2dGeometry(x, w, null, opts);
  return {
    shapes: { fwd: g, bwd_input: g, bwd_weight: g },
    async check() {
      const xs = randomArray(x.reduce((a, b) => a * b), 1), ws = randomArray(w.reduce((a, b) => a * b), 2);
      const tx = Tensor.fromArray(xs, x, { requiresGrad: true }), tw = Tensor.fromArray(ws, w, { requiresGrad: true });
      const y = F.conv2d(tx, tw, null, opts);
      const dy = randomArray(y.size, 3);
      const K = w[1] * w[2] * w[3];
      assertClose(await y.toArray(), conv2dFwdCpu(g, xs, ws), sumTol(K), `conv2d y x[${x}] w[${w}]`);
      y.backward(Tensor.fromArray(dy, y.shape));
      assertClose(await tx.grad!.toArray(), conv2dBwdInputCpu(g, dy, ws), sumTol(g.co * w[2] * w[3]), 'conv2d dx');
      assertClose(await tw.grad!.toArray(), conv2dBwdWeightCpu(g, xs, dy), sumTol(g.n * g.ho * g.wo), 'conv2d dw');
      for (const t of [tx.grad!, tw.grad!, tx, tw, y]) t.dispose();
    },
  };
}
harness.conv2d = [
  convCase([2, 4, 7, 6], [8, 4, 3, 3], { padding: 1 }),
  convCase([2, 6, 9, 9], [6, 2, 3, 3], { padding: 1, stride: 2, groups: 3 }),
  convCase([3, 8, 1, 1], [12, 8, 1, 1], {}),
  convCase([2, 8, 5, 5], [8, 1, 3, 3], { padding: 1, groups: 8 }),
  convCase([2, 3, 9, 8], [8, 3, 3, 3], { padding: 1, stride: 2 }), // the stem's first in miniature: 27-value patches
];

function matmulCase(o: MatmulOptions): Case<MatmulOptions> {
  return {
    shapes: { fwd: o },
    async check() {
      const a = randomArray(o.M * o.K, 4), b = randomArray(o.K * o.N, 5);
      const ta = Tensor.fromArray(a, [o.M * o.K]), tb = Tensor.fromArray(b, [o.K * o.N]), out = Tensor.empty([o.M, o.N], 'out');
      matmulForward(ta.binding, tb.binding, out.binding, o);
      assertClose(await out.toArray(), matmulCpu(a, b, o), sumTol(o.K), `matmul ${o.M}x${o.K}x${o.N}`);
      for (const t of [ta, tb, out]) t.dispose();
    },
  };
}
// the three products of a linear layer (A B^T forward, A B dX, A^T B dW), vec4-aligned ones for
// v2 and v4, and odd ones
harness.matmul = [
  matmulCase({ M: 9, N: 12, K: 20 }), matmulCase({ M: 6, N: 8, K: 12, transB: true }), matmulCase({ M: 8, N: 12, K: 5, transA: true }),
  matmulCase({ M: 7, N: 8, K: 16, transA: true, transB: true }), matmulCase({ M: 5, N: 7, K: 3 }),
];

function bnCase(shape: number[]): Case<readonly number[]> {
  return {
    shapes: { reduce: shape },
    async check() {
      const n = shape.reduce((a, b) => a * b), C = shape[1];
      const x = randomArray(n, 6, -2, 3), dy = randomArray(n, 7), w = randomArray(C, 8, 0.5, 1.5), b = randomArray(C, 9);
      const tx = Tensor.fromArray(x, shape, { requiresGrad: true }), tw = Tensor.fromArray(w, [C], { requiresGrad: true });
      const tb = Tensor.fromArray(b, [C], { requiresGrad: true }), rm = Tensor.zeros([C]), rv = Tensor.ones([C]);
      const y = F.batchNorm2d(tx, rm, rv, tw, tb, { training: true, relu: true });
      const ref = batchNorm2dFwdCpu(x, shape, { training: true, relu: true, weight: w, bias: b, runningMean: new Float64Array(C), runningVar: new Float64Array(C).fill(1) });
      // normalised values of a few units after an M = N*H*W long mean and variance in f32
      const tol = sumTol(n / C);
      assertClose(await y.toArray(), ref.y, tol, `batchnorm2d y x[${shape}]`);
      y.backward(Tensor.fromArray(dy, shape));
      const g = batchNorm2dBwdCpu(x, dy, shape, ref, { training: true, weight: w, relu: true });
      assertClose(await tx.grad!.toArray(), g.dx, { atol: 4 * tol.atol, rtol: tol.rtol }, 'batchnorm2d dx'); // dx subtracts two such sums
      assertClose(await tw.grad!.toArray(), g.dweight, tol, 'batchnorm2d dweight');
      assertClose(await tb.grad!.toArray(), g.dbias, tol, 'batchnorm2d dbias');
      for (const t of [tx.grad!, tw.grad!, tb.grad!, tx, tw, tb, rm, rv, y]) t.dispose();
    },
  };
}
harness.batchnorm2d = [bnCase([3, 5, 4, 6]), bnCase([2, 6, 3, 5])];

function poolCase(shape: number[], k: number, stride: number, pad: number): Case<Pool2dShape> {
  const [N, C, H, W] = shape, OH = Math.floor((H + 2 * pad - k) / stride) + 1, OW = Math.floor((W + 2 * pad - k) / stride) + 1;
  const g: Pool2dShape = { N, C, H, W, OH, OW, kh: k, kw: k, sh: stride, sw: stride, ph: pad, pw: pad, dh: 1, dw: 1 };
  const global: Pool2dShape = { ...g, OH: 1, OW: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 };
  return {
    shapes: { fwd: g, bwd: g, global_fwd: global, global_bwd: global },
    async check() {
      const x = randomArray(N * C * H * W, 10, -3, 3);
      const tx = Tensor.fromArray(x, shape, { requiresGrad: true });
      const y = F.maxPool2d(tx, { kernelSize: k, stride, padding: pad });
      const ref = maxPool2dFwdCpu(x, g);
      assertClose(await y.toArray(), ref.y, { atol: 0, rtol: 0 }, `maxPool2d y x[${shape}]`); // a max is exact
      const dy = randomArray(y.size, 11);
      y.backward(Tensor.fromArray(dy, y.shape));
      // windows overlap at stride < k: a few f32 additions per input
      assertClose(await tx.grad!.toArray(), maxPool2dBwdCpu(dy, ref.indices, g), sumTol(k * k), 'maxPool2d dx');
      tx.grad!.dispose(); tx.grad = null;
      const gap = F.adaptiveAvgPool2d(tx, 1);
      assertClose(await gap.toArray(), adaptiveAvgPool2dFwdCpu(x, shape, 1, 1), sumTol(H * W), 'global average');
      const dg = randomArray(N * C, 12);
      gap.backward(Tensor.fromArray(dg, gap.shape));
      assertClose(await tx.grad!.toArray(), adaptiveAvgPool2dBwdCpu(dg, shape, 1, 1), sumTol(1), 'global average dx');
      for (const t of [tx.grad!, tx, y, gap]) t.dispose();
    },
  };
}
harness.pool2d = [poolCase([2, 3, 8, 12], 3, 2, 1), poolCase([2, 3, 7, 9], 2, 2, 0)];

function splitCase(N: number, R: number, C: number, H: number, W: number): Case<SplitShape> {
  const sh: SplitShape = { N, R, C, HW: H * W };
  return {
    shapes: { planes: sh },
    async check() {
      const shape = [N, R * C, H, W], x = randomArray(N * R * C * H * W, 13), att = randomArray(N * R * C, 14, 0, 1);
      const tx = Tensor.fromArray(x, shape, { requiresGrad: true }), ta = Tensor.fromArray(att, [N, R * C], { requiresGrad: true });
      const pooled = F.splitAttentionPool(tx, R);
      assertClose(await pooled.toArray(), splitAttentionPoolCpu(x, sh), sumTol(R * H * W), `split attention pool x[${shape}]`);
      const y = F.splitAttentionCombine(tx, ta, R);
      assertClose(await y.toArray(), splitAttentionCombineCpu(x, att, sh), sumTol(R), 'split attention combine');
      const dy = randomArray(y.size, 15);
      y.backward(Tensor.fromArray(dy, y.shape));
      const ref = splitAttentionCombineBwdCpu(x, att, dy, sh);
      assertClose(await tx.grad!.toArray(), ref.dx, sumTol(1), 'combine dx');
      assertClose(await ta.grad!.toArray(), ref.datt, sumTol(H * W), 'combine datt');
      for (const t of [tx.grad!, ta.grad!, tx, ta, pooled, y]) t.dispose();
    },
  };
}
harness.split_attention = [splitCase(2, 2, 3, 4, 6), splitCase(2, 2, 4, 3, 5)];


/**
 * Forces `choice` on its family and runs every harness case with a shape it can run: each op
 * must choose it, and the values must match the reference (throws otherwise). Returns the number
 * of cases run (0: the choice runs none of the shapes on this adapter).
 */
export async function checkChoice<S>(fam: KernelFamily<S>, choice: string): Promise<number> {
  let ran = 0;
  setKernelVersion(fam.name, choice);
  try {
    for (const c of harness[fam.name] ?? []) {
      const runs = Object.entries(c.shapes).filter(([op, shape]) => usableChoices(fam, shape as S, op).includes(choice));
      if (runs.length === 0) continue;
      for (const [op, shape] of runs) {
        const chosen = chooseVersion(fam, op, shape as S).id;
        if (chosen !== choice) throw new Error(`${fam.name}_${op} ${fam.shapeKey(shape as S)}: forced ${choice}, chose ${chosen}`);
      }
      await c.check();
      ran++;
    }
  } finally {
    setKernelVersion(fam.name, null);
  }
  return ran;
}
