// Teaching a trained model one new attribute from a few labelled images: a new one-output head
// on the pooled features, trained with the sigmoid focal loss and SGD while the backbone stays
// frozen (optionally the last stage trains too). The model stays in eval mode throughout, so
// every batch norm normalises with its running statistics and leaves them unchanged; where the
// last stage trains, gradients go through those frozen statistics (eval-mode gradients, as a
// PyTorch fine-tune of a model in eval() gets). Light augmentation (a random resized crop close
// to the whole face and a horizontal flip) is drawn from the seed, so a run is the same in Node
// and in the browser (nothing here needs Node).
import { Tensor } from './tensor.ts';
import { Rng } from './rng.ts';
import { noGrad } from './autograd/tape.ts';
import { tidy } from './autograd/scope.ts';
import * as F from './functional.ts';
import * as nn from './nn/index.ts';
import * as optim from './optim/index.ts';
import type { RgbImage } from './vision/image.ts';
import type { TrainTransform } from './vision/augment.ts';
import { epochOrder, imageRng, transformImage } from './vision/augment.ts';
import { centerCrop } from './vision/transforms.ts';

export interface FineTuneOptions {
  /** Name of the new attribute (what a checkpoint and the predictions call it). */
  attribute: string;
  /** Images that have the attribute, and images that do not. */
  positives: readonly RgbImage[];
  negatives: readonly RgbImage[];
  /** Square input size: the model's training size. */
  imageSize: number;
  seed?: number;
  /** Images per step (default: all of them, at most 16). */
  batch?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Focal loss: weight of the positive class (default 0.5: the two sets are balanced) and exponent (default 2). */
  alpha?: number;
  gamma?: number;
  /** Train the last stage (layer4) as well as the head (default false: the head alone). */
  lastStage?: boolean;
  /** Fewest images of each kind (default 8). */
  minPerClass?: number;
}

export interface StepReport { step: number; loss: number; ms: number }

/** The light augmentation: RandomResizedCrop(scale 0.64-1, ratio 3/4-4/3) of the centred square, flip 0.5, no colour jitter. */
export const fineTuneTransform = (size: number): TrainTransform => ({
  kind: 'train', size, scale: [0.64, 1], ratio: [3 / 4, 4 / 3], flip: 0.5,
});

/** The centred square of an image: the face region of a CelebA-aligned 178x218 image (its CenterCrop(178)). */
export function faceSquare(img: RgbImage): RgbImage {
  return centerCrop(img, Math.min(img.width, img.height));
}

const HEAD_STREAM = 0x4ead;

export class AttributeFineTuner {
  readonly attribute: string;
  readonly head: nn.Linear;
  readonly losses: number[] = [];
  readonly positiveCount: number;
  readonly negativeCount: number;
  readonly options: Required<Omit<FineTuneOptions, 'positives' | 'negatives'>>;
  private readonly images: RgbImage[];
  private readonly labels: Float32Array;
  private readonly optimizer: optim.SGD;
  private readonly transform: TrainTransform;
  private stopped = false;
  private seen = 0;

  constructor(readonly model: nn.ResNeSt, opts: FineTuneOptions) {
    const minPerClass = opts.minPerClass ?? 8;
    if (!opts.attribute || !opts.attribute.trim()) throw new Error('fine-tune: name the new attribute');
    for (const [what, set] of [['with', opts.positives], ['without', opts.negatives]] as const) {
      if (set.length < minPerClass) throw new Error(`fine-tune: ${set.length} images ${what} "${opts.attribute}", at least ${minPerClass} needed`);
      set.forEach((img, i) => {
        if (Math.min(img.width, img.height) < 32) throw new Error(`fine-tune: image ${i} ${what} the attribute is ${img.width}x${img.height}, smaller than 32 px`);
      });
    }
    if (!Number.isInteger(opts.imageSize) || opts.imageSize < 32) throw new Error(`fine-tune: imageSize must be an integer >= 32, got ${opts.imageSize}`);
    const total = opts.positives.length + opts.negatives.length;
    this.options = {
      attribute: opts.attribute.trim(), imageSize: opts.imageSize, seed: opts.seed ?? 0, batch: opts.batch ?? Math.min(total, 16),
      lr: opts.lr ?? 0.2, momentum: opts.momentum ?? 0.9, weightDecay: opts.weightDecay ?? 1e-4, alpha: opts.alpha ?? 0.5,
      gamma: opts.gamma ?? 2, lastStage: opts.lastStage ?? false, minPerClass,
    };
    const { batch, seed } = this.options;
    if (!Number.isInteger(batch) || batch < 1 || batch > total) throw new Error(`fine-tune: batch must be an integer in 1..${total}, got ${batch}`);
    this.attribute = this.options.attribute;
    this.positiveCount = opts.positives.length;
    this.negativeCount = opts.negatives.length;
    this.images = [...opts.positives, ...opts.negatives].map(faceSquare);
    this.labels = Float32Array.from(this.images, (_, i) => (i < opts.positives.length ? 1 : 0));
    this.transform = fineTuneTransform(this.options.imageSize);
    model.eval().requireGrad(false);
    if (this.options.lastStage) model.stages[model.stages.length - 1].requireGrad(true);
    this.head = new nn.Linear(model.fc.inFeatures, 1, { rng: new Rng(seed, HEAD_STREAM) });
    const trainable = this.trainable().map(([, t]) => t);
    this.optimizer = new optim.SGD(optim.splitWeightDecayGroups(trainable, this.options.weightDecay),
      { lr: this.options.lr, momentum: this.options.momentum });
  }

  /** The parameters that train: the last stage's (when asked) and the new head's, by state_dict name. */
  trainable(): [string, Tensor][] {
    const stage = this.model.namedParameters().filter(([, t]) => t.requiresGrad);
    return [...stage, ...this.head.namedParameters().map(([n, t]): [string, Tensor] => [`head.${n}`, t])];
  }

  get steps(): number {
    return this.losses.length;
  }

  /** The batch of step `steps`: images in a seeded order, a new permutation each pass, each with its own augmentation stream. */
  private batch(): { x: Float32Array; y: Float32Array } {
    const { batch, seed, imageSize } = this.options;
    const n = this.images.length, plane = 3 * imageSize * imageSize;
    const x = new Float32Array(batch * plane), y = new Float32Array(batch);
    for (let j = 0; j < batch; j++, this.seen++) {
      const pass = Math.floor(this.seen / n);
      const index = epochOrder(seed, pass, n)[this.seen % n];
      transformImage(this.images[index], this.transform, imageRng(seed, pass, index), x.subarray(j * plane, (j + 1) * plane));
      y[j] = this.labels[index];
    }
    return { x, y };
  }

  /** One step: augment a batch on the CPU, forward, focal loss, backward, SGD; waits for the loss. */
  async step(): Promise<StepReport> {
    const t0 = performance.now();
    const { batch, imageSize, alpha, gamma } = this.options;
    const { x: pixels, y: labels } = this.batch();
    const x = Tensor.fromArray(pixels, [batch, 3, imageSize, imageSize]);
    const y = Tensor.fromArray(labels, [batch, 1]);
    let loss: Tensor;
    try {
      loss = tidy(() => F.sigmoidFocalLoss(this.head.forward(this.model.features(x)), y, { alpha, gamma }));
      loss.backward();
      this.optimizer.step();
      this.optimizer.zeroGrad();
    } finally {
      x.dispose(); y.dispose();
    }
    const { value, nonFinite } = await F.readLoss(loss);
    loss.dispose();
    const step = this.losses.length;
    if (nonFinite || !Number.isFinite(value)) {
      throw new Error(`fine-tune "${this.attribute}": step ${step} gave a non-finite loss (${value}); lower the learning rate (${this.options.lr})`);
    }
    this.losses.push(value);
    return { step, loss: value, ms: performance.now() - t0 };
  }

  /** Runs up to `steps` steps, reporting each, until done or stop() is called. */
  async run(steps: number, onStep?: (r: StepReport) => void): Promise<StepReport[]> {
    this.stopped = false;
    const out: StepReport[] = [];
    for (let i = 0; i < steps && !this.stopped; i++) {
      const r = await this.step();
      out.push(r);
      onStep?.(r);
    }
    return out;
  }

  /** Ends run() after the step in progress. */
  stop(): void {
    this.stopped = true;
  }

  /** Frees the head and the optimizer's arenas; the model (whose trained stage lives in them) must be disposed first or not used again. */
  dispose(): void {
    this.optimizer.dispose();
    this.head.dispose();
  }

  /** Logits of the model's own outputs followed by the new attribute's, for a batch [N, 3, H, W]. */
  async logits(x: Tensor): Promise<Float32Array[]> {
    return predictWithHeads(this.model, [this.head], x);
  }
}

/** Per image, the model's outputs and then each extra head's, from one pass through the backbone. */
export async function predictWithHeads(model: nn.ResNeSt, heads: readonly nn.Linear[], x: Tensor): Promise<Float32Array[]> {
  const outs = noGrad(() => tidy(() => {
    const features = model.features(x);
    return [model.fc.forward(features), ...heads.map((h) => h.forward(features))];
  }));
  try {
    const values = await Promise.all(outs.map((t) => t.toArray()));
    const n = x.shape[0], widths = outs.map((t) => t.shape[1]);
    const total = widths.reduce((a, b) => a + b, 0);
    return Array.from({ length: n }, (_, i) => {
      const row = new Float32Array(total);
      let at = 0;
      values.forEach((v, k) => { row.set(v.subarray(i * widths[k], (i + 1) * widths[k]), at); at += widths[k]; });
      return row;
    });
  } finally {
    for (const t of outs) t.dispose();
  }
}
