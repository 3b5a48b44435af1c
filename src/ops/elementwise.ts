// Differentiable elementwise ops on same-shape tensors (no broadcasting: a mismatch is an error).
import { Tensor } from '../tensor.ts';
import { record } from '../autograd/tape.ts';
import { elementwiseBinary, elementwiseReluBackward, elementwiseUnary } from '../../kernels/elementwise.ts';
import { shapeStr } from '../../kernels/launch.ts';

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  }
}

function scaled(t: Tensor, alpha: number, label: string): Tensor {
  const out = Tensor.empty(t.shape, label);
  elementwiseUnary('affine', t.binding, out.binding, t.size, `${label} ${shapeStr(t.shape)}`, alpha, 0);
  return out;
}

function binary(op: 'add' | 'sub' | 'mul', a: Tensor, b: Tensor): Tensor {
  sameShape(op, a, b);
  const out = Tensor.empty(a.shape, op);
  elementwiseBinary(op, a.binding, b.binding, out.binding, a.size, `${op} ${shapeStr(a.shape)}`);
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  const out = binary('add', a, b);
  record('add', [a, b], out, (dy, [da, db]) => [da ? dy : null, db ? dy : null]);
  return out;
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binary('sub', a, b);
  record('sub', [a, b], out, (dy, [da, db]) => [da ? dy : null, db ? scaled(dy, -1, 'sub backward') : null]);
  return out;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binary('mul', a, b);
  record('mul', [a, b], out, (dy, [needA, needB]) => {
    const times = (other: Tensor) => {
      const d = Tensor.empty(a.shape, 'mul backward');
      elementwiseBinary('mul', dy.binding, other.binding, d.binding, a.size, `mul backward ${shapeStr(a.shape)}`);
      return d;
    };
    return [needA ? times(b) : null, needB ? times(a) : null];
  });
  return out;
}

/** alpha * x */
export function scale(x: Tensor, alpha: number): Tensor {
  const out = scaled(x, alpha, 'scale');
  record('scale', [x], out, (dy) => [scaled(dy, alpha, 'scale backward')]);
  return out;
}

export function relu(x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, 'relu');
  elementwiseUnary('relu', x.binding, out.binding, x.size, `relu ${shapeStr(x.shape)}`);
  record('relu', [x], out, (dy) => {
    const dx = Tensor.empty(x.shape, 'relu backward');
    elementwiseReluBackward(x.binding, dy.binding, dx.binding, x.size, `relu backward ${shapeStr(x.shape)}`);
    return [dx];
  });
  return out;
}

/** A view with another shape of the same number of values (-1 infers one dimension). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (shape.filter((d) => d === -1).length > 1 || resolved.some((d) => !Number.isInteger(d))) {
    throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  }
  const out = x.view(resolved, 'reshape');
  record('reshape', [x], out, (dy) => [dy.view(x.shape, 'reshape backward')]);
  return out;
}
