// Split attention at ResNeSt-50 layer1: U = bn0/relu output [8, 2*64, 56, 56] (radix 2,
// cardinality 1, 64 channels per split; quick: 28x28), attention [8, 128].
// Bytes: every tensor read or written once per pass.
import { withVersion, type BenchCase } from './harness.ts';
import { Tensor } from '../src/index.ts';
import {
  allChoices, splitAttentionRadixSumBackward, radixSumCpu, splitAttentionRadixSumForward,
  splitAttentionRSoftmaxForward, splitAttentionCombineBackward, splitAttentionCombineCpu, splitAttentionCombineForward,
  splitAttentionFamily, splitAttentionPoolBackward, splitAttentionPoolCpu, splitAttentionPoolForward,
  adaptiveAvgPool2dForward,
} from '../src/kernels.ts';

function sampleCheck(got: Float32Array, want: ArrayLike<number>, what: string): void {
  for (let i = 0; i < got.length; i += 31) {
    if (Math.abs(got[i] - want[i]) > 1e-4 + 1e-4 * Math.abs(want[i])) throw new Error(`${what}[${i}] = ${got[i]}, want ${want[i]}`);
  }
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const side = opts.quick ? 28 : 56, N = 8, R = 2, C = 64, HW = side * side;
  const sh = { N, R, C, HW }, shape = [N, R * C, side, side], n = N * R * C * HW, m = N * C * HW;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
  const att = Float32Array.from({ length: N * R * C }, (_, i) => 0.5 + 0.4 * Math.cos(i));
  const tx = Tensor.fromArray(x, shape), ta = Tensor.fromArray(att, [N, R * C]), dy = Tensor.fromArray(x.subarray(0, m), [N, C, side, side]);
  const sum = Tensor.empty([N, C, side, side], 'bench sum'), g = Tensor.empty([N, C, 1, 1], 'bench g'), dx = Tensor.empty(shape, 'bench dx');
  const datt = Tensor.empty([N, R * C], 'bench datt'), logits = Tensor.fromArray(att, [N, R * C]);
  const tag = `x[${shape}]`;
  let users = 0;
  const dispose = () => { if (--users === 0) for (const t of [tx, ta, dy, sum, g, dx, datt, logits]) t.dispose(); };
  const out: BenchCase[] = [];
  const add = (c: Omit<BenchCase, 'family' | 'dispose'>) => { users++; out.push({ family: 'split_attention', dispose, ...c }); };
  for (const v of allChoices(splitAttentionFamily)) { // the plane passes in each version; rsoftmax has one
    const forced = (fn: () => void) => () => withVersion('split_attention', v, fn);
    const radixSum = forced(() => splitAttentionRadixSumForward(tx.binding, sum.binding, sh, `radix sum ${tag}`));
    const pool = forced(() => splitAttentionPoolForward(tx.binding, g.binding, sh, `sa pool ${tag}`));
    const combine = forced(() => splitAttentionCombineForward(tx.binding, ta.binding, sum.binding, sh, `combine ${tag}`));
    add({ name: `radix sum fwd ${tag} ${v}`, version: v, bytes: 4 * (n + m), record: radixSum,
      validate: async () => { radixSum(); sampleCheck(await sum.toArray(), radixSumCpu(x, sh), 'sum'); } });
    add({ name: `radix sum bwd ${tag} ${v}`, version: v, bytes: 4 * (n + m),
      record: forced(() => splitAttentionRadixSumBackward(dy.binding, dx.binding, sh, `radix sum bwd ${tag}`)) });
    add({ name: `pool (radix sum + GAP fused) fwd ${tag} ${v}`, version: v, bytes: 4 * n, record: pool,
      validate: async () => { pool(); sampleCheck(await g.toArray(), splitAttentionPoolCpu(x, sh), 'g'); } });
    add({ name: `pool unfused (radix sum, then GAP) ${tag} ${v}`, version: v, bytes: 4 * n, record: () => {
      radixSum();
      adaptiveAvgPool2dForward(sum.binding, g.binding, [N, C, side, side], 1, 1, `gap ${tag}`, v);
    } });
    add({ name: `pool bwd ${tag} ${v}`, version: v, bytes: 4 * n, record: forced(() => splitAttentionPoolBackward(g.binding, dx.binding, sh, `sa pool bwd ${tag}`)) });
    add({ name: `combine fwd ${tag} ${v}`, version: v, bytes: 4 * (n + m), record: combine,
      validate: async () => { combine(); sampleCheck(await sum.toArray(), splitAttentionCombineCpu(x, att, sh), 'y'); } });
    add({ name: `combine bwd ${tag} ${v}`, version: v, bytes: 4 * (2 * n + m),
      record: forced(() => splitAttentionCombineBackward(tx.binding, ta.binding, dy.binding, dx.binding, datt.binding, sh, `combine bwd ${tag}`)) });
  }
  add({ name: `rsoftmax fwd [${N},${R * C}] (one dispatch; timer resolution)`, record: () => splitAttentionRSoftmaxForward(logits.binding, datt.binding, N, R, C, 1, 'rsoftmax') });
  return out;
}
