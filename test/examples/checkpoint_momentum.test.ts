// celeba-train checkpoints keep the optimizer's per-parameter momentum state: a parameter
// without state (frozen, or not yet stepped with a gradient) comes back without state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { ResNeSt } from '../../src/nn/index.ts';
import { SGD, ReduceLROnPlateau, splitWeightDecayGroups } from '../../src/optim/index.ts';
import { loadCheckpoint, restoreTraining, saveCheckpoint, type RunState } from '../../examples/celeba-train/checkpoint.ts';
import { assertClose, randomArray, setupGpu } from '../helpers.ts';

const s = suite('celeba-train: checkpoint momentum state');
s.before(setupGpu);

const build = () => {
  const model = new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 8, planes: [8, 12, 16, 24], numClasses: 40, seed: 5 });
  const optimizer = new SGD(splitWeightDecayGroups(model.parameters(), 1e-4), { lr: 0.1, momentum: 0.9 });
  return { model, optimizer, scheduler: new ReduceLROnPlateau(optimizer, { mode: 'max' }) };
};

s('a partly frozen run saves momentum for the trained parameters only and restores exactly that', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-momentum-'));
  const a = build();
  // fc.bias, the optimizer's last parameter, stays frozen: the file then holds fewer entries than parameters
  for (const [name, p] of a.model.namedParameters()) p.requiresGrad = name.startsWith('layer4.') || name === 'fc.weight';
  const x = Tensor.fromArray(randomArray(2 * 3 * 32 * 32, 1), [2, 3, 32, 32]);
  const y = Tensor.fromArray(randomArray(2 * 40, 2, 0, 1), [2, 40]);
  a.optimizer.zeroGrad();
  const loss = tidy(() => F.sigmoidFocalLoss(a.model.forward(x), y));
  loss.backward();
  a.optimizer.step();
  const saved = await a.optimizer.stateDict();
  const withState = saved.momentumBuffers.filter((b) => b !== null).length;
  assert.ok(withState > 0 && withState < saved.momentumBuffers.length, `${withState} of ${saved.momentumBuffers.length} parameters have state`);
  assert.is(saved.momentumBuffers[saved.momentumBuffers.length - 1], null, 'the last parameter has none');
  const { momentumBuffers: _, ...optimizerState } = saved;
  // only what restoreTraining reads matters here; the rest of a run's state is the trainer's
  const state = { format: 'celeba-train/1', optimizer: optimizerState, scheduler: a.scheduler.stateDict() } as unknown as RunState;
  const path = join(dir, 'ckpt.safetensors');
  await saveCheckpoint(path, a.model, a.optimizer, state);
  const b = build();
  restoreTraining(await loadCheckpoint(path), b.model, b.optimizer, b.scheduler, path);
  const restored = await b.optimizer.stateDict();
  assert.is(restored.step, 1);
  assert.equal(restored.momentumBuffers.map((m) => m === null), saved.momentumBuffers.map((m) => m === null), 'the same parameters have state');
  saved.momentumBuffers.forEach((m, i) => { if (m) assertClose(restored.momentumBuffers[i]!, m, { atol: 0, rtol: 0 }, `momentum ${i}`); });
  for (const t of [x, y, loss]) t.dispose();
  a.model.dispose(); b.model.dispose();
  rmSync(dir, { recursive: true });
});

s.run();
