// Checkpoints: one safetensors file holding the model's state_dict (`model.` keys, official
// names), the SGD momentum buffers (`optim.momentum.N`), and in its metadata everything else
// a resumed run needs to continue bit-for-bit: epoch, optimizer and scheduler state, loader
// position, metric history, the partial sums of an interrupted epoch, and the options.
// Writes are atomic (temp file + rename), so a crash leaves the previous file intact.
import { existsSync } from 'node:fs';
import { loadSafetensors, saveSafetensors, type nn, type optim, type TensorToWrite } from '../../src/node.ts';
import type { LoaderState } from '../../src/vision/index.ts';
import type { TrainOptions } from './options.ts';
import type { SplitSkip } from './skipped.ts';

export interface EpochMetrics {
  epoch: number; lr: number;
  trainLoss: number; trainAcc: number; valLoss: number; valAcc: number;
  trainAttrAcc: number[]; valAttrAcc: number[];
  seconds: number; imagesPerSec: number; skipped: number;
  /** --skip-bad-images: the train and val images left out this epoch, with the reason. */
  skippedImages?: SplitSkip[];
}

/** Sums of an epoch in progress (saved on SIGINT, so the resumed epoch ends with the same figures). */
export interface PartialEpoch { lossSum: number; steps: number; images: number; correct: number[]; seconds: number; skippedImages?: SplitSkip[] }

export interface RunState {
  format: 'celeba-train/1';
  completedEpochs: number;
  globalStep: number;
  options: TrainOptions;
  alpha: number[];
  optimizer: Omit<optim.SGDStateDict, 'momentumBuffers'>;
  scheduler: optim.ReduceLROnPlateauState;
  loader: LoaderState;
  history: EpochMetrics[];
  partial: PartialEpoch | null;
  /** A fine-tuned model's output names, in order (finetune_checkpoint.ts); absent: the 40 CelebA attributes. */
  attributes?: string[];
}

export async function saveCheckpoint(path: string, model: nn.ResNeSt, optimizer: optim.SGD, state: RunState): Promise<void> {
  const tensors = new Map<string, TensorToWrite>();
  for (const [k, v] of await model.stateArrays()) tensors.set(`model.${k}`, v as TensorToWrite);
  const { momentumBuffers, ...optim } = await optimizer.stateDict();
  momentumBuffers.forEach((b, i) => { if (b) tensors.set(`optim.momentum.${i}`, { dtype: 'F32', shape: [b.length], data: b }); });
  await saveSafetensors(path, tensors, { run: JSON.stringify({ ...state, optimizer: optim }) });
}

/** `momentum[i]`: parameter i's momentum buffer, absent for a parameter without momentum state. */
export interface LoadedCheckpoint { model: Map<string, nn.StateArray>; momentum: (Float32Array | undefined)[]; state: RunState }

export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  if (!existsSync(path)) throw new Error(`${path}: no such checkpoint file`);
  const file = await loadSafetensors(path);
  const model = new Map<string, nn.StateArray>();
  const momentum: (Float32Array | undefined)[] = [];
  for (const [k, t] of file.tensors) {
    if (k.startsWith('model.')) model.set(k.slice(6), t as nn.StateArray);
    else if (k.startsWith('optim.momentum.')) momentum[Number(k.slice(15))] = t.data as Float32Array;
  }
  const raw = file.metadata.run;
  if (!raw) throw new Error(`${path}: not a celeba-train checkpoint (no "run" metadata)`);
  const state = JSON.parse(raw) as RunState;
  if (state.format !== 'celeba-train/1') throw new Error(`${path}: unknown checkpoint format ${state.format}`);
  return { model, momentum, state };
}

export function restoreTraining(ckpt: LoadedCheckpoint, model: nn.ResNeSt, optimizer: optim.SGD, scheduler: optim.ReduceLROnPlateau, source: string): void {
  model.loadStateDict(ckpt.model, { source });
  const count = ckpt.state.optimizer.paramGroups.reduce((n, g) => n + g.params.length, 0);
  // one entry per parameter, null where a parameter has no momentum state (more entries than
  // parameters are left for loadStateDict to refuse)
  const momentumBuffers = ckpt.momentum.length > count ? ckpt.momentum.map((b) => b ?? null)
    : Array.from({ length: ckpt.momentum.length && count }, (_, i) => ckpt.momentum[i] ?? null);
  optimizer.loadStateDict({ ...ckpt.state.optimizer, momentumBuffers });
  scheduler.loadStateDict(ckpt.state.scheduler);
}
