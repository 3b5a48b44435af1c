// Fused sigmoid focal loss (forward + dlogits + reduction) and its backward scaling, at the
// CelebA head's shape and at a large batch where bandwidth, not dispatch cost, dominates.
import type { BenchCase } from './harness.ts';
import { Tensor } from '../src/index.ts';
import { focalLossCpu, focalLossForward, focalLossBackward } from '../src/kernels.ts';

function fusedCase(rows: number, A: number): BenchCase[] {
  const n = rows * A;
  const x = Float32Array.from({ length: n }, (_, i) => 6 * Math.sin(i * 0.7));
  const y = Float32Array.from({ length: n }, (_, i) => ((i * 7) % 5 < 2 ? 1 : 0));
  const alpha = Float32Array.from({ length: A }, (_, j) => (j % 3 === 2 ? -1 : 0.25 + 0.01 * j));
  const tx = Tensor.fromArray(x, [rows, A]), ty = Tensor.fromArray(y, [rows, A]), ta = Tensor.fromArray(alpha, [A]);
  const dl = Tensor.empty([rows, A], 'bench dlogits'), dx = Tensor.empty([rows, A], 'bench dx'), loss = Tensor.empty([], 'bench loss');
  const params = { n, A, gamma: 2, scale: 1 / n, alpha: null };
  const tag = `[${rows},${A}]`;
  const fwd = () => focalLossForward(tx.binding, ty.binding, ta.binding, dl.binding, loss.binding, params, `focal loss ${tag}`);
  let users = 2;
  const dispose = () => { if (--users === 0) for (const t of [tx, ty, ta, dl, dx, loss]) t.dispose(); };
  return [
    { family: 'focal_loss', name: `focal loss fwd+dlogits+reduce ${tag}, alpha vector, gamma 2`, bytes: 3 * 4 * n, record: fwd, dispose,
      validate: async () => {
        fwd();
        const want = focalLossCpu(x, y, alpha, 2, A, 'mean');
        const got = await loss.item();
        if (Math.abs(got - want.loss) > 1e-5 * Math.abs(want.loss) + 1e-6) throw new Error(`loss ${got}, want ${want.loss}`);
        const g = await dl.toArray();
        for (let i = 0; i < n; i += 97) if (Math.abs(g[i] - want.dlogits[i]) > 1e-8 + 1e-4 * Math.abs(want.dlogits[i])) throw new Error(`dlogits[${i}] ${g[i]}, want ${want.dlogits[i]}`);
      } },
    { family: 'focal_loss', name: `focal loss backward (scale by upstream) ${tag}`, bytes: 2 * 4 * n, dispose,
      record: () => focalLossBackward(loss.binding, dl.binding, dx.binding, n, `focal loss backward ${tag}`) },
  ];
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  return [...fusedCase(256, 40), ...fusedCase(opts.quick ? 8192 : 32768, 40)];
}
