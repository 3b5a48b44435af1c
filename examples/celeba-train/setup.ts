// What a run is made of: the dataset (the synthetic CelebA-format set unless --data), the
// model for --arch, the focal-loss alpha vector from the train split's positive rates.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadWeights, nn } from '../../src/node.ts';
import { positiveRates, splitIndices, SPLITS, type Split } from '../../src/vision/index.ts';
import { makeSyntheticCelebA, type CelebADataset } from './celeba/index.ts';
import type { TrainOptions } from './options.ts';
import { loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts';
import { readDataset, type TrainingData } from './dataset.ts';

export const SYNTHETIC_SEED = 2024;

export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'resnest-webgpu');
}

/** The CelebA root to read: --data, or the synthetic set, generated on first use and cached. */
export async function datasetRoot(opts: Pick<TrainOptions, 'data' | 'syntheticCount'>, log: (s: string) => void): Promise<string> {
  if (opts.data) return opts.data;
  const dir = join(cacheDir(), `synthetic-celeba-${opts.syntheticCount}-${SYNTHETIC_SEED}`);
  const res = await makeSyntheticCelebA({
    dir, count: opts.syntheticCount, seed: SYNTHETIC_SEED,
    onProgress: (done, count) => { if (done % 500 === 0 || done === count) log(`synthetic CelebA: ${done}/${count} images`); },
  });
  if (res.generated) log(`synthetic CelebA-format set written to ${dir} (${res.count} images, ${(res.ms / 1000).toFixed(1)} s)`);
  return dir;
}

/** Keeps only the first `limit` rows of a split (the others leave every split). */
export function limitSplit(ds: CelebADataset, split: Split, limit: number | null): void {
  if (limit === null) return;
  const code = SPLITS.indexOf(split);
  let seen = 0;
  ds.splits.forEach((s, i) => { if (s === code && ++seen > limit) ds.splits[i] = 255; });
}

export function loadDataset(root: string, opts: Pick<TrainOptions, 'limitTrain' | 'limitVal' | 'skipBadImages' | 'imageDir'>): TrainingData {
  const ds = readDataset(root, { imageDir: opts.imageDir, lenient: opts.skipBadImages });
  limitSplit(ds, 'train', opts.limitTrain);
  limitSplit(ds, 'val', opts.limitVal);
  limitSplit(ds, 'test', opts.limitVal);
  return ds;
}

/**
 * Per-attribute alpha (the weight of the positive class; the negative class gets 1 - alpha):
 * - 'report': the report's rule across attributes, 0.25 above a 25% train positive rate, else 0.75;
 * - 'within': the report's within-attribute experiment, "0.25 for positive classes if either of the
 *   binary classes is more than twice the other", read as: 0.25 when positives > 2 x negatives or
 *   negatives > 2 x positives in the train split (strictly), whichever class is the larger; the
 *   other attributes get 0.5, both classes weighted equally on the same scale as 0.25/0.75 (alpha
 *   disabled would give them twice the weight);
 * - 'none' (-1, unweighted), or a constant.
 */
export function alphaVector(ds: CelebADataset, rule: string): number[] {
  const rates = positiveRates(ds, 'train');
  if (rule === 'report') return Array.from(rates, (r) => (r > 0.25 ? 0.25 : 0.75));
  if (rule === 'within') return trainCounts(ds).map(([pos, neg]) => (pos > 2 * neg || neg > 2 * pos ? 0.25 : 0.5));
  if (rule === 'none') return Array.from(rates, () => -1);
  const value = Number(rule);
  if (!Number.isFinite(value)) throw new Error(`--alpha-rule must be 'report', 'within', 'none' or a number, got '${rule}'`);
  return Array.from(rates, () => value);
}

/** [positives, negatives] per attribute in the train split, as integers (rates would blur the exact-twice boundary). */
function trainCounts(ds: Pick<CelebADataset, 'attributes' | 'labels' | 'splits'>): [number, number][] {
  const k = ds.attributes.length, rows = splitIndices(ds, 'train');
  const pos = new Array<number>(k).fill(0);
  for (const r of rows) for (let j = 0; j < k; j++) pos[j] += ds.labels[r * k + j];
  return pos.map((p) => [p, rows.length - p]);
}

export const ARCHS: Record<string, (numClasses: number, seed: number) => nn.ResNeSt> = {
  resnest50: (numClasses, seed) => nn.resnest50({ numClasses, seed }),
  resnest101: (numClasses, seed) => nn.resnest101({ numClasses, seed }),
  resnest26: (numClasses, seed) => nn.resnest26({ numClasses, seed }),
  resnest14: (numClasses, seed) => nn.resnest14({ numClasses, seed }),
  // demo size: ResNeSt-14's topology at a quarter of the widths
  'resnest-tiny': (numClasses, seed) => new nn.ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses, seed }),
};

export async function buildModel(arch: string, numClasses: number, seed: number, pretrained: string | null, log: (s: string) => void): Promise<nn.ResNeSt> {
  const make = ARCHS[arch];
  if (!make) throw new Error(`--arch: unknown architecture '${arch}' (choose from ${Object.keys(ARCHS).join(', ')})`);
  const model = make(numClasses, seed);
  if (pretrained && pretrained !== 'none') {
    model.loadStateDict(await loadPretrained(pretrained, log), { skip: ['fc.'], source: pretrained });
    log(`loaded backbone weights from ${pretrained} (fc replaced by a fresh ${numClasses}-way head)`);
  }
  return model;
}

/** The one reader of --pretrained files (.safetensors, or torch.save's .pth as downloaded): a state_dict under the official key names. */
export async function loadPretrained(path: string, log: (s: string) => void): Promise<Map<string, nn.StateArray>> {
  if (!existsSync(path)) throw new Error(`--pretrained ${path}: no such file`);
  const file = await loadWeights(path);
  for (const note of file.notes) log(`${path}: ${note}`);
  return file.tensors as Map<string, nn.StateArray>;
}

/** The model a trainer checkpoint holds (its saved --arch), ready for evaluation or prediction. */
export async function modelFromCheckpoint(checkpoint: string | LoadedCheckpoint, source: string, numClasses: number): Promise<nn.ResNeSt> {
  const ckpt = typeof checkpoint === 'string' ? await loadCheckpoint(checkpoint) : checkpoint;
  const model = await buildModel(ckpt.state.options.arch, numClasses, ckpt.state.options.seed, null, () => undefined);
  model.loadStateDict(ckpt.model, { source });
  return model;
}
