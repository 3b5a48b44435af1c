// End-to-end training step (forward, focal loss, backward, SGD) of a ResNeSt on random data:
// img/s, model FLOPs / time as a fraction of the adapter's measured FMA peak, and per step the
// command submissions and new buffer allocations (steady state: 1 and 0).
// Standalone: node --import tsx bench/train_step.ts [arch] [size] [batch] [steps] [--profile]
import { initGpu, gpu } from '../src/gpu/index.ts';
import { Tensor } from '../src/tensor.ts';
import { tidy } from '../src/autograd/scope.ts';
import * as F from '../src/functional.ts';
import { readLoss } from '../src/ops/loss.ts';
import { SGD, splitWeightDecayGroups } from '../src/optim/index.ts';
import { ResNeSt, resnest50, resnest14 } from '../src/nn/index.ts';
import { Rng } from '../src/rng.ts';

export interface StepResult {
  arch: string; size: number; batch: number; msPerStep: number; imagesPerSec: number; gflops: number;
  submissionsPerStep: number; buffersCreatedPerStep: number; liveMB: number;
}

export const ARCHS: Record<string, () => ResNeSt> = {
  resnest50: () => resnest50({ numClasses: 40 }),
  resnest14: () => resnest14({ numClasses: 40 }),
  'resnest-tiny': () => new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses: 40 }),
};

export async function benchTrainStep(arch: string, size: number, batch: number, steps: number, profile = false): Promise<StepResult> {
  await initGpu();
  const g = gpu();
  const model = ARCHS[arch]();
  const opt = new SGD(splitWeightDecayGroups(model.parameters(), 1e-4), { lr: 0.01, momentum: 0.9 });
  const rng = new Rng(1);
  const x = Tensor.fromArray(Float32Array.from({ length: batch * 3 * size * size }, () => rng.normal()), [batch, 3, size, size]);
  const y = Tensor.fromArray(Float32Array.from({ length: batch * 40 }, () => (rng.uniform() < 0.3 ? 1 : 0)), [batch, 40]);
  const step = async () => {
    opt.zeroGrad();
    const loss = tidy(() => F.sigmoidFocalLoss(model.forward(x), y, { alpha: 0.25, gamma: 2 }));
    loss.backward();
    opt.step();
    await readLoss(loss);
    loss.dispose();
  };
  await step(); await step(); // warm-up: pipelines, pool buckets, bind groups
  const profiler = profile ? g.recorder.startProfiling() : null;
  const subs0 = g.recorder.stats.submissions, created0 = g.pool.stats.created;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const ms = (performance.now() - t0) / steps;
  const result: StepResult = {
    arch, size, batch, msPerStep: ms, imagesPerSec: (1000 * batch) / ms,
    gflops: (3 * 2 * model.macs(size, size) * batch) / (ms * 1e6), // backward = 2x forward
    submissionsPerStep: (g.recorder.stats.submissions - subs0) / steps,
    buffersCreatedPerStep: (g.pool.stats.created - created0) / steps,
    liveMB: g.pool.stats.liveBytes / 2 ** 20,
  };
  if (profiler) {
    const entries = await profiler.collect();
    const total = entries.reduce((s, e) => s + e.ms, 0);
    for (const e of entries.slice(0, 25)) console.log(`${e.name.padEnd(36)} ${(e.ms / steps).toFixed(2).padStart(9)} ms/step ${(100 * e.ms / total).toFixed(1).padStart(5)}%  ${e.count / steps} dispatches/step`);
  }
  x.dispose(); y.dispose(); model.dispose();
  return result;
}

if (process.argv[1]?.endsWith('train_step.ts')) {
  const [arch = 'resnest-tiny', size = '64', batch = '32', steps = '3'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const r = await benchTrainStep(arch, Number(size), Number(batch), Number(steps), process.argv.includes('--profile'));
  console.log(JSON.stringify(r));
  process.exit(0);
}
