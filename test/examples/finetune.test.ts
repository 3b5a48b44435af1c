// Fine-tuning a new attribute (src/finetune.ts; the checkpoint: examples/celeba-train/finetune_checkpoint.ts), in Node on a tiny ResNeSt:
// the loss falls on a visible synthetic attribute; everything frozen stays bit-identical
// (weights and batch-norm statistics); gradients reach the head (and the last stage when asked)
// and nothing else; a diverging run leaves the model bit-identical; a seed gives the same run
// twice; the saved checkpoint is read by `celeba-train predict`, which prints the new attribute
// by name with the tuner's own numbers; eval (`evaluateCheckpoint`) evaluates its 40 labelled outputs
// and names the new one as left out; `--resume` of it is refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeFineTuner, F, nn, parseSafetensors, predictWithHeads, serializeSafetensors, Tensor, tidy, type FineTuneOptions, type TensorToWrite } from '../../src/index.ts';
import { decodeImage, encodeJpeg, normalize, resize, resizeOutputSize, type RgbImage } from '../../src/vision/index.ts';
import { fineTunedCheckpoint, outputNames } from '../../examples/celeba-train/finetune_checkpoint.ts';
import { evaluateCheckpoint, train } from '../../examples/celeba-train/train.ts';
import { loadCheckpoint } from '../../examples/celeba-train/checkpoint.ts';
import { loadDataset } from '../../examples/celeba-train/setup.ts';
import { DEFAULTS } from '../../examples/celeba-train/options.ts';
import { makeSyntheticCelebA } from '../../examples/celeba-train/celeba/index.ts';
import { syntheticAttributeSets } from '../../examples/celeba-train/synthetic/attribute_sets.ts';
import { CELEBA_ATTRIBUTES, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH, renderSyntheticImage } from '../../examples/celeba-train/celeba/index.ts';
import { assertClose, setupGpu } from '../helpers.ts';
import { inProcess } from './trainer.ts';

const s = suite('examples: fine-tuning a new attribute');
s.before(setupGpu);

const SIZE = 48;
const tiny = (seed = 5) => new nn.ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses: 40, seed });
const sets = syntheticAttributeSets('Eyeglasses', 8, 2024);
const images = { positives: sets.positives.map((e) => e.image), negatives: sets.negatives.map((e) => e.image) };
// separable even through a randomly initialised backbone: the positives are faces with red added
const redder = (img: RgbImage): RgbImage => ({ ...img, data: img.data.map((v, i) => (i % 3 === 0 ? Math.min(255, v + 90) : v)) });
const tinted = { positives: [...images.positives, ...images.negatives].slice(0, 8).map(redder), negatives: [...images.positives, ...images.negatives].slice(8) };
const options = (o: Partial<FineTuneOptions> = {}): FineTuneOptions => ({ attribute: 'Spectacles', ...images, imageSize: SIZE, seed: 7, ...o });

async function state(m: nn.Module): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of await m.stateArrays()) out.set(k, Float32Array.from(v.data as ArrayLike<number>, Number));
  return out;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

s('the loss falls on a separable attribute; the frozen backbone and its BN statistics stay bit-identical', async () => {
  const model = tiny();
  const before = await state(model);
  const tuner = new AttributeFineTuner(model, options({ ...tinted, lr: 0.5 }));
  assert.equal(tuner.trainable().map(([k]) => k), ['head.weight', 'head.bias']);
  const reports = await tuner.run(24);
  assert.is(reports.length, 24);
  assert.ok(reports.every((r, i) => r.step === i && r.ms > 0 && Number.isFinite(r.loss)));
  const first = mean(tuner.losses.slice(0, 4)), last = mean(tuner.losses.slice(-4));
  console.log(`  head only, batch 16 at ${SIZE} px: loss ${first.toFixed(4)} (steps 0-3) -> ${last.toFixed(4)} (steps 20-23)`);
  assert.ok(last < 0.7 * first, `the loss falls: ${first} -> ${last}`);
  const after = await state(model);
  for (const [k, v] of before) assert.ok(same(v, after.get(k)!), `${k} unchanged`);
  model.dispose(); tuner.head.dispose();
});

s('gradients reach the head and, with lastStage, layer4 only; layer4 moves, the rest and all BN statistics do not', async () => {
  const model = tiny();
  const before = await state(model);
  const tuner = new AttributeFineTuner(model, options({ lastStage: true, batch: 4 }));
  const names = tuner.trainable().map(([k]) => k);
  assert.ok(names.length > 2 && names.every((k) => k.startsWith('layer4.') || k.startsWith('head.')), names.join(', '));
  // one backward by hand, as step() does, to look at the gradients before the optimizer clears them
  const x = Tensor.fromArray(new Float32Array(4 * 3 * SIZE * SIZE).map((_, i) => Math.sin(i)), [4, 3, SIZE, SIZE]);
  const y = Tensor.fromArray([1, 0, 1, 0], [4, 1]);
  const loss = tidy(() => F.sigmoidFocalLoss(tuner.head.forward(model.features(x)), y, { alpha: 0.5 }));
  loss.backward();
  for (const [k, p] of [...model.namedParameters(), ...tuner.head.namedParameters().map(([k, p]) => [`head.${k}`, p] as const)]) {
    const should = k.startsWith('layer4.') || k.startsWith('head.');
    if (!should) { assert.is(p.grad, null, `${k} has no gradient`); continue; }
    assert.ok(p.grad, `${k} has a gradient`);
    const g = await p.grad!.toArray();
    assert.ok(g.some((v) => v !== 0) && g.every(Number.isFinite), `${k}: a finite, non-zero gradient`);
  }
  for (const p of tuner.trainable().map(([, t]) => t)) { p.grad = null; }
  x.dispose(); y.dispose(); loss.dispose();
  await tuner.run(3);
  const after = await state(model);
  for (const [k, v] of before) {
    const moved = !same(v, after.get(k)!);
    const trains = k.startsWith('layer4.') && !/running_|num_batches/.test(k);
    if (!trains) assert.not.ok(moved, `${k} unchanged`);
  }
  assert.ok([...before].some(([k, v]) => k.startsWith('layer4.') && !same(v, after.get(k)!)), 'layer4 trained');
  model.dispose(); tuner.head.dispose();
});

s('a diverging run (huge lr, last stage) fails and leaves every parameter and BN statistic bit-identical', async () => {
  const model = tiny();
  const before = await state(model);
  const tuner = new AttributeFineTuner(model, options({ lastStage: true, lr: 1e8, batch: 4 }));
  const t0 = performance.now();
  let failure: Error | null = null;
  try { await tuner.run(12); } catch (e) { failure = e as Error; }
  assert.ok(failure, 'the run fails');
  assert.match(failure!.message, /non-finite loss .*; the model's parameters are back to their values before fine-tuning/);
  console.log(`  lr 1e8: failed at step ${tuner.steps} (${tuner.losses.map((l) => l.toPrecision(3)).join(', ')}); ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(tuner.steps >= 1, 'at least one step changed layer4 before the failure');
  const after = await state(model);
  for (const [k, v] of before) assert.ok(same(v, after.get(k)!), `${k} restored bit for bit`);
  model.dispose(); tuner.dispose();
});

s('a seed gives the same run; another seed another; too few images or no name are refused', async () => {
  const runs: number[][] = [];
  for (const seed of [7, 7, 8]) {
    const model = tiny();
    const tuner = new AttributeFineTuner(model, options({ seed, batch: 6 }));
    await tuner.run(4);
    runs.push(tuner.losses);
    model.dispose(); tuner.head.dispose();
  }
  assert.equal(runs[1], runs[0], 'same seed, same losses to the bit');
  assert.not.equal(runs[2], runs[0]);
  const model = tiny();
  assert.throws(() => new AttributeFineTuner(model, options({ negatives: images.negatives.slice(0, 7) })), /7 images without "Spectacles", at least 8 needed/);
  assert.throws(() => new AttributeFineTuner(model, options({ attribute: ' ' })), /name the new attribute/);
  model.dispose();
});

s('the fine-tuned checkpoint: 41 named outputs; celeba-train predict prints the new attribute with the tuner\'s numbers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'finetune-test-'));
  try {
    const model = tiny();
    const tuner = new AttributeFineTuner(model, options({ batch: 8 }));
    await tuner.run(6);
    const baseRun = { format: 'celeba-train/1', completedEpochs: 2, options: { arch: 'resnest-tiny', imageSize: SIZE, seed: 5 } };
    const bytes = await fineTunedCheckpoint(tuner, { run: baseRun, arch: 'resnest-tiny', imageSize: SIZE, attributes: CELEBA_ATTRIBUTES });
    const file = parseSafetensors(bytes, 'tuned.safetensors');
    const run = JSON.parse(file.metadata.run);
    assert.equal(file.tensors.get('model.fc.weight')!.shape, [41, 512]);
    assert.equal(run.attributes, [...CELEBA_ATTRIBUTES, 'Spectacles']);
    assert.is(run.completedEpochs, 2);
    assert.equal(run.fineTuned[0].losses, tuner.losses);
    assert.equal(outputNames(run, 41, 'x'), run.attributes);
    assert.throws(() => outputNames(run, 40, 'x.safetensors'), /x\.safetensors: the run metadata names 41 attributes but the classifier has 40 outputs/);
    assert.throws(() => outputNames({}, 41, 'y.safetensors'), /y\.safetensors: the classifier has 41 outputs and the run metadata names none/);
    const ckpt = join(dir, 'tuned.safetensors');
    writeFileSync(ckpt, bytes);
    const { rgba } = renderSyntheticImage(2024, 500);
    const jpeg = encodeJpeg(rgba, SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT, 92);
    writeFileSync(join(dir, 'face.jpg'), jpeg);
    // the same image through the same transform (predict without --celeba-crop) in this process
    const img = decodeImage(jpeg, 'face.jpg');
    const planar = normalize(resize(img, ...resizeOutputSize(img.height, img.width, SIZE)));
    const x = Tensor.fromArray(planar.data, [1, 3, planar.height, planar.width]);
    const [mine] = await predictWithHeads(model, [tuner.head], x);
    x.dispose();
    const r = await inProcess(['predict', '--checkpoint', ckpt, '--json', join(dir, 'face.jpg')]);
    assert.is(r.code, 0, r.stderr);
    const [result] = JSON.parse(r.stdout) as { attributes: Record<string, number> }[];
    assert.equal(Object.keys(result.attributes), run.attributes);
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    // same adapter, same kernels: only the loaded-vs-trained copies differ, so f32 rounding at most
    assertClose(Object.values(result.attributes), Array.from(mine, sigmoid), { atol: 1e-6, rtol: 1e-5 }, 'predict vs tuner');
    const text = await inProcess(['predict', '--checkpoint', ckpt, join(dir, 'face.jpg')]);
    assert.match(text.stdout, /\n {2}Spectacles +(yes|no ) 0\.\d{3}\n/);
    // eval: the 40 labelled outputs give the figures of the model before fine-tuning (its own 40-output
    // checkpoint); the new one has no labels in the data set and is named as left out
    const t0 = performance.now();
    const base = new Map<string, TensorToWrite>();
    for (const [k, v] of await model.stateArrays()) base.set(`model.${k}`, v as TensorToWrite);
    writeFileSync(join(dir, 'base.safetensors'), serializeSafetensors(base, { run: JSON.stringify(baseRun) }));
    await makeSyntheticCelebA({ dir: join(dir, 'celeba'), count: 40, seed: 1 });
    const ds = loadDataset(join(dir, 'celeba'), { limitTrain: null, limitVal: 8, skipBadImages: false, imageDir: null });
    const evalOptions = { imageSize: SIZE, batch: 8, workers: 1, skipBadImages: false };
    const spec = { kind: 'focal' as const, alpha: CELEBA_ATTRIBUTES.map((_, j) => 0.2 + j / 100), gamma: 2 };
    const leftOut: string[][] = [];
    const tunedEval = await evaluateCheckpoint(await loadCheckpoint(ckpt), ds, evalOptions, spec, ['val'], ckpt, (n) => leftOut.push(n));
    const baseEval = await evaluateCheckpoint(join(dir, 'base.safetensors'), ds, evalOptions, spec, ['val'], 'base', (n) => leftOut.push(n));
    assert.equal(leftOut, [['Spectacles']], 'the new output is named as left out, once');
    assert.ok(tunedEval.val && tunedEval.val.images > 0 && tunedEval.val.accuracy.length === 40);
    assert.equal(tunedEval.val, baseEval.val, 'the same figures as the 40-output model');
    // --resume of a fine-tuned checkpoint: refused, naming why, before any work
    mkdirSync(join(dir, 'run'));
    copyFileSync(ckpt, join(dir, 'run', 'last.safetensors'));
    await train({ ...DEFAULTS, out: join(dir, 'run'), resume: true }).then(() => assert.unreachable('refused'), (e: Error) =>
      assert.match(e.message, /^--resume: \S+last\.safetensors is a fine-tuned model \(new attribute Spectacles\), not a CelebA training run, so there is no run to continue; train into another --out$/));
    console.log(`  eval of both checkpoints (8 images) and the refused --resume: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    model.dispose(); tuner.head.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

s('concatLinear: one layer whose outputs are the given layers\' in order', async () => {
  const a = new nn.Linear(6, 3), b = new nn.Linear(6, 1, { bias: false });
  const joined = await nn.concatLinear([a, b]);
  const x = Tensor.fromArray(Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.8), [2, 6]);
  const [ya, yb, yj] = [a, b, joined].map((l) => l.forward(x));
  const [va, vb, vj] = await Promise.all([ya, yb, yj].map((t) => t.toArray()));
  assertClose(vj, [...va.slice(0, 3), vb[0], ...va.slice(3), vb[1]], { atol: 1e-6, rtol: 1e-6 }, 'joined outputs');
  const odd = new nn.Linear(5, 1);
  await nn.concatLinear([a, odd]).then(() => assert.unreachable('refused'), (e: Error) => assert.match(e.message, /layer 1 takes 5 inputs, layer 0 takes 6/));
  odd.dispose();
  for (const t of [x, ya, yb, yj]) t.dispose();
  for (const l of [a, b, joined]) l.dispose();
});

s.run();
