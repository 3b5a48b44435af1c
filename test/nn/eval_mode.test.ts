// Eval mode is PyTorch's: batch norm normalises with its running statistics (left unchanged) and
// gradients still flow to the input and every conv and BN parameter. The folded conv+BN copy is
// used only where nothing needs a gradient, and is never stale after a write of any weight.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { noGrad, tidy, clearTape } from '../../src/index.ts';
import { SGD } from '../../src/optim/index.ts';
import { ResNeSt, type StateArray } from '../../src/nn/index.ts';
import { parseSafetensors, type SafetensorsFile } from '../../src/io/safetensors.ts';
import { assertClose, setupGpu } from '../helpers.ts';

const file: SafetensorsFile = parseSafetensors(new Uint8Array(readFileSync(
  new URL('../fixtures/model/resnest_tiny_r2k1_eval_grads.safetensors', import.meta.url))), 'eval grads fixture');
const f32 = (key: string) => file.tensors.get(key)!.data as Float32Array;
const config = JSON.parse(file.metadata.config);
const weights = new Map([...file.tensors].filter(([k]) => !/^(input|targets|alpha|logits|loss|grad\.)/.test(k))) as Map<string, StateArray>;

function makeModel(state: Map<string, StateArray> = weights): ResNeSt {
  const model = new ResNeSt({
    layers: config.layers, radix: config.radix, cardinality: config.cardinality, bottleneckWidth: config.bottleneck_width,
    stemWidth: config.stem_width, deepStem: config.deep_stem, avgDown: config.avg_down, avd: config.avd, avdFirst: config.avd_first,
    numClasses: config.num_classes, planes: config.planes, seed: 5,
  });
  model.loadStateDict(state, { source: 'eval grads fixture' });
  return model.eval();
}

const inputShape = file.tensors.get('input')!.shape;

async function evalLogits(model: ResNeSt, x: Tensor): Promise<Float32Array> {
  const out = noGrad(() => tidy(() => model.forward(x)));
  const v = await out.toArray();
  out.dispose();
  return v;
}

const s = suite('nn: eval mode');
s.before(setupGpu);

s('eval-mode gradients of every parameter and of the input match PyTorch (float64 fixture); running stats stay put', async () => {
  const model = makeModel();
  const x = Tensor.fromArray(f32('input'), inputShape, { requiresGrad: true });
  const y = Tensor.fromArray(f32('targets'), [2, config.num_classes]);
  const [loss, logits] = tidy(() => {
    const out = model.forward(x);
    return [F.sigmoidFocalLoss(out, y, { alpha: f32('alpha'), gamma: 2 }), out] as const;
  });
  assert.is(model.bn1.folded, null, 'a forward that needs gradients does not use the folded copy');
  const valueTol = { atol: 1e-4, rtol: 1e-3 };
  assertClose(await logits.toArray(), f32('logits.eval'), valueTol, 'eval logits');
  assertClose([await loss.item()], f32('loss.eval'), valueTol, 'eval loss');
  loss.backward();
  // Each tensor against its own largest value: near-zero entries carry the f32 rounding of the
  // whole reduction behind them. Measured worst: 1.9e-5 of the max (PyTorch's float32: 2.9e-5).
  const check = async (key: string, t: Tensor) => {
    const ref = f32(key);
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(scale > 0, `${key} is not identically zero`);
    assertClose(await t.grad!.toArray(), ref, { atol: 1e-4 * scale, rtol: 1e-4 }, key);
  };
  await check('grad.input', x);
  for (const [key, p] of model.namedParameters()) await check(`grad.${key}`, p);
  for (const [key, v] of model.stateDict()) {
    if (v instanceof Tensor && key.includes('running_')) assertClose(await v.toArray(), f32(key), { atol: 0, rtol: 0 }, `${key} unchanged`);
    else if (!(v instanceof Tensor)) assert.is(v.value, Number((file.tensors.get(key)!.data as BigInt64Array)[0]), `${key} unchanged`);
  }
  for (const t of [x.grad!, x, y, loss, logits]) t.dispose();
  model.dispose();
});

s('frozen batch norm (eval mode, BN parameters not requiring grad): conv and fc gradients still match, BN ones are not computed', async () => {
  const model = makeModel();
  const bnKeys = new Set(model.namedModules().filter(([, m]) => m.constructor.name === 'BatchNorm2d')
    .flatMap(([prefix]) => [`${prefix}.weight`, `${prefix}.bias`]));
  for (const [key, p] of model.namedParameters()) if (bnKeys.has(key)) p.requiresGrad = false;
  const x = Tensor.fromArray(f32('input'), inputShape);
  const y = Tensor.fromArray(f32('targets'), [2, config.num_classes]);
  const loss = tidy(() => F.sigmoidFocalLoss(model.forward(x), y, { alpha: f32('alpha'), gamma: 2 }));
  loss.backward();
  let checked = 0;
  for (const [key, p] of model.namedParameters()) {
    if (bnKeys.has(key)) { assert.is(p.grad, null, `${key}: frozen, no gradient`); continue; }
    const ref = f32(`grad.${key}`);
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assertClose(await p.grad!.toArray(), ref, { atol: 1e-4 * scale, rtol: 1e-4 }, `grad.${key}`);
    checked++;
  }
  assert.ok(checked > 20 && bnKeys.size > 20, `${checked} trained and ${bnKeys.size} frozen tensors`);
  for (const t of [x, y, loss]) t.dispose();
  model.dispose();
});

s('the folded copy serves forwards that need no gradient, and equals the unfolded eval forward', async () => {
  const model = makeModel();
  const x = Tensor.fromArray(f32('input'), inputShape);
  const unfolded = tidy(() => model.forward(x));   // parameters require grad: recorded, not folded
  assert.is(model.bn1.folded, null);
  const plain = await unfolded.toArray();
  unfolded.dispose(); clearTape();
  const folded = await evalLogits(model, x);
  assert.ok(model.bn1.folded !== null, 'noGrad builds and uses the folded copy');
  // Folding reorders the arithmetic (scale into the weights): f32 rounding only.
  assertClose(folded, plain, { atol: 1e-5, rtol: 1e-4 }, 'folded vs unfolded logits');
  // frozen parameters and an input without grad: nothing needs a gradient, so folding is used with grad mode on
  for (const p of model.parameters()) p.requiresGrad = false;
  const before = model.bn1.folded;
  const frozen = tidy(() => model.forward(x));
  assert.is(frozen.requiresGrad, false);
  assert.is(model.bn1.folded, before, 'the same folded copy, reused');
  assertClose(await frozen.toArray(), folded, { atol: 0, rtol: 0 }, 'frozen forward');
  frozen.dispose(); x.dispose();
  model.dispose();
});

s('never stale: eval after an optimizer step, a load and an in-place write equals a fresh model', async () => {
  const model = makeModel();
  const x = Tensor.fromArray(f32('input'), inputShape);
  const y = Tensor.fromArray(f32('targets'), [2, config.num_classes]);
  let previous = await evalLogits(model, x);   // builds every folded copy
  const expectFresh = async (what: string) => {
    const fresh = makeModel(await model.stateArrays());
    const want = await evalLogits(fresh, x);
    fresh.dispose();
    const got = await evalLogits(model, x);
    assertClose(got, want, { atol: 0, rtol: 0 }, `${what}: eval logits vs a fresh model with the same weights`);
    assert.ok(got.some((v, i) => Math.abs(v - previous[i]) > 1e-3), `${what} changed the logits (the check can fail)`);
    previous = got;
  };
  // frozen-BN fine-tuning: an eval-mode backward, then an SGD step on every parameter
  const opt = new SGD(model.parameters(), { lr: 1e-4, momentum: 0.9 });
  opt.zeroGrad();
  const loss = tidy(() => F.sigmoidFocalLoss(model.forward(x), y, { alpha: 0.25, gamma: 2, reduction: 'sum' }));
  loss.backward();
  opt.step();
  loss.dispose();
  await expectFresh('optimizer step');
  const state = await model.stateArrays();
  const w = state.get('layer1.0.conv1.weight')!;
  state.set('layer1.0.conv1.weight', { ...w, data: Float32Array.from(w.data as Float32Array, (v) => 0.9 * v) });
  model.loadStateDict(state);
  await expectFresh('loadStateDict');
  const runningVar = await model.bn1.runningVar.toArray();
  model.bn1.runningVar.write(runningVar.map((v) => 1.5 * v));
  await expectFresh('write() of a running variance');
  for (const t of [x, y]) t.dispose();
  model.dispose();
});

s.run();
