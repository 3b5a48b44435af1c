// Differentiable batch norm over NCHW (PyTorch's F.batch_norm), with ReLU and a residual add
// fusable into the same pass (the end of a bottleneck: relu(bn(x) + shortcut)).
import { Tensor, paddedBytes } from '../tensor.ts';
import { gpu } from '../gpu/index.ts';
import { addsInto, record } from '../autograd/tape.ts';
import { shapeStr } from '../../kernels/launch.ts';
import { batchNorm2dApply, batchNorm2dBackward, batchNorm2dCoefficients, batchNorm2dVersion } from '../../kernels/batchnorm2d.ts';

export interface BatchNorm2dOptions {
  /** Batch statistics (and running-stat updates) when true, running statistics when false. */
  training: boolean;
  momentum?: number;   // 0.1
  eps?: number;        // 1e-5
  /** Apply ReLU to the result (after the residual add). */
  relu?: boolean;
  /** Added to the normalised values before the ReLU; same shape as x. */
  residual?: Tensor | null;
}

function checkVector(name: string, t: Tensor | null, C: number, x: Tensor): void {
  if (t && (t.shape.length !== 1 || t.shape[0] !== C)) {
    throw new Error(`batchNorm2d: ${name} of shape ${shapeStr(t.shape)} does not match the ${C} channels of x ${shapeStr(x.shape)} (want [${C}])`);
  }
}

function validate(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null,
  bias: Tensor | null, o: BatchNorm2dOptions): void {
  if (typeof o?.training !== 'boolean') throw new Error('batchNorm2d: options.training must be true or false');
  if (x.shape.length !== 4) throw new Error(`batchNorm2d: x must be 4-D [N, C, H, W], got ${shapeStr(x.shape)}`);
  const [N, C, H, W] = x.shape;
  if (x.size === 0) throw new Error(`batchNorm2d: x of shape ${shapeStr(x.shape)} is empty`);
  checkVector('weight', weight, C, x);
  checkVector('bias', bias, C, x);
  checkVector('runningMean', runningMean, C, x);
  checkVector('runningVar', runningVar, C, x);
  if ((runningMean === null) !== (runningVar === null)) {
    throw new Error('batchNorm2d: runningMean and runningVar must both be given or both be null');
  }
  if (!o.training && !runningMean) throw new Error(`batchNorm2d: eval mode (training: false) needs runningMean and runningVar, x ${shapeStr(x.shape)}`);
  if (o.training && N * H * W < 2) {
    throw new Error(`batchNorm2d: expected more than 1 value per channel when training, got x of shape ${shapeStr(x.shape)} ` +
      '(on 1x1 maps the statistics run over the batch only, so the batch must be >= 2)');
  }
  const momentum = o.momentum ?? 0.1, eps = o.eps ?? 1e-5;
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`batchNorm2d: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0)) throw new Error(`batchNorm2d: eps must be > 0, got ${eps}`);
  const r = o.residual;
  if (r && (r.shape.length !== 4 || r.shape.some((d, i) => d !== x.shape[i]))) {
    throw new Error(`batchNorm2d: residual of shape ${shapeStr(r.shape)} does not match x ${shapeStr(x.shape)}`);
  }
  if (o.training && runningMean && runningVar) {
    // written in place: a buffer bound for writing may not also be bound for reading, nor
    // twice over overlapping bytes, in one dispatch
    const m = runningMean.binding, v = runningVar.binding;
    if (m.buffer === v.buffer && m.offset < v.offset + v.size && v.offset < m.offset + m.size) {
      throw new Error('batchNorm2d: runningMean and runningVar overlap in GPU memory; they are updated in place');
    }
    const written = new Set([m.buffer, v.buffer]);
    for (const [name, t] of [['x', x], ['weight', weight], ['bias', bias]] as const) {
      if (t && written.has(t.binding.buffer)) {
        throw new Error(`batchNorm2d: ${name} shares a GPU buffer with the running statistics, which are updated in place`);
      }
    }
  }
}

/**
 * y = relu?(batchnorm(x) + residual?). In training mode the running statistics, when given,
 * are updated in place on the GPU (unbiased variance, momentum); the caller counts
 * num_batches_tracked. Gradients flow to x, weight, bias and residual.
 */
export function batchNorm2d(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null,
  bias: Tensor | null, opts: BatchNorm2dOptions): Tensor {
  validate(x, runningMean, runningVar, weight, bias, opts);
  const { training, momentum = 0.1, eps = 1e-5, relu = false } = opts;
  const residual = opts.residual ?? null;
  const C = x.shape[1];
  const choice = batchNorm2dVersion(x.shape);
  const fused = `${relu ? '+relu' : ''}${residual ? '+residual' : ''}`;
  const label = `batchnorm2d${fused} ${training ? 'train' : 'eval'} x${shapeStr(x.shape)}`;
  const coef = Tensor.empty([C, 4], 'batchnorm2d coefficients');
  batchNorm2dCoefficients(x.binding, x.shape, choice, {
    weight: weight?.binding ?? null, bias: bias?.binding ?? null,
    runningMean: runningMean?.binding ?? null, runningVar: runningVar?.binding ?? null,
  }, coef.binding, { training, eps, momentum }, `${label} fwd`);
  if (training) { runningMean?.markWritten(); runningVar?.markWritten(); }
  const out = Tensor.empty(x.shape, 'batchNorm2d');
  batchNorm2dApply(x.binding, coef.binding, residual?.binding ?? null, out.binding, x.shape, choice, relu, `${label} fwd`);

  record('batchNorm2d', [x, weight, bias, residual], out, (dy, [needX, needW, needB, needR], [, sinkW, sinkB]) => {
    // The kernel writes both per-channel sums, and with relu fused dy masked by (y > 0), which is
    // also the residual's gradient; what no input needs goes to pooled scratch, not a tensor.
    const pool = gpu().pool;
    const scratch: GPUBuffer[] = [];
    const into = (t: Tensor | null, bytes: number) => {
      if (t) return t.binding;
      scratch.push(pool.acquire(bytes, 'batchNorm2d unused'));
      return { buffer: scratch[scratch.length - 1], offset: 0, size: bytes };
    };
    const dx = needX ? Tensor.empty(x.shape, 'batchNorm2d backward') : null;
    // weight and bias gradients go straight into their .grad where the tape gives it
    const dweight = needW ? sinkW ?? Tensor.empty([C], 'batchNorm2d dweight') : null;
    const dbias = needB ? sinkB ?? Tensor.empty([C], 'batchNorm2d dbias') : null;
    const masked = relu && needR ? Tensor.empty(x.shape, 'batchNorm2d masked dy') : null;
    batchNorm2dBackward(x.binding, dy.binding, relu ? out.binding : null, coef.binding, weight?.binding ?? null, x.shape, choice, training, {
      dx: dx?.binding ?? null, dweight: into(dweight, paddedBytes(C)), dbias: into(dbias, paddedBytes(C)),
      masked: relu ? into(masked, paddedBytes(x.size)) : null, accumulate: { dweight: addsInto(sinkW), dbias: addsInto(sinkB) },
    }, `${label} bwd`);
    for (const b of scratch) pool.release(b);
    return [dx, dweight, dbias, needR ? (masked ?? dy) : null];
  }, [coef]);
  return out;
}
