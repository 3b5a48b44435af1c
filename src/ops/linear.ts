// F.linear: y = x W^T + b (PyTorch layout: weight [out, in]), differentiable in x, W and b.
import { Tensor } from '../tensor.ts';
import { record } from '../autograd/tape.ts';
import { shapeStr } from '../../kernels/launch.ts';
import { linearBackwardBias, linearBackwardInput, linearBackwardWeight, linearForward } from '../../kernels/linear.ts';

/** x [..., in], weight [out, in], bias [out] -> [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.shape.length !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${shapeStr(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== inF) {
    throw new Error(`linear: input ${shapeStr(x.shape)} does not end in weight's in_features ${inF} (weight ${shapeStr(weight.shape)})`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias must be [${outF}] for weight ${shapeStr(weight.shape)}, got ${shapeStr(bias.shape)}`);
  }
  const rows = x.shape.slice(0, -1).reduce((a, d) => a * d, 1);
  const y = Tensor.empty([...x.shape.slice(0, -1), outF], 'linear');
  linearForward(x.binding, weight.binding, bias?.binding ?? null, y.binding, rows, inF, outF);
  record('linear', [x, weight, bias ?? null], y, (dy, [needX, needW, needB]) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (needX) {
      dx = Tensor.empty(x.shape, 'linear dX');
      linearBackwardInput(dy.binding, weight.binding, dx.binding, rows, inF, outF);
    }
    if (needW) {
      dw = Tensor.empty(weight.shape, 'linear dW');
      linearBackwardWeight(dy.binding, x.binding, dw.binding, rows, inF, outF);
    }
    if (needB) {
      db = Tensor.empty(bias!.shape, 'linear db');
      linearBackwardBias(dy.binding, db.binding, rows, outF);
    }
    return [dx, dw, db];
  });
  return y;
}
