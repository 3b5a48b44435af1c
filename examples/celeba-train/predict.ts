// predict: image files or folders -> the 40 attributes with probabilities, from a checkpoint.
// CelebA-aligned images (--celeba-crop) get the val/test transform (CenterCrop 178, Resize);
// any other image the report's evaluation-set transform (Resize to the training size).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { initGpu, noGrad, Tensor, tidy } from '../../src/node.ts';
import { applyEval, decodeImage, normalize, resize, resizeOutputSize } from '../../src/vision/index.ts';
import { celebaEvalTransform } from './celeba/index.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { outputNames } from './finetune_checkpoint.ts';
import { modelFromCheckpoint } from './setup.ts';

const IMAGE = /\.(jpe?g|png)$/i;

/** Image files of the arguments (a folder gives its images), every one checked before any work. */
export function expand(paths: string[]): string[] {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`predict: no such file or folder: ${missing.join(', ')}`);
  const files = paths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => IMAGE.test(f)).sort().map((f) => join(p, f)) : [p]));
  if (files.length === 0) throw new Error(`predict: no .jpg or .png images in ${paths.join(', ')}`);
  return files;
}

export async function predict(checkpoint: string, inputs: string[], opts: { json: boolean; celebaCrop: boolean }): Promise<void> {
  if (inputs.length === 0) throw new Error('predict: give image files or folders');
  const files = expand(inputs);
  await initGpu();
  const ckpt = await loadCheckpoint(checkpoint);
  const { imageSize } = ckpt.state.options;
  // a fine-tuned checkpoint has more outputs than the 40, named in its run metadata
  const fc = ckpt.model.get('fc.weight');
  if (!fc) throw new Error(`${checkpoint}: no model.fc.weight: not a ResNeSt checkpoint`);
  const names = outputNames(ckpt.state, fc.shape[0], checkpoint);
  const model = await modelFromCheckpoint(ckpt, checkpoint, names.length);
  model.eval();
  const results: { file: string; ms: number; attributes: Record<string, number> }[] = [];
  for (const file of files) {
    const img = decodeImage(new Uint8Array(readFileSync(file)), file);
    const planar = opts.celebaCrop ? applyEval(img, celebaEvalTransform(imageSize))
      : normalize(resize(img, ...resizeOutputSize(img.height, img.width, imageSize)));
    const t0 = performance.now();
    const x = Tensor.fromArray(planar.data, [1, 3, planar.height, planar.width]);
    const logits = noGrad(() => tidy(() => model.forward(x)));
    const values = await logits.toArray();
    const ms = performance.now() - t0;
    x.dispose(); logits.dispose();
    results.push({ file, ms, attributes: Object.fromEntries(names.map((a, j) => [a, 1 / (1 + Math.exp(-values[j]))])) });
  }
  model.dispose();
  if (opts.json) { console.log(JSON.stringify(results, null, 2)); return; }
  for (const r of results) {
    console.log(`\n${r.file} (${r.ms.toFixed(1)} ms)`);
    for (const [a, p] of Object.entries(r.attributes)) console.log(`  ${a.padEnd(22)} ${p >= 0.5 ? 'yes' : 'no '} ${p.toFixed(3)}`);
  }
}
