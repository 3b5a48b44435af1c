import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import {
  radixSumBwdCpu, radixSumCpu, rSoftmaxBwdCpu, rSoftmaxCpu, splitAttentionCombineBwdCpu, splitAttentionCombineCpu,
  splitAttentionPoolBwdCpu, splitAttentionPoolCpu, type SplitShape,
} from '../../kernels/split_attention.ts';
import { loadFixtureCases } from '../fixtures/norm_pool/load.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const tol = { atol: 1e-5, rtol: 1e-4 };
const s = suite('kernels: split_attention');
s.before(setupGpu);

// [N, C per split, H, W]: odd planes (v1), H*W % 4 == 0 (v2), one plane of 4*2080 (one partial
// per plane: no partial sum), 1x1 maps
const shapes = [[2, 6, 5, 7], [3, 8, 4, 6], [4, 520, 1, 2], [2, 4, 1, 1], [2, 4, 12, 12]];

for (const radix of [1, 2, 4]) {
  for (const cardinality of [1, 2]) {
    s(`radix ${radix}, cardinality ${cardinality}: radixSum, splitAttentionPool, rSoftmax, combine and their gradients match the references`, async () => {
      for (const [k, [N, C, H, W]] of shapes.entries()) {
        const shape = [N, radix * C, H, W], sh: SplitShape = { N, R: radix, C, HW: H * W };
        const n = N * radix * C * H * W, seed = 1000 * radix + 100 * cardinality + k, what = `x[${shape}]`;
        const x = randomArray(n, seed, -2, 2), z = randomArray(N * radix * C, seed + 1, -3, 3);
        const tx = Tensor.fromArray(x, shape, { requiresGrad: true });
        const tz = Tensor.fromArray(z, k % 2 ? [N, radix * C] : [N, radix * C, 1, 1], { requiresGrad: true });

        const sum = F.radixSum(tx, radix);
        assertClose(await sum.toArray(), radixSumCpu(x, sh), tol, `radixSum ${what}`);
        const ds = randomArray(sum.size, seed + 2);
        sum.backward(Tensor.fromArray(ds, sum.shape));
        assertClose(await tx.grad!.toArray(), radixSumBwdCpu(ds, sh), tol, `radixSum dx ${what}`);
        tx.grad!.dispose(); tx.grad = null;

        const g = F.splitAttentionPool(tx, radix);
        assert.equal(g.shape, [N, C, 1, 1]);
        assertClose(await g.toArray(), splitAttentionPoolCpu(x, sh), tol, `pool ${what}`);
        const dg = randomArray(g.size, seed + 3);
        g.backward(Tensor.fromArray(dg, g.shape));
        assertClose(await tx.grad!.toArray(), splitAttentionPoolBwdCpu(dg, sh), tol, `pool dx ${what}`);
        tx.grad!.dispose(); tx.grad = null;

        if (C % cardinality === 0) {
          const a = F.rSoftmax(tz, radix, cardinality);
          assert.equal(a.shape, tz.shape);
          const aRef = rSoftmaxCpu(z, N, radix, C, cardinality);
          assertClose(await a.toArray(), aRef, tol, `rSoftmax ${what}`);
          const y = F.splitAttentionCombine(tx, a, radix);
          const aVals = Float32Array.from(aRef);
          assertClose(await y.toArray(), splitAttentionCombineCpu(x, aVals, sh), tol, `combine ${what}`);
          const dy = randomArray(y.size, seed + 4);
          y.backward(Tensor.fromArray(dy, y.shape));
          const ref = splitAttentionCombineBwdCpu(x, aVals, dy, sh);
          assertClose(await tx.grad!.toArray(), ref.dx, tol, `combine dx ${what}`);
          assertClose(await tz.grad!.toArray(), rSoftmaxBwdCpu(aRef, ref.datt, N, radix, C, cardinality), { atol: 1e-4, rtol: 1e-4 }, `dlogits ${what}`);
          for (const t of [a, y, tx.grad!, tz.grad!]) t.dispose();
          tx.grad = null;
        }
        for (const t of [tx, tz, sum, g]) t.dispose();
      }
    });
  }
}

s('reference backwards match f64 finite differences', () => {
  const sh = { N: 2, R: 3, C: 4, HW: 5 }, K = 2;
  const x = Float64Array.from(randomArray(120, 1, -2, 2)), att = Float64Array.from(randomArray(24, 2)), z = Float64Array.from(randomArray(24, 3, -2, 2));
  const dy = randomArray(40, 4), da = randomArray(24, 5);
  const [ndx, ndatt] = numericGradCpu(([u, a]) => splitAttentionCombineCpu(u, a, sh), [x, att], dy);
  const ref = splitAttentionCombineBwdCpu(x, att, dy, sh);
  assertClose(ref.dx, ndx, { atol: 1e-8, rtol: 1e-6 }, 'combine dx');
  assertClose(ref.datt, ndatt, { atol: 1e-8, rtol: 1e-6 }, 'combine datt');
  for (const R of [1, 3]) {
    const C = 24 / R;
    const [ndz] = numericGradCpu(([v]) => rSoftmaxCpu(v, 2, R, C / 2, K), [z.slice(0, 2 * R * (C / 2))], da);
    const a = rSoftmaxCpu(z, 2, R, C / 2, K);
    assertClose(rSoftmaxBwdCpu(a, da, 2, R, C / 2, K), ndz, { atol: 1e-8, rtol: 1e-6 }, `rSoftmax R=${R}`);
  }
  const [npool] = numericGradCpu(([u]) => splitAttentionPoolCpu(u, sh), [x], da.slice(0, 8));
  assertClose(splitAttentionPoolBwdCpu(da.slice(0, 8), sh), npool, { atol: 1e-8, rtol: 1e-6 }, 'pool');
});

s('splitAttentionPool adds its dx into the gradient x already holds (a leaf\'s .grad, or an intermediate\'s from the combine)', async () => {
  for (const [N, C, H, W] of [[2, 6, 5, 7], [3, 8, 4, 6]]) { // v1 and v2 planes
    const R = 2, shape = [N, R * C, H, W], sh: SplitShape = { N, R, C, HW: H * W }, n = N * R * C * H * W;
    const x = randomArray(n, 7, -2, 2), z = randomArray(N * R * C, 8, -3, 3), dg = randomArray(N * C, 9), dy = randomArray(N * C * H * W, 10);
    // a leaf: a second backward adds into .grad
    const tx = Tensor.fromArray(x, shape, { requiresGrad: true });
    for (let i = 0; i < 2; i++) F.splitAttentionPool(tx, R).backward(Tensor.fromArray(dg, [N, C, 1, 1]));
    assertClose(await tx.grad!.toArray(), splitAttentionPoolBwdCpu(dg, sh).map((v) => 2 * v), tol, `twice pool dx [${shape}]`);
    // an intermediate feeding the combine and the pool, as in SplAtConv2d:
    // loss = sum(combine(h) * dy) + sum(pool(h) * dg), h = x
    tx.grad!.dispose(); tx.grad = null;
    const zt = Tensor.fromArray(z, [N, R * C, 1, 1]), a = F.rSoftmax(zt, R, 1), aVals = Float32Array.from(rSoftmaxCpu(z, N, R, C, 1));
    const h = F.scale(tx, 1);
    const loss = F.add(F.sum(F.mul(F.splitAttentionCombine(h, a, R), Tensor.fromArray(dy, [N, C, H, W]))),
      F.sum(F.mul(F.splitAttentionPool(h, R), Tensor.fromArray(dg, [N, C, 1, 1]))));
    loss.backward();
    const combineDx = splitAttentionCombineBwdCpu(x, aVals, dy, sh).dx, poolDx = splitAttentionPoolBwdCpu(dg, sh);
    assertClose(await tx.grad!.toArray(), combineDx.map((v, i) => v + poolDx[i]), tol, `combine + pool dx [${shape}]`);
    for (const t of [loss, h, a, zt, tx.grad!]) t.dispose();
    tx.dispose();
  }
});

s('GPU gradients of the split-attention tail pass finite differences (radix 2 and 4, cardinality 2)', async () => {
  for (const R of [2, 4]) {
    const shape = [2, R * 4, 3, 4];
    const report = await gradcheck(([x, z]) => F.splitAttentionCombine(x, F.rSoftmax(z, R, 2), R),
      [randomArray(2 * R * 4 * 12, R, -1, 1), randomArray(2 * R * 4, R + 1, -2, 2)], [shape, [2, R * 4, 1, 1]], { samples: 10 });
    assert.ok(report.ok, report.failures.join('\n'));
  }
});

s('PyTorch fixtures: the reference SplAtConv2d tail (split, sum, GAP, rSoftMax, weighted sum) and its gradients', async () => {
  for (const fx of loadFixtureCases('split_attention')) {
    const { radix: R, cardinality: K, shape } = fx.args as { radix: number; cardinality: number; shape: number[] };
    const x = Tensor.fromArray(fx.get('x'), shape, { requiresGrad: true });
    const z = Tensor.fromArray(fx.get('logits'), fx.shape('logits'), { requiresGrad: true });
    const sum = F.radixSum(x, R), g = F.splitAttentionPool(x, R), a = F.rSoftmax(z, R, K);
    assertClose(await sum.toArray(), fx.get('radix_sum'), tol, `${fx.name} radix sum`);
    assertClose(await g.toArray(), fx.get('pool'), tol, `${fx.name} pool`);
    assertClose(await a.toArray(), fx.get('attention'), tol, `${fx.name} attention`);
    const att = Tensor.fromArray(fx.get('attention'), fx.shape('attention'), { requiresGrad: true });
    const y = F.splitAttentionCombine(x, att, R);
    assertClose(await y.toArray(), fx.get('out'), tol, `${fx.name} out`);
    const grads: [Tensor, string, Tensor, string][] = [
      [sum, 'ds', x, 'dx_radix_sum'], [g, 'dg', x, 'dx_pool'], [y, 'dy', x, 'dx_combine'], [a, 'dattention_up', z, 'dlogits']];
    for (const [out, up, input, want] of grads) {
      out.backward(Tensor.fromArray(fx.get(up), out.shape));
      assertClose(await input.grad!.toArray(), fx.get(want), tol, `${fx.name} ${want}`);
      if (want === 'dx_combine') assertClose(await att.grad!.toArray(), fx.get('dattention'), tol, `${fx.name} dattention`);
      input.grad!.dispose(); input.grad = null;
    }
    for (const t of [x, z, sum, g, a, att, att.grad!, y]) t.dispose();
  }
});

s('bad input: radix not dividing the channels, wrong shapes, cardinality', () => {
  const x = Tensor.zeros([2, 6, 3, 3]), z = Tensor.zeros([2, 6]), z3 = Tensor.zeros([2, 6, 2, 1]), a8 = Tensor.zeros([2, 8, 1, 1]);
  assertThrowsWith(() => F.radixSum(x, 4), /radixSum/, /radix 4 does not divide the 6 channels/, /\[2,6,3,3\]/);
  assertThrowsWith(() => F.splitAttentionPool(x, 0), /splitAttentionPool/, /radix/);
  assertThrowsWith(() => F.radixSum(z, 2), /radixSum/, /4-D/, /\[2,6\]/);
  assertThrowsWith(() => F.rSoftmax(z, 2, 2), /rSoftmax/, /radix 2 x cardinality 2 does not divide the 6 channels/);
  assertThrowsWith(() => F.rSoftmax(z3, 2, 1), /rSoftmax/, /\[2,6,2,1\]/);
  assertThrowsWith(() => F.rSoftmax(z, 2, 0), /rSoftmax/, /cardinality/);
  assertThrowsWith(() => F.splitAttentionCombine(x, a8, 2), /splitAttentionCombine/, /attention \[2,8,1,1\]/, /x \[2,6,3,3\]/);
  assertThrowsWith(() => F.splitAttentionCombine(x, z, 5), /splitAttentionCombine/, /radix 5 does not divide/);
  for (const t of [x, z, z3, a8]) t.dispose();
});

s.run();
