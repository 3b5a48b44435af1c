import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gpu } from '../../src/gpu/index.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { SGD, splitWeightDecayGroups, ReduceLROnPlateau, type SGDOptions } from '../../src/optim/index.ts';
import { sgdStepCpu } from '../../kernels/sgd.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';
import { loadHeadFixture } from '../fixtures/head/load.ts';

const s = suite('optim: SGD');
s.before(setupGpu);

const tol = { atol: 1e-6, rtol: 1e-5 };

/** Gradient G for p through the tape: d/dp sum(p * G) = G, accumulated into p.grad. */
function backwardWith(p: Tensor, g: Float32Array): void {
  const G = Tensor.fromArray(g, p.shape);
  const loss = tidy(() => F.sum(F.mul(p, G)));
  loss.backward();
  loss.dispose(); G.dispose();
}

interface TorchConfig { lr: number; momentum: number; dampening: number; weight_decay: number; nesterov: boolean }

s('matches torch.optim.SGD over 4 steps (first momentum step, lr halved before step 3, bias group without weight decay)', async () => {
  const fx = loadHeadFixture('sgd');
  const cfg = fx.config as { configs: Record<string, TorchConfig>; steps: number; lr_scale_from_step3: number };
  for (const [name, c] of Object.entries(cfg.configs)) {
    for (const chunkBytes of [undefined, 256]) { // 256: every parameter in its own arena chunk
      const ps = Object.fromEntries(['p0', 'p1', 'p2'].map((k) => [k, Tensor.fromArray(fx.get(`init.${k}`), fx.shape(`init.${k}`), { requiresGrad: true })]));
      const opts: SGDOptions = { lr: c.lr, momentum: c.momentum, dampening: c.dampening, weightDecay: c.weight_decay, nesterov: c.nesterov, arenaChunkBytes: chunkBytes };
      const opt = new SGD([{ params: [ps.p0, ps.p2] }, { params: [ps.p1], weightDecay: 0 }], opts);
      for (let step = 1; step <= cfg.steps; step++) {
        if (step === 3) for (const g of opt.paramGroups) g.lr *= cfg.lr_scale_from_step3;
        opt.zeroGrad();
        for (const k of ['p0', 'p1', 'p2']) backwardWith(ps[k], fx.get(`grad${step}.${k}`));
        const before = gpu().recorder.stats.dispatches;
        opt.step();
        assert.is(gpu().recorder.stats.dispatches - before, chunkBytes ? 3 : 2, 'one dispatch per group and chunk');
        for (const k of ['p0', 'p1', 'p2']) assertClose(await ps[k].toArray(), fx.get(`${name}.step${step}.${k}`), tol, `${name} step ${step} ${k} (chunk ${chunkBytes ?? 'default'})`);
      }
      const state = await opt.stateDict();
      assert.is(state.step, cfg.steps);
      if (c.momentum !== 0) {
        ['p0', 'p2', 'p1'].forEach((k, i) => assertClose(state.momentumBuffers[i] ?? [], fx.get(`${name}.momentum.${k}`), tol, `${name} momentum ${k}`));
      } else {
        assert.is(state.momentumBuffers.length, 0);
      }
      for (const p of Object.values(ps)) p.dispose();
    }
  }
});

s('one dispatch per group per step, one clear for zeroGrad, and the tape accumulates into the gradient arena', async () => {
  const shapes = [[7, 3], [5], [2, 2, 3], [1]];
  const ps = shapes.map((shape, i) => Tensor.fromArray(randomArray(shape.reduce((a, b) => a * b, 1), i), shape, { requiresGrad: true }));
  const opt = new SGD(splitWeightDecayGroups(ps, 0.1), { lr: 0.5, momentum: 0.9 });
  assert.equal(opt.paramGroups.map((g) => g.params.length), [2, 2]);
  assert.ok(ps.every((p) => p.grad === null), 'no gradient before the first backward, as in PyTorch');
  const g1 = randomArray(21, 9), g2 = randomArray(21, 10);
  backwardWith(ps[0], g1);
  const grad0 = ps[0].grad!;
  backwardWith(ps[0], g2);
  assert.ok(ps[0].grad === grad0, 'the gradient stays the arena tensor');
  assertClose(await ps[0].grad!.toArray(), g1.map((v, i) => v + g2[i]), { atol: 1e-6, rtol: 1e-6 }, 'accumulated gradient');
  for (const p of ps.slice(1)) backwardWith(p, randomArray(p.size, 11));
  const stats = gpu().recorder.stats;
  const before = stats.dispatches;
  opt.step();
  assert.is(stats.dispatches - before, 2, 'two groups: two dispatches');
  opt.zeroGrad();
  assert.is(stats.dispatches - before, 2, 'zeroGrad is a clear, not a dispatch');
  assert.ok(ps.every((p) => p.grad === null), 'zeroGrad() sets gradients to null (set_to_none)');
  backwardWith(ps[1], randomArray(5, 12));
  assert.ok((await ps[1].grad!.toArray()).every((v, i) => v === randomArray(5, 12)[i]), 'the next gradient starts from zero');
  for (const p of ps) p.dispose();
});

s('conv2d and batch norm store their first gradient into a zeroed arena home and add every later one', async () => {
  // shapes whose dW ends in a sum of partial results (1x1: v8's ranges; 3x3 at 64 channels:
  // v9's sum of ranges) as well as direct ones: a store in place of an add must not lose a term
  const cases = [{ x: [2, 8, 5, 5], w: [16, 8, 1, 1], groups: 1 }, { x: [1, 64, 6, 6], w: [64, 64, 3, 3], groups: 1 },
    { x: [2, 6, 7, 7], w: [8, 3, 3, 3], groups: 2 }];
  for (const c of cases) {
    const [n, ci, h, w] = c.x, co = c.w[0];
    const x = Tensor.fromArray(randomArray(n * ci * h * w, 41), c.x);
    const weight = Tensor.fromArray(randomArray(c.w.reduce((a, b) => a * b, 1), 42).map((v) => v * 0.2), c.w, { requiresGrad: true });
    const bias = Tensor.fromArray(randomArray(co, 43), [co], { requiresGrad: true });
    const gamma = Tensor.fromArray(randomArray(co, 44).map((v) => 1 + 0.3 * v), [co], { requiresGrad: true });
    const beta = Tensor.fromArray(randomArray(co, 45), [co], { requiresGrad: true });
    const params = [weight, bias, gamma, beta];
    const ho = c.w[2] === 3 ? h - 2 : h;
    const G = Tensor.fromArray(randomArray(n * co * ho * ho, 46), [n, co, ho, ho]);
    const backward = () => {
      const loss = tidy(() => F.sum(F.mul(F.batchNorm2d(F.conv2d(x, weight, bias, { groups: c.groups }), null, null, gamma, beta, { training: true, relu: true }), G)));
      loss.backward();
      loss.dispose();
    };
    backward(); // no optimizer yet: plain .grad tensors, the reference
    const want = await Promise.all(params.map((p) => p.grad!.toArray()));
    for (const p of params) { p.grad!.dispose(); p.grad = null; }
    const opt = new SGD(params, { lr: 0.1 });
    const label = `x${c.x} w${c.w}`;
    backward();
    for (const [i, p] of params.entries()) assertClose(await p.grad!.toArray(), want[i], tol, `${label}: param ${i}, first gradient into its zeroed home`);
    backward();
    for (const [i, p] of params.entries()) assertClose(await p.grad!.toArray(), want[i].map((v) => 2 * v), tol, `${label}: param ${i}, second added`);
    opt.zeroGrad();
    backward();
    for (const [i, p] of params.entries()) assertClose(await p.grad!.toArray(), want[i], tol, `${label}: param ${i}, after zeroGrad()`);
    opt.zeroGrad(false); // zeros kept as gradients: the tape adds into them
    backward();
    for (const [i, p] of params.entries()) assertClose(await p.grad!.toArray(), want[i], tol, `${label}: param ${i}, after zeroGrad(false)`);
    for (const t of [x, G, ...params]) t.dispose();
  }
});

s('a parameter without a gradient, or frozen, is skipped entirely; zeroGrad(false) keeps zero gradients that still decay', async () => {
  const xa = randomArray(12, 31), xb = randomArray(8, 32), xc = randomArray(4, 33), ga = randomArray(12, 34);
  const a = Tensor.fromArray(xa, [3, 4], { requiresGrad: true }), b = Tensor.fromArray(xb, [2, 4], { requiresGrad: true });
  const frozen = Tensor.fromArray(xc, [4]);
  const h = { lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 0.1, nesterov: false };
  const opt = new SGD([a, frozen, b], h);
  backwardWith(a, ga);
  frozen.grad = Tensor.fromArray(randomArray(4, 35), [4]); // a stale gradient on a frozen parameter
  const before = gpu().recorder.stats.dispatches;
  opt.step();
  assert.is(gpu().recorder.stats.dispatches - before, 1, 'one run: a');
  const wantA = Float64Array.from(xa);
  let bufA = sgdStepCpu(wantA, ga, null, h);
  assertClose(await a.toArray(), wantA, tol, 'a stepped');
  assertClose(await b.toArray(), xb, { atol: 0, rtol: 0 }, 'b (no gradient) untouched');
  assertClose(await frozen.toArray(), xc, { atol: 0, rtol: 0 }, 'frozen untouched');
  const state = await opt.stateDict();
  assert.is(state.momentumBuffers[1], null, 'no momentum state for the frozen parameter');
  assert.is(state.momentumBuffers[2], null, 'no momentum state for b');
  // PyTorch 1.13's zero_grad(): gradients that exist become zeros and still get decay and momentum
  opt.zeroGrad(false);
  assert.ok(a.grad !== null && b.grad === null, 'a keeps a zero gradient, b has none');
  opt.step();
  bufA = sgdStepCpu(wantA, new Float32Array(12), bufA, h);
  assertClose(await a.toArray(), wantA, tol, 'a: decay and momentum with a zero gradient');
  assertClose(await b.toArray(), xb, { atol: 0, rtol: 0 }, 'b still untouched');
  for (const t of [a, b, frozen]) t.dispose();
});

s('lr set on the optimizer takes effect at the next step; ReduceLROnPlateau drives it', async () => {
  const x = randomArray(6, 1), g = randomArray(6, 2);
  const p = Tensor.fromArray(x, [6], { requiresGrad: true });
  const opt = new SGD([p], { lr: 1 });
  const sched = new ReduceLROnPlateau(opt, { mode: 'max', patience: 0, factor: 0.1 });
  sched.step(0.5);
  sched.step(0.4); // no improvement, patience 0: lr drops now
  assertClose([opt.lr, opt.paramGroups[0].lr], [0.1, 0.1], { atol: 0, rtol: 1e-12 }, 'lr after plateau');
  backwardWith(p, g);
  opt.step();
  const want = Float64Array.from(x);
  sgdStepCpu(want, g, null, { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false });
  assertClose(await p.toArray(), want, tol, 'step with the new lr');
  opt.lr = 0.25;
  assert.is(opt.paramGroups[0].lr, 0.25);
  p.dispose();
});

s('stateDict / loadStateDict round trip continues exactly as an uninterrupted run', async () => {
  const x = randomArray(30, 3), grads = [4, 5, 6, 7].map((seed) => randomArray(30, seed));
  const run = async (split: boolean) => {
    const p = Tensor.fromArray(x, [5, 6], { requiresGrad: true });
    let opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    for (let i = 0; i < 4; i++) {
      if (split && i === 2) {
        const state = JSON.parse(JSON.stringify({ ...(await opt.stateDict()), momentumBuffers: [] }));
        const buffers = (await opt.stateDict()).momentumBuffers;
        opt = new SGD([p], { lr: 1, momentum: 0.9, nesterov: true }); // a fresh optimizer takes the parameter over
        opt.loadStateDict({ ...state, momentumBuffers: buffers });
        assert.is(opt.stepCount, 2);
        assert.is(opt.paramGroups[0].weightDecay, 0.01);
      }
      opt.zeroGrad();
      backwardWith(p, grads[i]);
      opt.step();
    }
    const out = await p.toArray();
    p.dispose();
    return out;
  };
  assertClose(await run(true), await run(false), { atol: 0, rtol: 0 }, 'resumed run');
});

s('a disposed .grad: the tape starts a fresh one in the arena; a .grad assigned by hand is copied in', async () => {
  const x = randomArray(8, 1), g = randomArray(8, 2), g2 = randomArray(8, 3);
  const p = Tensor.fromArray(x, [8], { requiresGrad: true });
  const opt = new SGD([p], { lr: 1 });
  backwardWith(p, g2);
  p.grad!.dispose();
  backwardWith(p, g); // the disposed gradient counts as none: g alone
  opt.step();
  const want = Float64Array.from(x, (v, i) => v - g[i]);
  assertClose(await p.toArray(), want, tol, 'stepped with the fresh gradient');
  assert.ok(!p.grad!.disposed);
  opt.zeroGrad();
  const byHand = Tensor.fromArray(g2, [8]);
  p.grad = byHand;
  opt.step();
  for (let i = 0; i < 8; i++) want[i] -= g2[i];
  assertClose(await p.toArray(), want, tol, 'stepped with the assigned gradient');
  assert.ok(byHand.disposed && p.grad !== byHand, 'the assigned gradient now lives in the arena');
  p.dispose();
});

s('clear errors for bad parameters and hyper-parameters', () => {
  const p = Tensor.zeros([3], { requiresGrad: true }), q = Tensor.zeros([3]);
  assertThrowsWith(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum > 0 and zero dampening/);
  assertThrowsWith(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov/);
  assertThrowsWith(() => new SGD([p], { lr: -1 }), /lr must be/);
  assertThrowsWith(() => new SGD([p, p], { lr: 0.1 }), /appears more than once/);
  assertThrowsWith(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
  const opt = new SGD([p], { lr: 0.1 });
  assertThrowsWith(() => { opt.lr = NaN; }, /lr must be/);
  assertThrowsWith(() => opt.loadStateDict({ step: 1, paramGroups: [], momentumBuffers: [] }), /0 parameter groups for an optimizer with 1/);
  const group = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, params: [0] };
  assertThrowsWith(() => opt.loadStateDict({ step: 1, paramGroups: [group], momentumBuffers: [new Float32Array(4)] }),
    /momentum buffer 0 has 4 values, parameter 0 \(.*\[3\]\) has 3/);
  assertThrowsWith(() => opt.loadStateDict({ step: 1, paramGroups: [group], momentumBuffers: [null, null] }), /2 momentum buffers for 1 parameters/);
  assertThrowsWith(() => opt.loadStateDict({ step: -1, paramGroups: [group], momentumBuffers: [] }), /step must be an integer >= 0/);
  const frozenOk = new SGD([q], { lr: 0.1 }); // PyTorch accepts parameters that do not require grad (a frozen backbone)
  frozenOk.step();
  const taken = new SGD([p], { lr: 0.1 });
  assertThrowsWith(() => opt.step(), /now belongs to a newer optimizer/);
  taken.step();
  p.dispose(); q.dispose();
});

s('dispose frees the three arenas and leaves parameters without a gradient home; stepping afterwards is refused', async () => {
  const p = Tensor.fromArray(randomArray(1000, 3), [1000], { requiresGrad: true });
  const live = () => gpu().resources.stats().buffers.live;
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  backwardWith(p, randomArray(1000, 4));
  opt.step();
  await gpu().recorder.sync();
  const before = live();
  opt.dispose();
  const next = Tensor.zeros([4]); // the next submission destroys them
  await gpu().recorder.sync();
  next.dispose();
  assert.is(live(), before - 3, 'the parameter, gradient and momentum arenas destroyed at the next submission');
  assert.is(p.grad, null);
  assert.is(p.gradHome, null);
  assertThrowsWith(() => opt.step(), /SGD: used after dispose\(\)/);
  p.dispose();
});

s.run();
