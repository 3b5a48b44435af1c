import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import { gpu } from '../../src/gpu/index.ts';
import * as F from '../../src/functional.ts';
import { noGrad, clearTape } from '../../src/autograd/tape.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import { batchNorm2dFwdCpu, batchNorm2dBwdCpu } from '../../kernels/batchnorm2d.ref.ts';
import { batchNorm2dApply, batchNorm2dBackward, batchNorm2dCoefficients, batchNorm2dFamily, batchNorm2dVersion } from '../../kernels/batchnorm2d.ts';
import { allChoices } from '../../kernels/versions.ts';
import { memoryStore, pendingTunes, resetAutotune, setAutotuneStore, setKernelVersion, tunePending } from '../../kernels/autotune.ts';
import { loadFixtureCases } from '../fixtures/norm_pool/load.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const tol = { atol: 1e-4, rtol: 1e-3 };

// Against the f64 reference, every output rests on per-channel sums of M = N*H*W terms (mean,
// variance, sum g, sum g*xhat) in float32: its error grows like eps32 * sqrt(M) * the output's
// scale. The bound is 12 * eps32 * sqrt(M) * max|ref|; the largest measured on lavapipe over the
// cases below is 4.1 (dx, which combines two such sums), 1.6 for y, under 1 for the others.
function bnTol(M: number, ref: ArrayLike<number>): { atol: number; rtol: number } {
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  return { atol: 12 * 2 ** -24 * Math.sqrt(M) * scale, rtol: 0 };
}
const s = suite('kernels: batchnorm2d');
s.before(setupGpu);
s.after(() => { setKernelVersion('batchnorm2d_reduce', null); setAutotuneStore(memoryStore()); resetAutotune(); });

interface Case { shape: number[]; training: boolean; relu: boolean; residual: boolean; affine: boolean; gradX?: boolean }

async function checkCase(c: Case, seed: number): Promise<void> {
  const { shape } = c;
  const C = shape[1], n = shape.reduce((a, b) => a * b, 1);
  const what = `${JSON.stringify(c)}`;
  const x = randomArray(n, seed, -2, 3), dy = randomArray(n, seed + 1);
  const w = c.affine ? randomArray(C, seed + 2, 0.5, 1.5) : null, b = c.affine ? randomArray(C, seed + 3) : null;
  const rm = randomArray(C, seed + 4, -0.3, 0.3), rv = randomArray(C, seed + 5, 0.5, 1.5);
  const res = c.residual ? randomArray(n, seed + 6) : null;
  const tx = Tensor.fromArray(x, shape, { requiresGrad: c.gradX ?? true });
  const tw = w && Tensor.fromArray(w, [C], { requiresGrad: true }), tb = b && Tensor.fromArray(b, [C], { requiresGrad: true });
  const trm = Tensor.fromArray(rm, [C]), trv = Tensor.fromArray(rv, [C]);
  const tres = res && Tensor.fromArray(res, shape, { requiresGrad: true });
  const y = F.batchNorm2d(tx, trm, trv, tw, tb, { training: c.training, relu: c.relu, residual: tres });
  const ref = batchNorm2dFwdCpu(x, shape, { training: c.training, relu: c.relu, runningMean: rm, runningVar: rv, weight: w, bias: b, residual: res });
  const M = shape[0] * shape[2] * shape[3];
  assertClose(await y.toArray(), ref.y, bnTol(M, ref.y), `y ${what}`);
  assertClose(await trm.toArray(), ref.runningMean!, bnTol(M, ref.runningMean!), `running mean ${what}`);
  assertClose(await trv.toArray(), ref.runningVar!, bnTol(M, ref.runningVar!), `running var ${what}`);
  y.backward(Tensor.fromArray(dy, shape));
  const g = batchNorm2dBwdCpu(x, dy, shape, ref, { training: c.training, weight: w, relu: c.relu });
  if (c.gradX ?? true) assertClose(await tx.grad!.toArray(), g.dx, bnTol(M, g.dx), `dx ${what}`);
  else assert.is(tx.grad, null);
  if (tw) assertClose(await tw.grad!.toArray(), g.dweight, bnTol(M, g.dweight), `dweight ${what}`);
  if (tb) assertClose(await tb.grad!.toArray(), g.dbias, bnTol(M, g.dbias), `dbias ${what}`);
  if (tres) assertClose(await tres.grad!.toArray(), g.dresidual!, bnTol(M, g.dresidual!), `dresidual ${what}`);
  for (const t of [tx, tw, tb, tres]) { t?.grad?.dispose(); t?.dispose(); }
  for (const t of [trm, trv, y]) t.dispose();
}

// v1: H*W odd or 1x1; v2: H*W % 4 == 0; C = 70 spans two finalize workgroups; 40x44 gives 256 partials per channel
const shapes = [[3, 5, 7, 9], [2, 6, 8, 12], [5, 4, 1, 1], [2, 70, 3, 3], [2, 3, 40, 44], [1, 3, 5, 3]];
const fusions = [[false, false], [true, false], [true, true], [false, true]] as const;

shapes.forEach((shape, i) => {
  s(`training forward, running stats and backward match the f64 reference, x[${shape}]`, async () => {
    for (const [k, [relu, residual]] of fusions.entries()) {
      await checkCase({ shape, training: true, relu, residual, affine: (i + k) % 3 !== 2, gradX: k !== 3 }, 100 * i + 10 * k);
    }
  });
});

s('eval forward and backward (affine backward) match the f64 reference', async () => {
  for (const [k, [relu, residual]] of fusions.entries()) {
    await checkCase({ shape: [3, 5, 7, 9], training: false, relu, residual, affine: k !== 1 }, 7 + k);
    await checkCase({ shape: [1, 4, 6, 6], training: false, relu, residual, affine: true }, 17 + k);
  }
});

s('every choice (v1 scalar, v2 vec4 at each reductionThreads) agrees on a shape all accept', async () => {
  const shape = [3, 7, 6, 10], C = 7, n = 3 * 7 * 60;
  const x = Tensor.fromArray(randomArray(n, 3, -1, 4), shape), dy = Tensor.fromArray(randomArray(n, 4), shape);
  const results: Float32Array[][] = [];
  for (const version of allChoices(batchNorm2dFamily)) {
    const coef = Tensor.empty([C, 4], 'coef'), y = Tensor.empty(shape, 'y'), dx = Tensor.empty(shape, 'dx');
    const dw = Tensor.empty([C], 'dw'), db = Tensor.empty([C], 'db'), masked = Tensor.empty(shape, 'masked');
    batchNorm2dCoefficients(x.binding, shape, version, { weight: null, bias: null, runningMean: null, runningVar: null }, coef.binding,
      { training: true, eps: 1e-5, momentum: 0.1 }, 'test');
    batchNorm2dApply(x.binding, coef.binding, null, y.binding, shape, version, true, 'test');
    batchNorm2dBackward(x.binding, dy.binding, y.binding, coef.binding, null, shape, version, true,
      { dx: dx.binding, dweight: dw.binding, dbias: db.binding, masked: masked.binding }, 'test');
    results.push(await Promise.all([y, dx, dw, db, masked].map((t) => t.toArray())));
    for (const t of [coef, y, dx, dw, db, masked]) t.dispose();
  }
  for (const k of [1, 2]) results[0].forEach((v, i) => assertClose(v, results[k][i], { atol: 1e-5, rtol: 1e-4 }, `v${k + 1} output ${i}`));
  x.dispose(); dy.dispose();
});

s('statistics stay accurate on data far from zero (mean 1000, std 0.1, 65536 values per channel)', async () => {
  const shape = [4, 2, 64, 128], n = 4 * 2 * 64 * 128;
  const x = randomArray(n, 9, -0.17, 0.17).map((v) => 1000 + v);
  const tx = Tensor.fromArray(x, shape), rm = Tensor.zeros([2]), rv = Tensor.zeros([2]);
  const y = F.batchNorm2d(tx, rm, rv, null, null, { training: true, momentum: 1 });
  const ref = batchNorm2dFwdCpu(x, shape, { training: true, momentum: 1, runningMean: [0, 0], runningVar: [0, 0] });
  assertClose(await rv.toArray(), ref.runningVar!, { atol: 0, rtol: 1e-4 }, 'variance');
  assertClose(await rm.toArray(), ref.runningMean!, { atol: 0, rtol: 1.2e-7 }, 'mean');
  // inputs near 1000 carry f32 rounding of 3e-5, i.e. 3e-4 of one standard deviation
  assertClose(await y.toArray(), ref.y, { atol: 2e-3, rtol: 1e-3 }, 'normalised values');
  for (const t of [tx, rm, rv, y]) t.dispose();
});

s('the reference backward matches f64 finite differences (training, relu + residual)', () => {
  const shape = [2, 3, 2, 3], n = 36, C = 3;
  const x = Float64Array.from(randomArray(n, 21, -2, 2)), res = Float64Array.from(randomArray(n, 22));
  const w = Float64Array.from(randomArray(C, 23, 0.5, 1.5)), b = Float64Array.from(randomArray(C, 24));
  const dy = randomArray(n, 25);
  const fwd = (v: Float64Array[]) => batchNorm2dFwdCpu(v[0], shape, { training: true, relu: true, weight: v[1], bias: v[2], residual: v[3] }).y;
  const numeric = numericGradCpu(fwd, [x, w, b, res], dy);
  const f = batchNorm2dFwdCpu(x, shape, { training: true, relu: true, weight: w, bias: b, residual: res });
  assert.ok(f.y.every((v) => v === 0 || v > 1e-3), 'inputs keep away from the relu kink');
  const g = batchNorm2dBwdCpu(x, dy, shape, f, { training: true, weight: w, relu: true });
  [g.dx, g.dweight, g.dbias, g.dresidual].forEach((v, i) => assertClose(v, numeric[i], { atol: 1e-7, rtol: 1e-6 }, `input ${i}`));
});

s('GPU gradients pass finite differences (training, and the 1x1 attention case)', async () => {
  const r1 = await gradcheck(([x, w, b]) => F.batchNorm2d(x, null, null, w, b, { training: true }),
    [randomArray(2 * 3 * 3 * 5, 31, -2, 2), randomArray(3, 32, 0.5, 1.5), randomArray(3, 33)], [[2, 3, 3, 5], [3], [3]],
    { samples: 8, eps: 1e-2, atol: 2e-2, rtol: 2e-2 });
  assert.ok(r1.ok, r1.failures.join('\n'));
  const r2 = await gradcheck(([x, res]) => F.batchNorm2d(x, null, null, null, null, { training: true, residual: res }),
    [randomArray(4 * 3, 34, -2, 2), randomArray(4 * 3, 35)], [[4, 3, 1, 1], [4, 3, 1, 1]], { samples: 6, atol: 2e-2, rtol: 2e-2 });
  assert.ok(r2.ok, r2.failures.join('\n'));
});

s('eval mode: the reference backward is dx = g w / sqrt(rv + eps), dw = sum g xhat, db = sum g, and matches f64 finite differences', () => {
  const shape = [2, 3, 2, 3], n = 36, C = 3, HW = 6, eps = 1e-5;
  const x = Float64Array.from(randomArray(n, 51, -2, 2)), res = Float64Array.from(randomArray(n, 52));
  const w = Float64Array.from(randomArray(C, 53, 0.5, 1.5)), b = Float64Array.from(randomArray(C, 54));
  const rm = randomArray(C, 55, -0.3, 0.3), rv = randomArray(C, 56, 0.5, 1.5);
  const dy = randomArray(n, 57);
  const opts = (v: Float64Array[]) => ({ training: false, relu: true, runningMean: rm, runningVar: rv, weight: v[1], bias: v[2], residual: v[3] });
  const numeric = numericGradCpu((v) => batchNorm2dFwdCpu(v[0], shape, opts(v)).y, [x, w, b, res], dy);
  const f = batchNorm2dFwdCpu(x, shape, opts([x, w, b, res]));
  assert.ok(f.y.every((v) => v === 0 || v > 1e-3), 'inputs keep away from the relu kink');
  const g = batchNorm2dBwdCpu(x, dy, shape, f, { training: false, weight: w, relu: true });
  [g.dx, g.dweight, g.dbias, g.dresidual].forEach((v, i) => assertClose(v, numeric[i], { atol: 1e-7, rtol: 1e-6 }, `input ${i}`));
  // the closed forms, with the relu mask applied to dy
  const masked = Array.from(dy, (v, i) => (f.y[i] > 0 ? v : 0));
  const channel = (i: number) => Math.floor(i / HW) % C;
  const invstd = (c: number) => 1 / Math.sqrt(rv[c] + eps);
  const dx = masked.map((v, i) => v * w[channel(i)] * invstd(channel(i)));
  const dw = new Float64Array(C), db = new Float64Array(C);
  masked.forEach((v, i) => { const c = channel(i); dw[c] += v * (x[i] - rm[c]) * invstd(c); db[c] += v; });
  assertClose(g.dx, dx, { atol: 1e-12, rtol: 1e-12 }, 'dx closed form');
  assertClose(g.dweight, dw, { atol: 1e-12, rtol: 1e-12 }, 'dweight closed form');
  assertClose(g.dbias, db, { atol: 1e-12, rtol: 1e-12 }, 'dbias closed form');
});

s('eval mode: GPU gradients pass finite differences, running statistics untouched', async () => {
  const C = 3, rmValues = randomArray(C, 61, -0.3, 0.3), rvValues = randomArray(C, 62, 0.5, 1.5);
  const rm = Tensor.fromArray(rmValues, [C]), rv = Tensor.fromArray(rvValues, [C]);
  // float32 central differences with eps 1e-2: the op is affine in each input, so the error is rounding only
  const r = await gradcheck(([x, w, b, res]) => F.batchNorm2d(x, rm, rv, w, b, { training: false, residual: res }),
    [randomArray(2 * 3 * 3 * 5, 63, -2, 2), randomArray(C, 64, 0.5, 1.5), randomArray(C, 65), randomArray(2 * 3 * 3 * 5, 66)],
    [[2, 3, 3, 5], [C], [C], [2, 3, 3, 5]], { samples: 8, eps: 1e-2, atol: 2e-3, rtol: 2e-3 });
  assert.ok(r.ok, r.failures.join('\n'));
  assertClose(await rm.toArray(), rmValues, { atol: 0, rtol: 0 }, 'running mean');
  assertClose(await rv.toArray(), rvValues, { atol: 0, rtol: 0 }, 'running var');
  rm.dispose(); rv.dispose();
});

s('PyTorch fixtures: outputs, gradients and running-stat updates', async () => {
  for (const fx of loadFixtureCases('batchnorm2d')) {
    const a = fx.args as { shape: number[]; training: boolean; relu: boolean; residual: boolean; affine: boolean; momentum: number; eps: number };
    const C = a.shape[1];
    const x = Tensor.fromArray(fx.get('x'), a.shape, { requiresGrad: true });
    const w = a.affine ? Tensor.fromArray(fx.get('weight'), [C], { requiresGrad: true }) : null;
    const b = a.affine ? Tensor.fromArray(fx.get('bias'), [C], { requiresGrad: true }) : null;
    const res = a.residual ? Tensor.fromArray(fx.get('residual'), a.shape, { requiresGrad: true }) : null;
    const rm = Tensor.fromArray(fx.get('running_mean'), [C]), rv = Tensor.fromArray(fx.get('running_var'), [C]);
    const y = F.batchNorm2d(x, rm, rv, w, b, { training: a.training, momentum: a.momentum, eps: a.eps, relu: a.relu, residual: res });
    y.backward(Tensor.fromArray(fx.get('dy'), a.shape));
    // float64 results of float32 inputs, rounded once: the f64 bound plus half an ulp, which its
    // margin covers. Inputs near 300 (offset_*) carry f32 rounding of 3e-5 into every x - mean,
    // so y, dx and dweight there get the looser bound that scale calls for.
    const M = a.shape[0] * a.shape[2] * a.shape[3];
    const near = (key: string) => (fx.name.startsWith('offset') && key !== 'dbias' ? { atol: 2e-3, rtol: tol.rtol } : bnTol(M, fx.get(key)));
    assertClose(await y.toArray(), fx.get('y'), near('y'), `${fx.name} y`);
    assertClose(await x.grad!.toArray(), fx.get('dx'), near('dx'), `${fx.name} dx`);
    assertClose(await rm.toArray(), fx.get('running_mean_after'), { atol: 1e-5, rtol: 1e-5 }, `${fx.name} running_mean`);
    assertClose(await rv.toArray(), fx.get('running_var_after'), { atol: 1e-5, rtol: 1e-4 }, `${fx.name} running_var`);
    if (w) assertClose(await w.grad!.toArray(), fx.get('dweight'), near('dweight'), `${fx.name} dweight`);
    if (b) assertClose(await b.grad!.toArray(), fx.get('dbias'), near('dbias'), `${fx.name} dbias`);
    if (res) assertClose(await res.grad!.toArray(), fx.get('dresidual'), near('dresidual'), `${fx.name} dresidual`);
    if (w && b) {
      // a second backward adds into the .grads; the kernel adds weight's and bias's itself (the
      // tape hands them over), the tape adds only the other inputs'. Training gradients use the
      // batch's statistics and eval ones the unchanged running ones: the second pass's equal the first's.
      const y2 = F.batchNorm2d(x, rm, rv, w, b, { training: a.training, momentum: a.momentum, eps: a.eps, relu: a.relu, residual: res });
      const adds: string[] = [];
      gpu().recorder.onDispatch = (_p, label) => { if (label.startsWith('grad accumulate')) adds.push(label); };
      try { y2.backward(Tensor.fromArray(fx.get('dy'), a.shape)); } finally { gpu().recorder.onDispatch = null; }
      assert.is(adds.length, res ? 2 : 1, `${fx.name}: the tape adds x's${res ? ' and the residual\'s' : ''} gradient only (${adds})`);
      const twice = (key: string) => fx.get(key).map((v) => 2 * v);
      const tol2 = (key: string) => { const t = near(key); return { atol: 2 * t.atol, rtol: t.rtol }; };
      assertClose(await w.grad!.toArray(), twice('dweight'), tol2('dweight'), `${fx.name} dweight, twice`);
      assertClose(await b.grad!.toArray(), twice('dbias'), tol2('dbias'), `${fx.name} dbias, twice`);
      y2.dispose();
    }
    for (const t of [x, w, b, res]) { t?.grad?.dispose(); t?.dispose(); }
    for (const t of [rm, rv, y]) t.dispose();
  }
});

s('no tape, no leaks: forward under noGrad frees its coefficients', async () => {
  const x = Tensor.fromArray(randomArray(2 * 3 * 4 * 4, 41), [2, 3, 4, 4]);
  const rm = Tensor.zeros([3]), rv = Tensor.ones([3]);
  const before = (await import('../../src/gpu/index.ts')).gpu().pool.stats.liveBuffers;
  const y = noGrad(() => F.batchNorm2d(x, rm, rv, null, null, { training: true, relu: true }));
  const after = (await import('../../src/gpu/index.ts')).gpu().pool.stats.liveBuffers;
  assert.is(after, before + 1, 'only the output stays allocated');
  for (const t of [x, rm, rv, y]) t.dispose();
  clearTape();
});

s('bad input: shapes, missing running stats, batch-1 training on 1x1 maps, options', () => {
  const x = Tensor.zeros([2, 3, 4, 4]), one = Tensor.zeros([1, 8, 1, 1]);
  const c3 = Tensor.ones([3]), c4 = Tensor.ones([4]), c8 = Tensor.ones([8]);
  const train = { training: true };
  assertThrowsWith(() => F.batchNorm2d(Tensor.zeros([2, 3]), null, null, null, null, train), /batchNorm2d/, /4-D/, /\[2,3\]/);
  assertThrowsWith(() => F.batchNorm2d(x, null, null, c4, null, train), /batchNorm2d/, /weight/, /\[4\]/, /\[2,3,4,4\]/);
  assertThrowsWith(() => F.batchNorm2d(x, c3, null, null, null, train), /runningMean and runningVar/);
  assertThrowsWith(() => F.batchNorm2d(x, null, null, null, null, { training: false }), /eval mode/, /running/);
  assertThrowsWith(() => F.batchNorm2d(one, c8, c8, null, null, train), /more than 1 value per channel/, /\[1,8,1,1\]/, /batch/);
  assertThrowsWith(() => F.batchNorm2d(x, null, null, null, null, { training: true, residual: one }), /residual/, /\[1,8,1,1\]/, /\[2,3,4,4\]/);
  assertThrowsWith(() => F.batchNorm2d(x, null, null, null, null, { training: true, momentum: 2 }), /momentum/);
  assertThrowsWith(() => F.batchNorm2d(x, null, null, null, null, {} as never), /training/);
  const rm = Tensor.zeros([3]);
  const alias = rm.view([3], 'alias');
  assertThrowsWith(() => F.batchNorm2d(x, rm, alias, null, null, train), /runningMean and runningVar overlap/);
  assertThrowsWith(() => F.batchNorm2d(x, c3, rm, rm, null, train), /weight/, /running statistics/);
  const ok = noGrad(() => F.batchNorm2d(one, c8, c8, null, null, { training: false })); // eval at batch 1 is fine
  for (const t of [x, one, c3, c4, c8, rm, alias, ok]) t.dispose();
});

s('autotune: a vec4 shape of 64 pixels or more runs v2 until its choices are measured once, then the fastest; odd and small planes run v1; forcing', async () => {
  setAutotuneStore(memoryStore());
  resetAutotune();
  const shape = [2, 8, 8, 8], odd = [2, 8, 3, 3], small = [2, 8, 4, 4];
  assert.is(batchNorm2dVersion(shape).id, 'v2');
  assert.is(batchNorm2dVersion(odd).id, 'v1');
  assert.is(batchNorm2dVersion(small).id, 'v1', 'v1 until measured on planes under 64 pixels');
  assert.is(pendingTunes(), 2, 'the vec4 shapes are queued, the small one too');
  const results = await tunePending({ repeats: 1 });
  assert.equal(results.map((r) => [r.op, r.key]), [['batchnorm2d_reduce', '2,8,8,8'], ['batchnorm2d_reduce', '2,8,4,4']]);
  assert.equal(Object.keys(results[0].ms), ['v1', 'v2', 'v2(reductionThreads=32768)']);
  assert.is(batchNorm2dVersion(shape).id, results[0].best);
  assert.is(pendingTunes(), 0);
  setKernelVersion('batchnorm2d_reduce', 'v2(reductionThreads=32768)');
  assert.equal(batchNorm2dVersion(shape).params, { reductionThreads: 32768 });
  assert.is(batchNorm2dVersion(odd).id, 'v1', 'a forced vec4 version applies where it runs: v1 where H*W % 4 != 0');
  setKernelVersion('batchnorm2d_reduce', 'v2(reductionThreads=7)');
  assertThrowsWith(() => batchNorm2dVersion(shape), /batchnorm2d_reduce/, /reductionThreads must be one of 1024, 32768, got 7/);
  setKernelVersion('batchnorm2d_reduce', 'v9');
  assertThrowsWith(() => batchNorm2dVersion(shape), /batchnorm2d/, /no version v9/);
  setKernelVersion('batchnorm2d_reduce', null);
  resetAutotune();
});

s.run();
