// ResNeSt against PyTorch: architecture (parameter counts, the official state_dict keys and
// shapes), and the committed fixtures of small configurations: eval and train logits, the
// focal-loss gradient of every parameter, and BN running stats after one training forward.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { noGrad, tidy, clearTape } from '../../src/index.ts';
import { ResNeSt, resnest50, type StateArray } from '../../src/nn/index.ts';
import { parseSafetensors, type SafetensorsFile } from '../../src/io/safetensors.ts';
import { assertClose, setupGpu } from '../helpers.ts';

const fixtureDir = new URL('../fixtures/model/', import.meta.url);
const load = (name: string): SafetensorsFile => parseSafetensors(new Uint8Array(readFileSync(new URL(name, fixtureDir))), name);
const f32 = (file: SafetensorsFile, key: string) => file.tensors.get(key)!.data as Float32Array;

function modelFor(file: SafetensorsFile): ResNeSt {
  const c = JSON.parse(file.metadata.config);
  const model = new ResNeSt({
    layers: c.layers, radix: c.radix, cardinality: c.cardinality, bottleneckWidth: c.bottleneck_width, stemWidth: c.stem_width,
    deepStem: c.deep_stem, avgDown: c.avg_down, avd: c.avd, avdFirst: c.avd_first, numClasses: c.num_classes, planes: c.planes, seed: 99,
  });
  const weights = new Map([...file.tensors].filter(([k]) => !/^(input|targets|alpha|logits|loss|grad\.|after\.)/.test(k))) as Map<string, StateArray>;
  model.loadStateDict(weights, { source: 'fixture' });
  return model;
}

const s = suite('nn: resnest');
s.before(setupGpu);

s('resnest50 has the official parameter counts, keys and shapes', () => {
  const reference = readFileSync(new URL('resnest50_state_dict_keys.txt', fixtureDir), 'utf8').trim().split('\n')
    .map((l) => l.trim().split(/\s+(?=\[)|\]\s+/)).map(([k, shape]) => `${k} [${shape.replace(/^\[/, '').replace(/\]$/, '').replace(/\s/g, '')}]`);
  const model = resnest50({ numClasses: 1000 });
  assert.is(model.numParameters(), 27_483_240);
  assert.is((model.macs(224, 224) / 1e9).toFixed(3), '5.371', 'MACs at 224x224 (spec 1.10)');
  const ours = [...model.stateDict()].map(([k, v]) => `${k} [${v instanceof Tensor ? v.shape.join(',') : ''}]`);
  assert.equal(ours, reference);
  model.dispose();
  const forty = resnest50({ numClasses: 40 });
  assert.is(forty.numParameters(), 25_516_200);
  assert.is((forty.macs(320, 320) / 1e9).toFixed(3), '10.955', 'MACs at 320x320, 40 classes (spec 1.10)');
  forty.dispose();
});

for (const name of ['resnest_tiny_r2k1.safetensors', 'resnest_tiny_r2k2.safetensors', 'resnest_tiny_r1k2.safetensors']) {
  s(`${name}: eval and train logits, every gradient and running stat match PyTorch`, async () => {
    const file = load(name);
    const model = modelFor(file);
    const inputShape = file.tensors.get('input')!.shape;
    const x = Tensor.fromArray(f32(file, 'input'), inputShape);
    const y = Tensor.fromArray(f32(file, 'targets'), [2, 40]);
    const logitTol = { atol: 1e-4, rtol: 1e-3 };
    model.eval();
    const evalLogits = noGrad(() => tidy(() => model.forward(x)));
    assertClose(await evalLogits.toArray(), f32(file, 'logits.eval'), logitTol, `${name} eval logits`);
    model.train();
    const [loss, logits] = tidy(() => {
      const out = model.forward(x);
      return [F.sigmoidFocalLoss(out, y, { alpha: f32(file, 'alpha'), gamma: 2 }), out] as const;
    });
    assertClose(await logits.toArray(), f32(file, 'logits.train'), logitTol, `${name} train logits`);
    assertClose([await loss.item()], f32(file, 'loss'), logitTol, `${name} loss`);
    loss.backward();
    for (const [key, p] of model.namedParameters()) {
      const ref = f32(file, `grad.${key}`);
      const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // conv2.fc1.bias feeds a train-mode BN, so its gradient is zero in exact arithmetic; in f32 it is
      // the sum of large cancelling terms (PyTorch's own f32 gives the same ~1e-5), hence an absolute bound
      const atol = key.endsWith('conv2.fc1.bias') ? 1e-4 : 1e-2 * scale + 1e-7;
      assertClose(await p.grad!.toArray(), ref, { atol, rtol: 0 }, `${name} grad.${key}`);
    }
    for (const [key, v] of model.stateDict()) {
      if (!key.includes('running_') && !key.endsWith('num_batches_tracked')) continue;
      const after = file.tensors.get(`after.${key}`)!;
      if (v instanceof Tensor) assertClose(await v.toArray(), after.data as Float32Array, logitTol, `${name} after.${key}`);
      else assert.is(v.value, Number((after.data as BigInt64Array)[0]), `${name} ${key}`);
    }
    for (const t of [x, y, evalLogits, loss, logits]) t.dispose();
    model.dispose();
  });
}

s('r2k1 at an odd input size (33x33) matches too', async () => {
  const file = load('resnest_tiny_r2k1.safetensors');
  const model = modelFor(file).eval();
  const x = Tensor.fromArray(f32(file, 'input_33'), [2, 3, 33, 33]);
  const out = noGrad(() => tidy(() => model.forward(x)));
  assertClose(await out.toArray(), f32(file, 'logits_33.eval'), { atol: 1e-4, rtol: 1e-3 }, 'logits_33.eval');
  for (const t of [x, out]) t.dispose();
  model.dispose();
});

s('eval folds each BN into its conv once; a training step or a load refreshes the folded copy', async () => {
  const file = load('resnest_tiny_r2k1.safetensors');
  const model = modelFor(file).eval();
  const x = Tensor.fromArray(f32(file, 'input'), [2, 3, 40, 40]);
  const run = async () => { const out = noGrad(() => tidy(() => model.forward(x))); const v = await out.toArray(); out.dispose(); return v; };
  const first = await run();
  assert.ok(model.bn1.folded && model.stages[0].namedModules().some(([, m]) => (m as { folded?: unknown }).folded), 'folded copies made');
  const folded = model.bn1.folded;
  assertClose(await run(), first, { atol: 0, rtol: 0 }, 'second eval forward');
  assert.is(model.bn1.folded, folded, 'folded once');
  // loading other weights must not reuse the stale folded copy
  const state = await model.stateArrays();
  const w = state.get('fc.bias')!;
  const shifted = Float32Array.from(w.data as Float32Array, (v) => v + 1);
  state.set('fc.bias', { ...w, data: shifted });
  const bnw = state.get('bn1.weight')!;
  state.set('bn1.weight', { ...bnw, data: Float32Array.from(bnw.data as Float32Array, (v) => 2 * v) });
  model.loadStateDict(state);
  const after = await run();
  assert.ok(after.some((v, i) => Math.abs(v - first[i] - 1) > 1e-3), 'the doubled bn1 weight reaches the logits');
  model.train();
  const y = tidy(() => model.forward(x));
  assert.is(model.bn1.folded, null, 'a training forward drops folded copies');
  y.dispose(); clearTape(); x.dispose();
  model.dispose();
});

s('loadStateDict reports every problem at once and loads nothing', async () => {
  const file = load('resnest_tiny_r2k1.safetensors');
  const model = modelFor(file);
  const before = await model.fc.weight.toArray();
  const state = new Map(model.stateDict().size ? [...(await model.stateArrays())] : []);
  state.delete('layer1.0.conv1.weight');
  state.set('bogus.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
  state.set('fc.weight', { dtype: 'F32', shape: [3, 3], data: new Float32Array(9) });
  state.set('bn1.weight', { dtype: 'F32', shape: [16], data: new Float32Array(16).fill(7) });
  let message = '';
  try { model.loadStateDict(state, { source: 'broken.safetensors' }); } catch (e) { message = (e as Error).message; }
  assert.match(message, /broken\.safetensors/);
  assert.match(message, /missing keys \(1\): layer1\.0\.conv1\.weight/);
  assert.match(message, /unexpected keys \(1\): bogus\.weight/);
  assert.match(message, /fc\.weight: checkpoint \[3,3\] vs model \[40,96\]/);
  assertClose(await model.bn1.weight.toArray(), f32(file, 'bn1.weight'), { atol: 0, rtol: 0 }, 'bn1 untouched');
  assertClose(await model.fc.weight.toArray(), before, { atol: 0, rtol: 0 }, 'fc untouched');
  // skipping the head loads the backbone into a model with another number of classes
  const c = JSON.parse(file.metadata.config);
  const other = new ResNeSt({ layers: c.layers, stemWidth: c.stem_width, planes: c.planes, numClasses: 7 });
  const good = await model.stateArrays();
  other.loadStateDict(good, { skip: ['fc.'] });
  assertClose(await other.bn1.weight.toArray(), f32(file, 'bn1.weight'), { atol: 0, rtol: 0 }, 'backbone loaded');
  assert.equal(other.fc.weight.shape, [7, 96]);
  model.dispose(); other.dispose();
  clearTape();
});

s('loadStateDict without num_batches_tracked sets it to 0, as PyTorch BatchNorm does', async () => {
  const file = load('resnest_tiny_r2k1.safetensors');
  const model = modelFor(file);
  const state = await model.stateArrays();
  const counters = [...state.keys()].filter((k) => k.endsWith('num_batches_tracked'));
  assert.ok(counters.length > 3, 'the model has BatchNorm counters');
  const other = modelFor(file);
  other.train();
  tidy(() => other.forward(Tensor.fromArray(f32(file, 'input'), file.tensors.get('input')!.shape as number[])));
  clearTape();
  const counted = other.stateDict().get(counters[0])!;
  assert.ok((counted as { value: number }).value > 0, 'a training forward counted batches');
  for (const k of counters) state.delete(k);
  const bnw = state.get('bn1.weight')!;
  state.set('bn1.weight', { ...bnw, data: Float32Array.from(bnw.data as Float32Array, (v) => v + 0.5) });
  other.loadStateDict(state, { source: 'no-counters.safetensors' });
  for (const k of counters) assert.is((other.stateDict().get(k) as { value: number }).value, 0, `${k} reset to 0`);
  assertClose(await other.bn1.weight.toArray(), Float32Array.from(f32(file, 'bn1.weight'), (v) => v + 0.5), { atol: 0, rtol: 0 }, 'the rest loaded');
  model.dispose(); other.dispose();
});

s('loadStateDict errors stay readable: counts and the first keys of each kind', async () => {
  const small = modelFor(load('resnest_tiny_r2k1.safetensors'));
  const wide = new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses: 40 });
  let message = '';
  try { wide.loadStateDict(await small.stateArrays(), { source: 'other-config.safetensors' }); } catch (e) { message = (e as Error).message; }
  const lines = message.split('\n');
  assert.match(lines[0], /^loadStateDict from other-config\.safetensors: /);
  const mismatchHeader = lines.find((l) => /shape mismatches \(\d+\):$/.test(l.trim()));
  assert.ok(mismatchHeader, `a shape mismatch header line in:\n${message}`);
  const count = Number(/\((\d+)\)/.exec(mismatchHeader!)![1]);
  assert.ok(count > 5, `many mismatches (${count})`);
  assert.ok(message.includes(`... and ${count - 5} more`), 'the rest are counted, not listed');
  assert.ok(lines.length <= 12, `${lines.length} lines`);
  for (const l of lines) assert.ok(l.length <= 200, `line of ${l.length} characters: ${l.slice(0, 80)}...`);
  small.dispose(); wide.dispose();
});

s.run();
