// Our half of scripts/fixtures/gradient_accuracy.py (run that): loads a ResNeSt-50 state_dict,
// input and targets from IN, runs eval then train mode (forward, sigmoid focal loss, backward)
// and writes every parameter gradient, the logits and the loss of each mode to OUT (float32).
//   node --import tsx scripts/gradient-accuracy.ts IN OUT
import { initGpu, releaseDevice } from '../src/gpu/index.ts';
import { Tensor } from '../src/tensor.ts';
import * as F from '../src/functional.ts';
import { tidy } from '../src/index.ts';
import { resnest50, type StateArray } from '../src/nn/index.ts';
import { loadSafetensors, saveSafetensors } from '../src/io/safetensors_fs.ts';
import type { TensorToWrite } from '../src/io/safetensors.ts';

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) throw new Error('usage: node --import tsx scripts/gradient-accuracy.ts IN OUT');
await initGpu();
const file = await loadSafetensors(inPath);
const tensor = (k: string) => {
  const t = file.tensors.get(k);
  if (!t) throw new Error(`${inPath}: no tensor '${k}'`);
  return t;
};
const alpha = Number(file.metadata.alpha), gamma = Number(file.metadata.gamma);
const input = tensor('input'), targets = tensor('targets');
const model = resnest50({ numClasses: targets.shape[1] });
model.loadStateDict(new Map([...file.tensors].filter(([k]) => k !== 'input' && k !== 'targets')) as Map<string, StateArray>, { source: inPath });
const x = Tensor.fromArray(input.data as Float32Array, input.shape);
const y = Tensor.fromArray(targets.data as Float32Array, targets.shape);
const out = new Map<string, TensorToWrite>();
for (const mode of ['eval', 'train'] as const) {
  if (mode === 'eval') model.eval(); else model.train();
  for (const p of model.parameters()) { p.grad?.dispose(); p.grad = null; }
  const started = Date.now();
  const [loss, logits] = tidy(() => {
    const z = model.forward(x);
    return [F.sigmoidFocalLoss(z, y, { alpha, gamma }), z] as const;
  });
  loss.backward();
  out.set(`${mode}.logits`, { dtype: 'F32', shape: logits.shape, data: await logits.toArray() });
  out.set(`${mode}.loss`, { dtype: 'F32', shape: [1], data: [await loss.item()] });
  for (const [key, p] of model.namedParameters()) {
    if (!p.grad) throw new Error(`${mode}: no gradient for ${key}`);
    out.set(`${mode}.grad.${key}`, { dtype: 'F32', shape: p.shape, data: await p.grad.toArray() });
  }
  console.log(`${mode}: forward, loss and backward in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  loss.dispose(); logits.dispose();
}
await saveSafetensors(outPath, out);
await releaseDevice();
