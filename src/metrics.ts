// Evaluation metrics counted on the device: each update() is one dispatch that adds to a
// small counts buffer, and read() is the only readback of an evaluation.
import { Tensor } from './tensor.ts';
import { gpu, STORAGE_USAGE } from './gpu/index.ts';
import { shapeStr } from '../kernels/launch.ts';
import { metricsAttributeCounts } from '../kernels/metrics.ts';

export interface AttributeAccuracyResult {
  /** Rows with prediction == target, per attribute (prediction: logit > 0, i.e. sigmoid > 0.5). */
  correct: Uint32Array;
  predictedPositive: Uint32Array;
  targetPositive: Uint32Array;
  truePositive: Uint32Array;
  /** Rows seen since the last reset (the same for every attribute). */
  total: number;
  /** correct / total per attribute (NaN before any row). */
  accuracy: Float64Array;
  /** The mean of the per-attribute accuracies: CelebA's "average accuracy". */
  meanAccuracy: number;
}

/** Per-attribute accuracy of [rows, A] logits against 0/1 targets, accumulated across batches. */
export class AttributeAccuracy {
  private counts: GPUBuffer | null;
  private rows = 0;

  constructor(readonly numAttributes: number) {
    if (!Number.isInteger(numAttributes) || numAttributes <= 0) {
      throw new Error(`AttributeAccuracy: numAttributes must be a positive integer, got ${numAttributes}`);
    }
    // a buffer of its own rather than a tensor: tidy() scopes must not free it mid-evaluation
    this.counts = gpu().resources.createBuffer({ size: Math.ceil((16 * numAttributes) / 256) * 256, usage: STORAGE_USAGE, label: 'attribute counts' });
  }

  private buffer(what: string): GPUBuffer {
    if (!this.counts) throw new Error(`AttributeAccuracy.${what}: used after dispose()`);
    return this.counts;
  }

  update(logits: Tensor, targets: Tensor): void {
    const counts = this.buffer('update');
    const A = this.numAttributes;
    if (logits.shape.length !== 2 || logits.shape[1] !== A) {
      throw new Error(`AttributeAccuracy.update: logits must be [rows, ${A}], got ${shapeStr(logits.shape)}`);
    }
    if (targets.shape.length !== 2 || targets.shape[0] !== logits.shape[0] || targets.shape[1] !== A) {
      throw new Error(`AttributeAccuracy.update: targets ${shapeStr(targets.shape)} must have the shape of logits ${shapeStr(logits.shape)}`);
    }
    const rows = logits.shape[0];
    metricsAttributeCounts(logits.binding, targets.binding, { buffer: counts, offset: 0, size: 16 * A }, rows, A, `attribute accuracy ${shapeStr(logits.shape)}`);
    this.rows += rows;
  }

  async read(): Promise<AttributeAccuracyResult> {
    const A = this.numAttributes;
    const data = new Uint32Array(await gpu().recorder.read(this.buffer('read'), 0, 16 * A));
    const correct = data.slice(0, A);
    const accuracy = Float64Array.from(correct, (c) => c / this.rows);
    return {
      correct, predictedPositive: data.slice(A, 2 * A), targetPositive: data.slice(2 * A, 3 * A), truePositive: data.slice(3 * A, 4 * A),
      total: this.rows, accuracy, meanAccuracy: accuracy.reduce((s, v) => s + v, 0) / A,
    };
  }

  reset(): void {
    gpu().recorder.clear(this.buffer('reset'));
    this.rows = 0;
  }

  dispose(): void {
    if (this.counts) gpu().recorder.retire(this.counts);
    this.counts = null;
  }
}
