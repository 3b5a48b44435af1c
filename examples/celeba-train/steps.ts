// One training step and one evaluation pass, the two places the library's pieces meet.
import { AttributeAccuracy, F, noGrad, Tensor, tidy, type nn, type optim } from '../../src/node.ts';
import type { Batch, ImageLoader } from '../../src/vision/index.ts';
import { Progress } from './progress.ts';

export interface LossSpec { kind: 'focal' | 'bce'; alpha: number[]; gamma: number }

export function lossOf(logits: Tensor, targets: Tensor, spec: LossSpec): Tensor {
  return spec.kind === 'bce'
    ? F.binaryCrossEntropyWithLogits(logits, targets, { reduction: 'mean' })
    : F.sigmoidFocalLoss(logits, targets, { alpha: spec.alpha, gamma: spec.gamma, reduction: 'mean' });
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, value: number) {
    super(`loss is not finite (${value}) at step ${step}: stopping; the last good checkpoint is kept`);
  }
}

/** Forward, backward and SGD update of one batch: one command submission (at the loss readback). */
export async function trainStep(model: nn.ResNeSt, optimizer: optim.SGD, batch: Batch, spec: LossSpec, accuracy: AttributeAccuracy, step: number): Promise<number> {
  const x = Tensor.fromArray(batch.images, batch.shape, { label: 'images' });
  const y = Tensor.fromArray(batch.labels, [batch.size, batch.labels.length / batch.size], { label: 'labels' });
  optimizer.zeroGrad();
  const [loss, logits] = tidy(() => {
    const out = model.forward(x);
    return [lossOf(out, y, spec), out] as const;
  });
  loss.backward();
  optimizer.step();
  accuracy.update(logits, y);
  const { value, nonFinite } = await F.readLoss(loss);
  for (const t of [x, y, loss, logits]) t.dispose();
  if (nonFinite > 0 || !Number.isFinite(value)) throw new NonFiniteLossError(step, value);
  return value;
}

export interface SkippedImage { path: string; reason: string }
export interface EvalResult { loss: number; accuracy: number[]; meanAccuracy: number; images: number; skipped: SkippedImage[] }

export async function evaluate(model: nn.ResNeSt, loader: ImageLoader, spec: LossSpec, label: string, numAttributes: number): Promise<EvalResult> {
  model.eval();
  const accuracy = new AttributeAccuracy(numAttributes);
  const progress = new Progress(label, loader.batchesPerEpoch);
  let lossSum = 0, images = 0, done = 0;
  const skipped: SkippedImage[] = [];
  try {
    for await (const batch of loader.epoch()) {
      skipped.push(...batch.skipped);
      const x = Tensor.fromArray(batch.images, batch.shape, { label: 'images' });
      const y = Tensor.fromArray(batch.labels, [batch.size, numAttributes], { label: 'labels' });
      const loss = noGrad(() => tidy(() => {
        const logits = model.forward(x);
        accuracy.update(logits, y);
        return lossOf(logits, y, spec);
      }));
      const { value } = await F.readLoss(loss);
      for (const t of [x, y, loss]) t.dispose();
      lossSum += value * batch.size;
      images += batch.size;
      progress.update(++done, images, lossSum / images);
    }
    const result = await accuracy.read();
    return { loss: lossSum / images, accuracy: Array.from(result.accuracy), meanAccuracy: result.meanAccuracy, images, skipped };
  } finally {
    accuracy.dispose();
    model.train();
  }
}
