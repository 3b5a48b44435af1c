import { suite } from 'uvu';
import { Tensor } from '../../src/tensor.ts';
import { sgdStepCpu, sgdStep, type SgdHyper } from '../../kernels/sgd.ts';
import { assertClose, randomArray, setupGpu } from '../helpers.ts';

const s = suite('kernels: sgd');
s.before(setupGpu);

const tol = { atol: 1e-6, rtol: 1e-5 };
const configs: [string, SgdHyper][] = [
  ['plain + weight decay', { lr: 0.3, momentum: 0, dampening: 0, weightDecay: 0.05, nesterov: false }],
  ['momentum + dampening', { lr: 0.1, momentum: 0.9, dampening: 0.25, weightDecay: 1e-4, nesterov: false }],
  ['nesterov', { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.01, nesterov: true }],
];

for (const n of [5, 1001, 70001]) {
  for (const [name, h] of configs) {
    s(`${name}, n=${n}: three steps (first momentum step b = g) match the f64 reference`, async () => {
      const x = randomArray(n, n), p = Tensor.fromArray(x, [n]), buf = Tensor.zeros([n]);
      const want = Float64Array.from(x);
      let wantBuf: Float64Array | null = null;
      for (let step = 0; step < 3; step++) {
        const g = randomArray(n, n + 10 + step), tg = Tensor.fromArray(g, [n]);
        sgdStep(tg.binding, p.binding, buf.binding, Math.ceil(n / 4), h, step === 0, `sgd ${name}`);
        wantBuf = sgdStepCpu(want, g, wantBuf, h);
        tg.dispose();
      }
      assertClose(await p.toArray(), want, tol, `${name} params`);
      if (wantBuf) assertClose(await buf.toArray(), wantBuf, tol, `${name} momentum`);
      p.dispose(); buf.dispose();
    });
  }
}

s.run();
