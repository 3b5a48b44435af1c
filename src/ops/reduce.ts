// Differentiable full reductions: sum and mean to a one-element tensor.
import { Tensor } from '../tensor.ts';
import { record } from '../autograd/tape.ts';
import { reduceSum } from '../../kernels/reduce.ts';
import { elementwiseUnary } from '../../kernels/elementwise.ts';
import { shapeStr } from '../../kernels/launch.ts';

function reduce(op: 'sum' | 'mean', x: Tensor): Tensor {
  if (x.size === 0) throw new Error(`${op}: empty tensor of shape ${shapeStr(x.shape)}`);
  const scale = op === 'mean' ? 1 / x.size : 1;
  const out = Tensor.empty([], op);
  reduceSum(x.binding, out.binding, x.size, scale, `${op} ${shapeStr(x.shape)}`);
  record(op, [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, `${op} backward`);
    elementwiseUnary('broadcast', dy.binding, dx.binding, x.size, `${op} backward ${shapeStr(x.shape)}`, scale);
    return [dx];
  });
  return out;
}

export const sum = (x: Tensor): Tensor => reduce('sum', x);
export const mean = (x: Tensor): Tensor => reduce('mean', x);
