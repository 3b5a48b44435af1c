// Differentiable split-attention ops of ResNeSt's SplAtConv2d (spec 1.5):
//   radixSum(x, R)                    [N, R*C, H, W] -> [N, C, H, W], sum of the R splits
//   splitAttentionPool(x, R)          [N, R*C, H, W] -> [N, C, 1, 1], adaptiveAvgPool2d(radixSum(x), 1) in one pass
//   rSoftmax(z, R, K)                 fc2 logits [N, R*C] or [N, R*C, 1, 1] (cardinal-major) -> attention of the
//                                     same shape, radix-major; softmax over the splits, sigmoid when R = 1
//   splitAttentionCombine(x, a, R)    sum_r a[:, r*C + c] * x[:, r*C + c]  -> [N, C, H, W]
import { Tensor, paddedBytes } from '../tensor.ts';
import { gpu } from '../gpu/index.ts';
import { addsInto, record } from '../autograd/tape.ts';
import { shapeStr } from '../../kernels/launch.ts';
import {
  splitAttentionRadixSumBackward, splitAttentionRadixSumForward, splitAttentionRSoftmaxBackward, splitAttentionRSoftmaxForward, SA_MAX_RADIX, splitAttentionCombineBackward,
  splitAttentionCombineForward, splitAttentionPoolBackward, splitAttentionPoolForward, type SplitShape,
} from '../../kernels/split_attention.ts';

function splitShape(op: string, x: Tensor, radix: number): SplitShape {
  if (!Number.isInteger(radix) || radix < 1) throw new Error(`${op}: radix must be a positive integer, got ${radix}`);
  if (x.shape.length !== 4) throw new Error(`${op}: x must be 4-D [N, radix*C, H, W], got ${shapeStr(x.shape)}`);
  if (x.size === 0) throw new Error(`${op}: x of shape ${shapeStr(x.shape)} is empty`);
  const [N, RC, H, W] = x.shape;
  if (RC % radix !== 0) throw new Error(`${op}: radix ${radix} does not divide the ${RC} channels of x ${shapeStr(x.shape)}`);
  return { N, R: radix, C: RC / radix, HW: H * W };
}

export function radixSum(x: Tensor, radix: number): Tensor {
  const s = splitShape('radixSum', x, radix);
  const label = `radix_sum R${radix} x${shapeStr(x.shape)}`;
  const out = Tensor.empty([s.N, s.C, x.shape[2], x.shape[3]], 'radixSum');
  splitAttentionRadixSumForward(x.binding, out.binding, s, `${label} fwd`);
  record('radixSum', [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, 'radixSum backward');
    splitAttentionRadixSumBackward(dy.binding, dx.binding, s, `${label} bwd`);
    return [dx];
  });
  return out;
}

export function splitAttentionPool(x: Tensor, radix: number): Tensor {
  const s = splitShape('splitAttentionPool', x, radix);
  const label = `split_attention_pool R${radix} x${shapeStr(x.shape)}`;
  const out = Tensor.empty([s.N, s.C, 1, 1], 'splitAttentionPool');
  splitAttentionPoolForward(x.binding, out.binding, s, `${label} fwd`);
  record('splitAttentionPool', [x], out, (dy, _needs, [sink]) => {
    // added into the gradient x gathered from its other consumer (the combine) where the tape offers it
    const dx = sink ?? Tensor.empty(x.shape, 'splitAttentionPool backward');
    splitAttentionPoolBackward(dy.binding, dx.binding, s, `${label} bwd`, addsInto(sink));
    return [dx];
  });
  return out;
}

function attentionShape(op: string, what: string, t: Tensor): [number, number] {
  const ok = t.shape.length === 2 || (t.shape.length === 4 && t.shape[2] === 1 && t.shape[3] === 1);
  if (!ok || t.size === 0) throw new Error(`${op}: ${what} must be [N, radix*C] or [N, radix*C, 1, 1], got ${shapeStr(t.shape)}`);
  return [t.shape[0], t.shape[1]];
}

export function rSoftmax(x: Tensor, radix: number, cardinality: number): Tensor {
  const [N, RC] = attentionShape('rSoftmax', 'x', x);
  if (!Number.isInteger(radix) || radix < 1) throw new Error(`rSoftmax: radix must be a positive integer, got ${radix}`);
  if (!Number.isInteger(cardinality) || cardinality < 1) throw new Error(`rSoftmax: cardinality must be a positive integer, got ${cardinality}`);
  if (RC % (radix * cardinality) !== 0) {
    throw new Error(`rSoftmax: radix ${radix} x cardinality ${cardinality} does not divide the ${RC} channels of x ${shapeStr(x.shape)}`);
  }
  const C = RC / radix;
  const label = `rsoftmax R${radix} K${cardinality} x${shapeStr(x.shape)}`;
  const out = Tensor.empty(x.shape, 'rSoftmax');
  splitAttentionRSoftmaxForward(x.binding, out.binding, N, radix, C, cardinality, `${label} fwd`);
  record('rSoftmax', [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, 'rSoftmax backward');
    splitAttentionRSoftmaxBackward(out.binding, dy.binding, dx.binding, N, radix, C, cardinality, `${label} bwd`);
    return [dx];
  });
  return out;
}

export function splitAttentionCombine(x: Tensor, attention: Tensor, radix: number): Tensor {
  const s = splitShape('splitAttentionCombine', x, radix);
  if (radix > SA_MAX_RADIX) throw new Error(`splitAttentionCombine: radix ${radix} is over the supported maximum of ${SA_MAX_RADIX}`);
  const [aN, aRC] = attentionShape('splitAttentionCombine', 'attention', attention);
  if (aN !== s.N || aRC !== s.R * s.C) {
    throw new Error(`splitAttentionCombine: attention ${shapeStr(attention.shape)} does not match x ${shapeStr(x.shape)} ` +
      `(want [${s.N}, ${s.R * s.C}] or [${s.N}, ${s.R * s.C}, 1, 1])`);
  }
  const label = `split_attention_combine R${radix} x${shapeStr(x.shape)}`;
  const out = Tensor.empty([s.N, s.C, x.shape[2], x.shape[3]], 'splitAttentionCombine');
  splitAttentionCombineForward(x.binding, attention.binding, out.binding, s, `${label} fwd`);
  record('splitAttentionCombine', [x, attention], out, (dy, [needX, needAtt]) => {
    // one pass writes both gradients; an unneeded one goes to pooled scratch, not a tensor
    const pool = gpu().pool;
    const dx = needX ? Tensor.empty(x.shape, 'splitAttentionCombine dx') : null;
    const datt = needAtt ? Tensor.empty(attention.shape, 'splitAttentionCombine dattention') : null;
    const bytes = paddedBytes(dx ? attention.size : x.size);
    const scratch = dx && datt ? null : { buffer: pool.acquire(bytes, 'splitAttentionCombine unused gradient'), offset: 0, size: bytes };
    splitAttentionCombineBackward(x.binding, attention.binding, dy.binding, dx?.binding ?? scratch!, datt?.binding ?? scratch!, s, `${label} bwd`);
    if (scratch) pool.release(scratch.buffer);
    return [dx, datt];
  });
  return out;
}
