// F.conv2d: 2D convolution with PyTorch's arguments and layouts, differentiable through the tape.
import { Tensor } from '../tensor.ts';
import { addsInto, record } from '../autograd/tape.ts';
import { conv2dBackward, conv2dBackwardBias, conv2dBackwardInputAdds, conv2dForward,
  convOutSize, type Conv2dGeometry } from '../../kernels/conv2d.ts';
import { shapeStr } from '../../kernels/launch.ts';

type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair | 'valid';
  dilation?: Pair;
  groups?: number;
}

function pair(name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number' || (Array.isArray(v) && v.length !== 2) ||
    p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`conv2d: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Checks the arguments the way PyTorch does and returns the geometry of the call. */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], biasShape: readonly number[] | null,
  opts: Conv2dOptions = {}): Conv2dGeometry {
  const groups = opts.groups ?? 1;
  if (xShape.length !== 4) throw new Error(`conv2d: input must be 4-D [N, C, H, W], got ${shapeStr(xShape)}`);
  if (wShape.length !== 4) throw new Error(`conv2d: weight must be 4-D [outC, inC/groups, kH, kW], got ${shapeStr(wShape)}`);
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`conv2d: groups must be a positive integer, got ${groups}`);
  const [n, c, h, w] = xShape;
  const [co, wc, kh, kw] = wShape;
  if (kh < 1 || kw < 1 || co < 1) throw new Error(`conv2d: weight ${shapeStr(wShape)} has an empty dimension`);
  if (c % groups !== 0) throw new Error(`conv2d: input channels ${c} (input ${shapeStr(xShape)}) are not divisible by groups=${groups}`);
  if (co % groups !== 0) throw new Error(`conv2d: output channels ${co} (weight ${shapeStr(wShape)}) are not divisible by groups=${groups}`);
  if (wc * groups !== c) {
    throw new Error(`conv2d: weight ${shapeStr(wShape)} with groups=${groups} expects ${wc * groups} input channels, ` +
      `but input ${shapeStr(xShape)} has ${c}`);
  }
  if (biasShape && (biasShape.length !== 1 || biasShape[0] !== co)) {
    throw new Error(`conv2d: bias must have shape [${co}] for weight ${shapeStr(wShape)}, got ${shapeStr(biasShape)}`);
  }
  const [sh, sw] = pair('stride', opts.stride ?? 1, 1);
  const [ph, pw] = opts.padding === 'valid' ? [0, 0] : pair('padding', opts.padding ?? 0, 0);
  const [dh, dw] = pair('dilation', opts.dilation ?? 1, 1);
  const ho = convOutSize(h, kh, sh, ph, dh), wo = convOutSize(w, kw, sw, pw, dw);
  if (ho <= 0 || wo <= 0) {
    throw new Error(`conv2d: output size ${ho}x${wo} is not positive for input ${shapeStr(xShape)}, kernel ${kh}x${kw}, ` +
      `stride ${sh},${sw}, padding ${ph},${pw}, dilation ${dh},${dw}`);
  }
  return { n, c, h, w, co, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups };
}

/**
 * y = conv2d(x, weight) + bias, as torch.nn.functional.conv2d: x [N, C, H, W],
 * weight [outC, C/groups, kH, kW], bias [outC]; stride, padding, dilation are numbers or
 * [h, w] pairs. Returns [N, outC, Ho, Wo].
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const g = conv2dGeometry(x.shape, weight.shape, bias ? bias.shape : null, opts);
  const out = Tensor.empty([g.n, g.co, g.ho, g.wo], 'conv2d');
  if (out.size > 0) conv2dForward(g, x.binding, weight.binding, bias ? bias.binding : null, out.binding);
  record('conv2d', [x, weight, bias ?? null], out, (dy, [needX, needW, needB], [sinkX, sinkW, sinkB]) => {
    // the first layer's input and frozen weights take no gradient: those passes are skipped;
    // weight and bias gradients are added straight into their .grad where the tape gives it
    // (stored, where it holds zeros: dW's sums of partial results then write it directly), and
    // dX into the gradient x has gathered so far where this shape's dX kernel can add
    const xSink = sinkX && conv2dBackwardInputAdds(g) ? sinkX : null;
    const dx = needX ? xSink ?? Tensor.empty(x.shape, 'conv2d dx') : null;
    const dw = needW ? sinkW ?? Tensor.empty(weight.shape, 'conv2d dw') : null;
    if (dx || dw) {
      conv2dBackward(g, x.binding, weight.binding, dy.binding, dx?.binding ?? null, dw?.binding ?? null,
        { accumulate: addsInto(sinkW), accumulateInput: addsInto(xSink) });
    }
    const db = needB ? sinkB ?? Tensor.empty(bias!.shape, 'conv2d db') : null;
    if (db) conv2dBackwardBias(g, dy.binding, db.binding, addsInto(sinkB));
    return [dx, dw, db];
  });
  return out;
}
