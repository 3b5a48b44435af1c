// Losses over [rows, A] logits of independent binary attributes. The forward pass is one fused
// kernel that also writes d(loss)/d(logits); the recorded backward only scales those by the
// upstream scalar (llm.c's fused classifier, for the sigmoid focal loss).
import { Tensor, paddedBytes } from '../tensor.ts';
import { isRecording, record } from '../autograd/tape.ts';
import { gpu, STORAGE_USAGE, type Binding } from '../gpu/index.ts';
import { shapeStr } from '../../kernels/launch.ts';
import { focalLossForward, focalLossBackward } from '../../kernels/focal_loss.ts';

export type LossReduction = 'mean' | 'sum';

export interface SigmoidFocalLossOptions {
  /** Weight of the positive class, one for all attributes or one per attribute ([A]); < 0 disables weighting. Default 0.25. */
  alpha?: number | Tensor | Float32Array | readonly number[];
  /** Focusing exponent; 0 gives (alpha-weighted) BCE. Default 2. */
  gamma?: number;
  /** Default 'mean' (over every element, as torchvision's reduction='mean'). */
  reduction?: LossReduction;
}

// Losses made here keep, in the padding of their one-value storage (16 bytes), the count of
// non-finite logits or per-element losses at index 1: readLoss gets both in one readback.
const lossesWithCount = new WeakSet<Tensor>();

// Alpha vectors given as host arrays live on the device, keyed by their values, in buffers
// owned here (not tensors: a tidy() scope must not free them between steps).
const ALPHA_CACHE_SIZE = 8;

function alphaBuffer(values: ArrayLike<number>): GPUBuffer {
  const g = gpu();
  const alphaCache = g.state('focal loss alpha', () => new Map<string, GPUBuffer>());
  const key = Array.from(values).join(',');
  let buffer = alphaCache.get(key);
  if (buffer) { alphaCache.delete(key); alphaCache.set(key, buffer); return buffer; }
  buffer = g.resources.createBuffer({ size: paddedBytes(values.length), usage: STORAGE_USAGE, label: 'focal loss alpha' });
  g.recorder.upload(buffer, 0, Float32Array.from(values));
  alphaCache.set(key, buffer);
  if (alphaCache.size > ALPHA_CACHE_SIZE) {
    const [oldKey, old] = alphaCache.entries().next().value as [string, GPUBuffer];
    alphaCache.delete(oldKey);
    g.recorder.retire(old); // destroyed once the batch that may read it is submitted
  }
  return buffer;
}

function attributes(op: string, logits: Tensor, targets: Tensor): number {
  if (logits.shape.length < 1 || logits.size === 0) throw new Error(`${op}: logits must be non-empty [rows, A], got ${shapeStr(logits.shape)}`);
  if (logits.shape.length !== targets.shape.length || logits.shape.some((d, i) => d !== targets.shape[i])) {
    throw new Error(`${op}: targets ${shapeStr(targets.shape)} must have the shape of logits ${shapeStr(logits.shape)}`);
  }
  return logits.shape[logits.shape.length - 1];
}

function fusedLoss(op: string, logits: Tensor, targets: Tensor, alpha: number | Binding, gamma: number, reduction: LossReduction): Tensor {
  const n = logits.size, A = logits.shape[logits.shape.length - 1];
  const scale = reduction === 'mean' ? 1 / n : 1;
  const needGrad = isRecording([logits]);
  const loss = Tensor.empty([], op);
  const dlogits = needGrad ? Tensor.empty(logits.shape, `${op} dlogits`) : null;
  const scratch = needGrad ? null : gpu().pool.acquire(n * 4, `${op} unused dlogits`);
  focalLossForward(logits.binding, targets.binding, typeof alpha === 'number' ? null : alpha,
    dlogits ? dlogits.binding : scratch!, loss.binding,
    { n, A, gamma, scale, alpha: typeof alpha === 'number' ? alpha : null }, `${op} ${shapeStr(logits.shape)}`);
  if (scratch) gpu().pool.release(scratch);
  lossesWithCount.add(loss);
  if (!dlogits) return loss;
  record(op, [logits], loss, (dOut) => {
    const dx = Tensor.empty(logits.shape, `${op} backward`);
    focalLossBackward(dOut.binding, dlogits.binding, dx.binding, n, `${op} backward ${shapeStr(logits.shape)}`);
    return [dx];
  }, [dlogits]);
  return loss;
}

/**
 * torchvision.ops.sigmoid_focal_loss over logits [rows, A] and targets of the same shape, real
 * values in [0, 1] (0/1 labels, smoothed labels, mixup), with alpha per attribute. Returns a
 * scalar tensor.
 */
export function sigmoidFocalLoss(logits: Tensor, targets: Tensor, opts: SigmoidFocalLossOptions = {}): Tensor {
  const op = 'sigmoidFocalLoss';
  const A = attributes(op, logits, targets);
  const gamma = opts.gamma ?? 2;
  const reduction = opts.reduction ?? 'mean';
  if (!Number.isFinite(gamma) || gamma < 0) throw new Error(`${op}: gamma must be a finite number >= 0, got ${gamma}`);
  if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`${op}: reduction must be 'mean' or 'sum', got '${reduction as string}'`);
  const alphaOpt = opts.alpha ?? 0.25;
  let alpha: number | Binding;
  if (typeof alphaOpt === 'number') {
    if (!Number.isFinite(alphaOpt)) throw new Error(`${op}: alpha must be finite, got ${alphaOpt}`);
    alpha = alphaOpt;
  } else {
    const length = alphaOpt instanceof Tensor ? alphaOpt.size : alphaOpt.length;
    const shapeOk = alphaOpt instanceof Tensor ? alphaOpt.shape.length === 1 : true;
    if (!shapeOk || length !== A) {
      const got = alphaOpt instanceof Tensor ? shapeStr(alphaOpt.shape) : `${length} values`;
      throw new Error(`${op}: alpha vector must have one value per attribute ([${A}] for logits ${shapeStr(logits.shape)}), got ${got}`);
    }
    alpha = alphaOpt instanceof Tensor ? alphaOpt.binding : alphaBuffer(alphaOpt);
  }
  return fusedLoss(op, logits, targets, alpha, gamma, reduction);
}

/** BCE-with-logits (PyTorch's binary_cross_entropy_with_logits, no weights, targets in [0, 1]): the focal loss with gamma 0 and no alpha. */
export function binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, opts: { reduction?: LossReduction } = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  attributes(op, logits, targets);
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`${op}: reduction must be 'mean' or 'sum', got '${reduction as string}'`);
  return fusedLoss(op, logits, targets, -1, 0, reduction);
}

/**
 * The value of a loss from sigmoidFocalLoss / binaryCrossEntropyWithLogits and the number of
 * non-finite logits or per-element losses behind it, in one readback.
 */
export async function readLoss(loss: Tensor): Promise<{ value: number; nonFinite: number }> {
  if (!lossesWithCount.has(loss)) {
    throw new Error(`readLoss: ${loss.label} tensor of shape ${shapeStr(loss.shape)} was not returned by sigmoidFocalLoss or binaryCrossEntropyWithLogits`);
  }
  const { buffer, offset } = loss.binding;
  const [value, nonFinite] = new Float32Array(await gpu().recorder.read(buffer, offset, 8));
  return { value, nonFinite };
}

/** Whether every logit and per-element loss behind this loss was finite. */
export async function lossIsFinite(loss: Tensor): Promise<boolean> {
  const { value, nonFinite } = await readLoss(loss);
  return nonFinite === 0 && Number.isFinite(value);
}
