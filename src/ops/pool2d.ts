// Differentiable pooling over NCHW with PyTorch's semantics: F.max_pool2d, F.avg_pool2d and
// F.adaptive_avg_pool2d (the output-size rules, padding rules and window divisors included).
import { Tensor } from '../tensor.ts';
import { gpu } from '../gpu/index.ts';
import { record } from '../autograd/tape.ts';
import { shapeStr } from '../../kernels/launch.ts';
import {
  adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, avgPool2dBackward, avgPool2dForward, maxPool2dBackward,
  maxPool2dForward, poolOutputSize, pool2dVersion, type AvgPoolMode, type Pool2dShape,
} from '../../kernels/pool2d.ts';

type Pair = number | readonly [number, number];

export interface MaxPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;        // default: kernelSize
  padding?: Pair;       // default 0; at most half the kernel; counts as -infinity
  dilation?: Pair;      // default 1
  ceilMode?: boolean;   // default false
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;              // default: kernelSize
  padding?: Pair;             // default 0; at most half the kernel; counts as zeros
  ceilMode?: boolean;         // default false
  countIncludePad?: boolean;  // default true
  divisorOverride?: number | null;
}

function pair(op: string, name: string, v: Pair | undefined, fallback: Pair, min: number): [number, number] {
  const p = v ?? fallback;
  const r: [number, number] = typeof p === 'number' ? [p, p] : [p[0], p[1]];
  if (!Array.isArray(p) && typeof p !== 'number' || r.some((d) => !Number.isInteger(d) || d < min)) {
    throw new Error(`${op}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return r;
}

function geometry(op: string, x: Tensor, o: MaxPool2dOptions | AvgPool2dOptions): Pool2dShape {
  if (x.shape.length !== 4) throw new Error(`${op}: x must be 4-D [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (x.size === 0) throw new Error(`${op}: x of shape ${shapeStr(x.shape)} is empty`);
  if (!o || o.kernelSize === undefined) throw new Error(`${op}: options.kernelSize is required`);
  const [kh, kw] = pair(op, 'kernelSize', o.kernelSize, 1, 1);
  const [sh, sw] = pair(op, 'stride', o.stride, [kh, kw], 1);
  const [ph, pw] = pair(op, 'padding', o.padding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', 'dilation' in o ? o.dilation : undefined, 1, 1);
  if (ph > Math.floor(kh / 2) || pw > Math.floor(kw / 2)) {
    throw new Error(`${op}: padding [${ph},${pw}] must be at most half of kernelSize [${kh},${kw}] (PyTorch's rule), x ${shapeStr(x.shape)}`);
  }
  const [N, C, H, W] = x.shape;
  const ceil = o.ceilMode ?? false;
  const OH = poolOutputSize(H, kh, ph, sh, dh, ceil), OW = poolOutputSize(W, kw, pw, sw, dw, ceil);
  if (OH < 1 || OW < 1) {
    throw new Error(`${op}: output size [${OH},${OW}] is too small: kernelSize [${kh},${kw}] (dilation [${dh},${dw}]) ` +
      `does not fit x ${shapeStr(x.shape)} with padding [${ph},${pw}]`);
  }
  return { N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw };
}

const windowStr = (g: Pool2dShape) => `k${g.kh}x${g.kw} s${g.sh}x${g.sw} p${g.ph}x${g.pw}${g.dh * g.dw > 1 ? ` d${g.dh}x${g.dw}` : ''}`;

export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  const g = geometry('maxPool2d', x, opts);
  const v = pool2dVersion(g, 'fwd'), vb = pool2dVersion(g, 'bwd');
  const label = `maxpool2d ${windowStr(g)} x${shapeStr(x.shape)}`;
  const outShape = [g.N, g.C, g.OH, g.OW];
  const out = Tensor.empty(outShape, 'maxPool2d');
  const argmax = Tensor.empty(outShape, 'maxPool2d indices'); // i32 bits
  maxPool2dForward(x.binding, out.binding, argmax.binding, g, v, `${label} fwd`);
  record('maxPool2d', [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, 'maxPool2d backward');
    maxPool2dBackward(dy.binding, argmax.binding, dx.binding, g, vb, `${label} bwd`);
    return [dx];
  }, [argmax]);
  return out;
}

export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  const g = geometry('avgPool2d', x, opts);
  const divisorOverride = opts.divisorOverride ?? null;
  if (divisorOverride !== null && (!Number.isInteger(divisorOverride) || divisorOverride === 0)) {
    throw new Error(`avgPool2d: divisorOverride must be a non-zero integer, got ${divisorOverride}`);
  }
  const mode: AvgPoolMode = { countIncludePad: opts.countIncludePad ?? true, divisorOverride };
  const v = pool2dVersion(g, 'fwd'), vb = pool2dVersion(g, 'bwd');
  const label = `avgpool2d ${windowStr(g)}${opts.ceilMode ? ' ceil' : ''}${mode.countIncludePad ? '' : ' exclude-pad'} x${shapeStr(x.shape)}`;
  const out = Tensor.empty([g.N, g.C, g.OH, g.OW], 'avgPool2d');
  const pool = gpu().pool;
  const scratch = pool.acquire(16, 'avgPool2d unused');
  avgPool2dForward(x.binding, out.binding, scratch, g, mode, v, `${label} fwd`);
  pool.release(scratch);
  record('avgPool2d', [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, 'avgPool2d backward');
    avgPool2dBackward(dy.binding, dx.binding, g, mode, vb, `${label} bwd`);
    return [dx];
  });
  return out;
}

/** Average over PyTorch's adaptive windows; outputSize 1 is the global average pool. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  if (x.shape.length !== 4) throw new Error(`adaptiveAvgPool2d: x must be 4-D [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (x.size === 0) throw new Error(`adaptiveAvgPool2d: x of shape ${shapeStr(x.shape)} is empty`);
  const [OH, OW] = pair('adaptiveAvgPool2d', 'outputSize', outputSize, 1, 1);
  const label = `adaptive_avgpool2d to [${OH},${OW}] x${shapeStr(x.shape)}`;
  const out = Tensor.empty([x.shape[0], x.shape[1], OH, OW], 'adaptiveAvgPool2d');
  adaptiveAvgPool2dForward(x.binding, out.binding, x.shape, OH, OW, `${label} fwd`);
  record('adaptiveAvgPool2d', [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, 'adaptiveAvgPool2d backward');
    adaptiveAvgPool2dBackward(dy.binding, dx.binding, x.shape, OH, OW, `${label} bwd`);
    return [dx];
  });
  return out;
}
