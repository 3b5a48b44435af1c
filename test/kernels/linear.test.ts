import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { matmulCpu, matmulFamily, matmulForward, matmulTile, vec4Aligned, type MatmulOptions } from '../../kernels/matmul.ts';
import { allChoices, parseChoice, runs } from '../../kernels/versions.ts';
import { gpu, type AdapterDescription } from '../../src/gpu/index.ts';
import { linearBwdCpu, linearFwdCpu } from '../../kernels/linear.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';
import { loadHeadFixture } from '../fixtures/head/load.ts';

const s = suite('kernels: linear');
s.before(setupGpu);

// f32 accumulation over K terms of size ~1: error grows ~ sqrt(K) * 6e-8 per unit of magnitude
const tolFor = (K: number) => ({ atol: 2e-6 * Math.sqrt(K + 1), rtol: 1e-5 });

async function runMatmul(o: MatmulOptions, seed: number): Promise<void> {
  const batch = o.batch ?? 1;
  const sizeA = Math.max(o.M * o.K, (batch - 1) * (o.strideA ?? 0) + o.M * o.K);
  const sizeB = Math.max(o.K * o.N, (batch - 1) * (o.strideB ?? 0) + o.K * o.N);
  const sizeOut = (batch - 1) * (o.strideOut ?? 0) + o.M * o.N;
  const a = randomArray(sizeA, seed), b = randomArray(sizeB, seed + 1), prior = randomArray(sizeOut, seed + 2), bias = randomArray(o.N, seed + 3);
  const ta = Tensor.fromArray(a, [sizeA]), tb = Tensor.fromArray(b, [sizeB]), tout = Tensor.fromArray(prior, [sizeOut]);
  const tbias = Tensor.fromArray(bias, [o.N]);
  matmulForward(ta.binding, tb.binding, tout.binding, { ...o, bias: tbias.binding });
  const want = matmulCpu(a, b, { ...o, strideOut: o.strideOut ?? o.M * o.N }, prior, bias);
  assertClose(await tout.toArray(), want, tolFor(o.K), `${o.version} M${o.M} N${o.N} K${o.K} transA ${!!o.transA} transB ${!!o.transB}`);
  for (const t of [ta, tb, tout, tbias]) t.dispose();
}

const transposes = [[false, false], [false, true], [true, false], [true, true]] as const;

s('v1 (scalar register tile) and v3 (workgroup tiles) on odd M, N, K, every transpose, alpha, accumulate, bias', async () => {
  for (const version of ['v1', 'v3']) {
    for (const [transA, transB] of transposes) {
      await runMatmul({ M: 37, N: 29, K: 71, transA, transB, version, alpha: -0.75, accumulate: true }, 10);
    }
    // one row, one column, K = 1, and a tile exactly full
    await runMatmul({ M: 1, N: 1, K: 1, version }, 20);
    await runMatmul({ M: 64, N: 64, K: 17, version }, 21);
    await runMatmul({ M: 3, N: 130, K: 5, transB: true, version, alpha: 2 }, 22);
  }
});

s('v2 (vec4 register tile, no barriers) on aligned shapes, every transpose, with ragged M and a K tail', async () => {
  for (const [transA, transB] of transposes) {
    const o = { M: transA ? 36 : 35, N: 28, K: 44, transA, transB, version: 'v2', alpha: 0.5, accumulate: true };
    assert.ok(vec4Aligned(o));
    await runMatmul(o, 30);
  }
  await runMatmul({ M: 12, N: 20, K: 7, transA: true, version: 'v2' }, 31); // K tail: contiguous along m and n
  const z = Tensor.zeros([4]);
  assertThrowsWith(() => matmulForward(z.binding, z.binding, z.binding, { M: 1, N: 3, K: 1, version: 'v2' }), /matmul_fwd 1x1x3: version v2 cannot run this shape/);
  z.dispose();
});

// v4: the tiles offered (kernels/matmul.ts MATMUL_TILE_PARAMS) and one outside them, each product
// a linear layer runs (A B^T forward, A B dX, A^T B dW) and A^T B^T, edges that cut every tile
s('v4 (workgroup tiles, vec4 loads, 4x4 register blocks) on every transpose and tile, ragged edges, alpha, accumulate, bias', async () => {
  const tiles = ['v4', 'v4(bm=32,bn=32)', 'v4(bn=32,bk=32)', 'v4(bm=32,bk=32)'];
  for (const [i, version] of tiles.entries()) {
    for (const [transA, transB] of transposes) {
      // M ragged unless A is [K, M]; K ragged where neither operand is contiguous along it (A^T B)
      const M = transA ? 72 : 70, K = !transA || transB ? 44 : 43;
      const o = { M, N: 68, K, transA, transB, version, alpha: -0.75, accumulate: true };
      assert.ok(vec4Aligned(o));
      await runMatmul(o, 50 + i);
    }
  }
  await runMatmul({ M: 1, N: 4, K: 4, version: 'v4' }, 55);
  await runMatmul({ M: 5, N: 8, K: 96, transB: true, version: 'v4(bm=32,bn=32,bk=32)' }, 56); // K past several steps, as the head
  assert.equal(matmulTile({ bm: 32 }), { bm: 32, bn: 64, bk: 16 });
  assertThrowsWith(() => matmulTile({ bm: 256, bn: 256 }), /matmul v4: tile 256x256x16 needs .* at most \d+ invocations/);
  const z = Tensor.zeros([8]);
  assertThrowsWith(() => matmulForward(z.binding, z.binding, z.binding, { M: 2, N: 3, K: 4, version: 'v4' }), /matmul_fwd 2x4x3: version v4 cannot run this shape/);
  z.dispose();
});

s('v5 (sum split over a workgroup, subgroupAdd) on odd shapes, every transpose, long and short sums', async () => {
  // lavapipe has the feature (8-wide subgroups); the browser test reports adapters without it
  assert.ok(gpu().features.has('subgroups'), 'this test needs an adapter with subgroups');
  for (const [transA, transB] of transposes) {
    await runMatmul({ M: 13, N: 7, K: 301, transA, transB, version: 'v5', alpha: 1.5, accumulate: true }, 60);
  }
  await runMatmul({ M: 6, N: 41, K: 3, transB: true, version: 'v5' }, 61); // fewer terms than invocations
  await runMatmul({ M: 1, N: 1, K: 1, version: 'v5' }, 62);
});

s('autotune\'s candidates: every tile of v4 and v5 on a GPU with subgroups; v1 and v2 alone on a CPU adapter', () => {
  const candidates = (o: MatmulOptions, adapter: AdapterDescription) => allChoices(matmulFamily).filter((id) => {
    const v = matmulFamily.versions[parseChoice(matmulFamily, id).version];
    return runs(v, o, adapter, 'fwd') && (v.automatic?.(o, adapter) ?? true);
  });
  const head = { M: 32, N: 40, K: 2048, transB: true };
  const hardware = { ...gpu().adapter, software: false, features: new Set(['subgroups']) };
  const onGpu = candidates(head, hardware);
  assert.equal(onGpu.filter((id) => id.startsWith('v4')).length, 8, onGpu.join(' '));
  for (const id of ['v1', 'v2', 'v3', 'v4', 'v4(bm=32,bn=32,bk=32)', 'v5']) assert.ok(onGpu.includes(id), id);
  assert.equal(candidates(head, { ...hardware, features: new Set() }).filter((id) => id === 'v5'), [], 'no subgroups, no v5');
  assert.equal(candidates(head, { ...gpu().adapter, software: true }), ['v1', 'v2']);
  assert.is(matmulFamily.defaultChoice('fwd', head, hardware, onGpu), 'v3');
});

s('batched products with a shared operand (stride 0), as a 1x1 convolution uses them', async () => {
  for (const [i, version] of ['v1', 'v2', 'v3', 'v4', 'v4(bm=32,bn=32)', 'v5'].entries()) {
    // out[z] = W [8, 12] x X[z] [12, 20], W shared across 3 images
    await runMatmul({ M: 8, N: 20, K: 12, batch: 3, strideA: 0, strideB: 12 * 20, strideOut: 8 * 20, version }, 40 + i);
  }
});

s('F.linear forward and backward match the f64 reference; the reference matches finite differences', async () => {
  for (const [B, inF, outF] of [[6, 128, 40], [5, 67, 13], [4, 2048, 40]]) {
    const x = randomArray(B * inF, 1), w = randomArray(outF * inF, 2, -0.1, 0.1), b = randomArray(outF, 3), dy = randomArray(B * outF, 4);
    const tx = Tensor.fromArray(x, [B, inF], { requiresGrad: true });
    const tw = Tensor.fromArray(w, [outF, inF], { requiresGrad: true });
    const tb = Tensor.fromArray(b, [outF], { requiresGrad: true });
    const y = F.linear(tx, tw, tb);
    assert.equal(y.shape, [B, outF]);
    assertClose(await y.toArray(), linearFwdCpu(x, w, b, B, inF, outF), tolFor(inF), 'y');
    y.backward(Tensor.fromArray(dy, [B, outF]));
    const ref = linearBwdCpu(x, w, dy, B, inF, outF);
    assertClose(await tx.grad!.toArray(), ref.dx, tolFor(outF), 'dx');
    assertClose(await tw.grad!.toArray(), ref.dw, tolFor(B), 'dW');
    assertClose(await tb.grad!.toArray(), ref.db, tolFor(B), 'db');
    for (const t of [y, tx.grad!, tw.grad!, tb.grad!, tx, tw, tb]) t.dispose();
  }
  const [B, inF, outF] = [3, 4, 2];
  const x = Float64Array.from(randomArray(B * inF, 5)), w = Float64Array.from(randomArray(outF * inF, 6)), b = Float64Array.from(randomArray(outF, 7));
  const dy = randomArray(B * outF, 8);
  const numeric = numericGradCpu(([xx, ww, bb]) => linearFwdCpu(xx, ww, bb, B, inF, outF), [x, w, b], dy);
  const ref = linearBwdCpu(x, w, dy, B, inF, outF);
  const tol = { atol: 1e-8, rtol: 1e-7 };
  assertClose(ref.dx, numeric[0], tol, 'reference dx'); assertClose(ref.dw, numeric[1], tol, 'reference dW'); assertClose(ref.db, numeric[2], tol, 'reference db');
});

s('F.linear gradients pass GPU finite differences', async () => {
  const [B, inF, outF] = [5, 9, 7];
  const report = await gradcheck(([x, w, b]) => F.linear(x, w, b), [randomArray(B * inF, 1), randomArray(outF * inF, 2), randomArray(outF, 3)],
    [[B, inF], [outF, inF], [outF]], { samples: 8 });
  assert.ok(report.ok, report.failures.join('\n'));
});

s('F.linear matches PyTorch (fixtures: head layout 6x128->40 and odd 5x67->13)', async () => {
  const fx = loadHeadFixture('linear');
  for (const tag of ['head', 'odd']) {
    const [B, inF] = fx.shape(`${tag}.x`), outF = fx.shape(`${tag}.weight`)[0];
    const tx = Tensor.fromArray(fx.get(`${tag}.x`), [B, inF], { requiresGrad: true });
    const tw = Tensor.fromArray(fx.get(`${tag}.weight`), [outF, inF], { requiresGrad: true });
    const tb = Tensor.fromArray(fx.get(`${tag}.bias`), [outF], { requiresGrad: true });
    const y = F.linear(tx, tw, tb);
    const tol = { atol: 1e-5, rtol: 1e-5 };
    assertClose(await y.toArray(), fx.get(`${tag}.y`), tol, `${tag} y`);
    y.backward(Tensor.fromArray(fx.get(`${tag}.dy`), [B, outF]));
    assertClose(await tx.grad!.toArray(), fx.get(`${tag}.dx`), tol, `${tag} dx`);
    assertClose(await tw.grad!.toArray(), fx.get(`${tag}.dweight`), tol, `${tag} dW`);
    assertClose(await tb.grad!.toArray(), fx.get(`${tag}.dbias`), tol, `${tag} db`);
    for (const t of [y, tx.grad!, tw.grad!, tb.grad!, tx, tw, tb]) t.dispose();
  }
});

s('F.linear without bias, leading batch dimensions, and clear errors for bad shapes', async () => {
  const x = randomArray(2 * 3 * 5, 1), w = randomArray(4 * 5, 2);
  const tx = Tensor.fromArray(x, [2, 3, 5]), tw = Tensor.fromArray(w, [4, 5]);
  const y = F.linear(tx, tw);
  assert.equal(y.shape, [2, 3, 4]);
  assertClose(await y.toArray(), linearFwdCpu(x, w, null, 6, 5, 4), tolFor(5), 'no-bias y');
  const wrongIn = Tensor.zeros([4, 6]), flat = Tensor.zeros([20]), wrongBias = Tensor.zeros([5]);
  assertThrowsWith(() => F.linear(tx, wrongIn), /linear/, /\[2,3,5\]/, /in_features 6/);
  assertThrowsWith(() => F.linear(tx, flat), /linear/, /weight must be 2-D/);
  assertThrowsWith(() => F.linear(tx, tw, wrongBias), /linear/, /bias must be \[4\]/, /\[5\]/);
  for (const t of [tx, tw, y, wrongIn, flat, wrongBias]) t.dispose();
});

s.run();
