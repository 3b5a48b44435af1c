// Batch norm at ResNeSt-50 layer1 shapes: batch 8, 64 channels (bn1 + relu after conv1) and
// 256 channels (bn3 + shortcut + relu closing the block), 56x56 (quick: 28x28).
// Bytes count each pass's tensor traffic: training forward reads x twice (statistics, apply).
import type { BenchCase } from './harness.ts';
import { Tensor } from '../src/index.ts';
import { batchNorm2dApply, batchNorm2dBackward, batchNorm2dCoefficients, batchNorm2dFamily, allChoices, batchNorm2dFwdCpu } from '../src/kernels.ts';

function sampleCheck(got: Float32Array, want: ArrayLike<number>, what: string): void {
  for (let i = 0; i < got.length; i += 97) {
    if (Math.abs(got[i] - want[i]) > 1e-4 + 1e-3 * Math.abs(want[i])) throw new Error(`${what}[${i}] = ${got[i]}, want ${want[i]}`);
  }
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const side = opts.quick ? 28 : 56;
  const out: BenchCase[] = [];
  for (const C of [64, 256]) {
    const shape = [8, C, side, side], n = shape.reduce((a, b) => a * b, 1), tag = `x[${shape}]`;
    const residualUsed = C === 256; // bn3 + shortcut + relu; bn1 is + relu only
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 2 + 0.5);
    const tx = Tensor.fromArray(x, shape), dy = Tensor.fromArray(x.map((v) => Math.cos(v * 3)), shape);
    const res = residualUsed ? Tensor.fromArray(x.map((v) => Math.sin(v * 5)), shape) : null;
    const w = Tensor.full([C], 1.25), b = Tensor.full([C], -0.1), rm = Tensor.zeros([C]), rv = Tensor.ones([C]);
    const coef = Tensor.empty([C, 4], 'bench coef'), y = Tensor.empty(shape, 'bench y'), dx = Tensor.empty(shape, 'bench dx');
    const masked = Tensor.empty(shape, 'bench masked'), dw = Tensor.empty([C], 'bench dw'), db = Tensor.empty([C], 'bench db');
    const p = { weight: w.binding, bias: b.binding, runningMean: rm.binding, runningVar: rv.binding };
    const fused = residualUsed ? '+residual+relu' : '+relu';
    const forward = (training: boolean, version: string) => () => {
      batchNorm2dCoefficients(tx.binding, shape, version, p, coef.binding, { training, eps: 1e-5, momentum: 0.1 }, `bn ${tag}`);
      batchNorm2dApply(tx.binding, coef.binding, res?.binding ?? null, y.binding, shape, version, true, `bn ${tag}`);
    };
    const backward = (version: string) => () => batchNorm2dBackward(tx.binding, dy.binding, y.binding, coef.binding, w.binding,
      shape, version, true, { dx: dx.binding, dweight: dw.binding, dbias: db.binding, masked: masked.binding }, `bn bwd ${tag}`);
    const io = residualUsed ? 3 : 2; // tensors the apply pass touches
    let users = 0;
    const dispose = () => { if (--users === 0) for (const t of [tx, dy, res, w, b, rm, rv, coef, y, dx, masked, dw, db]) t?.dispose(); };
    const validate = async () => {
      rm.write(new Float32Array(C)); rv.write(new Float32Array(C).fill(1));
      forward(true, 'v2')();
      const ref = batchNorm2dFwdCpu(x, shape, { training: true, relu: true, weight: new Float32Array(C).fill(1.25),
        bias: new Float32Array(C).fill(-0.1), residual: res ? await res.toArray() : null, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
      sampleCheck(await y.toArray(), ref.y, 'y');
      sampleCheck(await rv.toArray(), ref.runningVar!, 'running var');
    };
    const add = (c: Omit<BenchCase, 'family' | 'dispose'>) => { users++; out.push({ family: 'batchnorm2d', dispose, ...c }); };
    for (const version of allChoices(batchNorm2dFamily)) {
      add({ name: `train fwd${fused} ${tag} ${version}`, version, bytes: 4 * n * (io + 1), record: forward(true, version),
        validate: version === 'v2' ? validate : undefined });
      // reduce: x, dy, y read, masked dy written; dx pass: x, masked read, dx written
      add({ name: `train bwd${fused} ${tag} ${version}`, version, bytes: 4 * n * 7, record: backward(version) });
    }
    add({ name: `eval fwd${fused} ${tag} v2`, version: 'v2', bytes: 4 * n * io, record: forward(false, 'v2') });
  }
  return out;
}
