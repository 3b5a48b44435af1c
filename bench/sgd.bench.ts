// SGD update over a flat arena the size of ResNeSt-50 with a 40-attribute head (25.5M
// parameters, 102 MB per arena): what one optimizer step costs, with and without momentum.
import type { BenchCase } from './harness.ts';
import { Tensor } from '../src/index.ts';
import { sgdStepCpu, sgdStep, type SgdHyper } from '../src/kernels.ts';

const RESNEST50_CELEBA_PARAMS = 25_516_200;

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const n = opts.quick ? 4 * 1024 * 1024 : RESNEST50_CELEBA_PARAMS;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  const p = Tensor.fromArray(x, [n]), grad = Tensor.fromArray(g, [n]), buf = Tensor.zeros([n]);
  const n4 = Math.ceil(n / 4);
  const tag = `${(n / 1e6).toFixed(1)}M params`;
  let users = 2;
  const dispose = () => { if (--users === 0) for (const t of [p, grad, buf]) t.dispose(); };
  const nesterov: SgdHyper = { lr: 1e-3, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: true };
  const plain: SgdHyper = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 1e-4, nesterov: false };
  return [
    { family: 'sgd', name: `SGD step, Nesterov momentum + weight decay, ${tag}`, bytes: 20 * n, dispose,
      record: () => sgdStep(grad.binding, p.binding, buf.binding, n4, nesterov, false, `sgd ${tag}`),
      validate: async () => {
        const fresh = Tensor.fromArray(x.subarray(0, 4096), [4096]), b = Tensor.zeros([4096]), gg = Tensor.fromArray(g.subarray(0, 4096), [4096]);
        sgdStep(gg.binding, fresh.binding, b.binding, 1024, nesterov, true, 'sgd validate');
        const got = await fresh.toArray(), want = Float64Array.from(x.subarray(0, 4096));
        sgdStepCpu(want, g.subarray(0, 4096), null, nesterov);
        for (const t of [fresh, b, gg]) t.dispose();
        for (let i = 0; i < 4096; i++) if (Math.abs(got[i] - want[i]) > 1e-6) throw new Error(`param[${i}] ${got[i]}, want ${want[i]}`);
      } },
    { family: 'sgd', name: `SGD step, no momentum, ${tag}`, bytes: 12 * n, dispose,
      record: () => sgdStep(grad.binding, p.binding, null, n4, plain, false, `sgd plain ${tag}`) },
  ];
}
