// Local check of the full ResNeSt-50 (40 classes, batch 2, 64x64) against PyTorch:
//   /usr/bin/python3 scripts/fixtures/model_fixtures.py --full   (writes the 205 MB reference, not committed)
//   node --import tsx scripts/check-full-resnest50.ts [file]
// Prints the largest errors of eval/train logits, the loss, every parameter gradient (relative
// to the tensor's largest value) and the running statistics after one training forward.
import { initGpu, releaseDevice } from '../src/gpu/index.ts';
import { Tensor } from '../src/tensor.ts';
import * as F from '../src/functional.ts';
import { noGrad, tidy } from '../src/index.ts';
import { resnest50, type StateArray } from '../src/nn/index.ts';
import { loadSafetensors } from '../src/io/safetensors_fs.ts';

const path = process.argv[2] ?? 'test/artifacts/model/resnest50_full.safetensors';
await initGpu();
const file = await loadSafetensors(path);
const get = (k: string) => file.tensors.get(k)!.data as Float32Array;
const model = resnest50({ numClasses: 40 });
model.loadStateDict(new Map([...file.tensors].filter(([k]) => !/^(input|targets|alpha|logits|loss|grad\.|after\.)/.test(k))) as Map<string, StateArray>, { source: path });
const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
const maxErr = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
const x = Tensor.fromArray(get('input'), file.tensors.get('input')!.shape);
const y = Tensor.fromArray(get('targets'), [2, 40]);
model.eval();
const ev = noGrad(() => tidy(() => model.forward(x)));
const evalLogits = await ev.toArray();
console.log(`eval logits: max |err| ${maxErr(evalLogits, get('logits.eval')).toExponential(2)} (scale ${maxAbs(get('logits.eval')).toFixed(2)}; BN folded into the convs)`);
model.train();
const [loss, logits] = tidy(() => { const out = model.forward(x); return [F.sigmoidFocalLoss(out, y, { alpha: get('alpha'), gamma: 2 }), out] as const; });
console.log(`train logits: max |err| ${maxErr(await logits.toArray(), get('logits.train')).toExponential(2)} (scale ${maxAbs(get('logits.train')).toFixed(2)})`);
console.log(`loss: ${(await loss.item()).toPrecision(8)} vs ${get('loss')[0].toPrecision(8)}`);
loss.backward();
let worst = { key: '', rel: 0 };
for (const [key, p] of model.namedParameters()) {
  if (key.endsWith('conv2.fc1.bias')) continue; // zero in exact arithmetic (a train-mode BN follows)
  const ref = get(`grad.${key}`);
  const rel = maxErr(await p.grad!.toArray(), ref) / Math.max(maxAbs(ref), 1e-30);
  if (rel > worst.rel) worst = { key, rel };
}
console.log(`gradients: worst max|err| / max|ref| = ${worst.rel.toExponential(2)} (${worst.key}) over ${model.namedParameters().length - 16} tensors`);
let worstStat = 0;
for (const [key, v] of model.stateDict()) if (v instanceof Tensor && key.includes('running_')) worstStat = Math.max(worstStat, maxErr(await v.toArray(), get(`after.${key}`)));
console.log(`running stats after one training forward: max |err| ${worstStat.toExponential(2)}`);
await releaseDevice();
