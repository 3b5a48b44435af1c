// torch.optim.SGD semantics a fine-tuner relies on, against PyTorch (float64): a partly frozen
// tiny ResNeSt over 3 steps, written by scripts/fixtures/sgd_finetune_fixtures.py. Frozen
// parameters are never touched, a parameter without a gradient in a step is skipped entirely,
// and the momentum first-step rule applies per parameter (layer1 joins at step 2).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gpu } from '../../src/gpu/index.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { ResNeSt, type StateArray } from '../../src/nn/index.ts';
import { SGD, splitWeightDecayGroups, type SGDStateDict } from '../../src/optim/index.ts';
import { parseSafetensors, type SafetensorsFile } from '../../src/io/safetensors.ts';
import { assertClose, setupGpu } from '../helpers.ts';

const s = suite('optim: SGD fine-tuning a partly frozen ResNeSt');
s.before(setupGpu);

const read = (url: URL, name: string): SafetensorsFile => parseSafetensors(new Uint8Array(readFileSync(url)), name);
const fixture = read(new URL('../fixtures/optim/sgd_finetune.safetensors', import.meta.url), 'sgd_finetune.safetensors');
const weights = read(new URL('../fixtures/model/resnest_tiny_r2k2.safetensors', import.meta.url), 'resnest_tiny_r2k2.safetensors');
const meta = JSON.parse(fixture.metadata.config) as {
  configs: Record<string, { lr: number; momentum: number; dampening: number; weight_decay: number; nesterov: boolean }>;
  steps: number; trainable: string[]; layer1_from_step: number; fc_bias_no_grad_at_step: number;
};
const values = (file: SafetensorsFile, key: string) => {
  const t = file.tensors.get(key);
  if (!t) throw new Error(`${key} missing from the fixture`);
  return t.data as Float32Array;
};

/** The script's rule: which parameters require grad at step 1, 2, 3. */
function trainable(name: string, step: number): boolean {
  if (name.startsWith('layer1.')) return step >= meta.layer1_from_step;
  if (name === 'fc.bias') return step !== meta.fc_bias_no_grad_at_step;
  return meta.trainable.some((p) => name.startsWith(p));
}

function loadModel(): ResNeSt {
  const c = JSON.parse(weights.metadata.config);
  const model = new ResNeSt({
    layers: c.layers, radix: c.radix, cardinality: c.cardinality, bottleneckWidth: c.bottleneck_width, stemWidth: c.stem_width,
    deepStem: c.deep_stem, avgDown: c.avg_down, avd: c.avd, avdFirst: c.avd_first, numClasses: c.num_classes, planes: c.planes,
  });
  const state = new Map([...weights.tensors].filter(([k]) => model.stateDict().has(k))) as Map<string, StateArray>;
  model.loadStateDict(state, { source: 'resnest_tiny_r2k2.safetensors' });
  return model;
}

/** One step: requires_grad as the script sets it, zeroGrad, gradients through the tape (d/dp sum(p * G) = G), step. */
function step(model: ResNeSt, opt: SGD, k: number): number {
  const named = model.namedParameters();
  for (const [name, p] of named) p.requiresGrad = trainable(name, k);
  opt.zeroGrad();
  const consts: Tensor[] = [];
  const loss = tidy(() => {
    let total: Tensor | null = null;
    for (const [name, p] of named) {
      if (!p.requiresGrad) continue;
      const g = Tensor.fromArray(values(fixture, `grad${k}.${name}`), p.shape);
      consts.push(g);
      const term = F.sum(F.mul(p, g));
      total = total ? F.add(total, term) : term;
    }
    return total!;
  });
  loss.backward();
  loss.dispose();
  for (const g of consts) g.dispose();
  for (const [name, p] of named) assert.is(p.grad !== null, p.requiresGrad, `${name}: a gradient exactly when it requires grad (step ${k})`);
  const before = gpu().recorder.stats.dispatches;
  opt.step();
  return gpu().recorder.stats.dispatches - before;
}

// f32 arithmetic of a few multiply-adds per step on O(1) values, 3 steps, against f64 rounded once
const tol = { atol: 1e-6, rtol: 1e-5 };

async function check(model: ResNeSt, opt: SGD, cfgName: string, what: string): Promise<void> {
  const state = await opt.stateDict();
  const named = model.namedParameters();
  const hasMomentum = meta.configs[cfgName].momentum !== 0;
  if (!hasMomentum) assert.is(state.momentumBuffers.length, 0, `${what}: no momentum state at all for momentum 0`);
  else assert.is(state.momentumBuffers.length, named.length, `${what}: one momentum entry per parameter`);
  // the optimizer's parameter order: the >= 2-D group, then the 1-D group
  const order = [...named.filter(([, p]) => p.shape.length > 1), ...named.filter(([, p]) => p.shape.length <= 1)];
  for (const [i, [name, p]] of order.entries()) {
    const everTrained = [1, 2, 3].some((k) => trainable(name, k));
    const got = await p.toArray();
    if (everTrained) assertClose(got, values(fixture, `${cfgName}.final.${name}`), tol, `${what} ${name}`);
    else assertClose(got, values(weights, name), { atol: 0, rtol: 0 }, `${what}: frozen ${name} untouched`);
    if (!hasMomentum) continue;
    const buf = state.momentumBuffers[i];
    if (everTrained) assertClose(buf ?? [], values(fixture, `${cfgName}.momentum.${name}`), tol, `${what} momentum ${name}`);
    else assert.is(buf, null, `${what}: no momentum state for frozen ${name}`);
  }
}

for (const cfgName of Object.keys(meta.configs)) {
  s(`${cfgName}: 3 steps match torch.optim.SGD; frozen parameters untouched; fc.bias skipped at step 2; layer1's momentum starts at step 2`, async () => {
    const c = meta.configs[cfgName];
    const model = loadModel();
    const opt = new SGD(splitWeightDecayGroups(model.parameters(), c.weight_decay),
      { lr: c.lr, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov });
    for (let k = 1; k <= meta.steps; k++) {
      const dispatches = step(model, opt, k);
      const stepping = model.parameters().filter((p) => p.requiresGrad).length;
      assert.ok(dispatches >= 2 && dispatches < stepping, `step ${k}: ${dispatches} dispatches (runs of stepping parameters) for ${stepping} parameters`);
    }
    await check(model, opt, cfgName, cfgName);
    model.dispose();
  });
}

s('dampened: a resume after step 1 (before layer1 has momentum state) through stateDict/loadStateDict continues as PyTorch', async () => {
  const cfgName = 'dampened', c = meta.configs[cfgName];
  const model = loadModel();
  const make = () => new SGD(splitWeightDecayGroups(model.parameters(), c.weight_decay),
    { lr: c.lr, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov });
  let opt = make();
  step(model, opt, 1);
  const saved = await opt.stateDict();
  assert.ok(saved.momentumBuffers.some((b) => b === null) && saved.momentumBuffers.some((b) => b !== null), 'state for some parameters only');
  const { momentumBuffers, ...rest } = saved;
  const restored: SGDStateDict = { ...JSON.parse(JSON.stringify(rest)), momentumBuffers };
  opt = make(); // takes the parameters over, as a resumed process would build it
  opt.loadStateDict(restored);
  for (let k = 2; k <= meta.steps; k++) step(model, opt, k);
  await check(model, opt, cfgName, 'resumed');
  model.dispose();
});

s.run();
