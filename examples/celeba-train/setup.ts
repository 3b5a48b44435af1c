// What a run is made of: the dataset (the synthetic CelebA-format set unless --data), the
// model for --arch, the focal-loss alpha vector from the train split's positive rates.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { makeSyntheticCelebA, readCelebA, positiveRates, type CelebADataset, SPLITS, type Split } from '../../src/data/node.ts';
import { ResNeSt, resnest14, resnest26, resnest50, resnest101 } from '../../src/nn/index.ts';
import { loadWeights } from '../../src/io/weights_fs.ts';
import type { StateArray } from '../../src/nn/module.ts';
import type { TrainOptions } from './options.ts';
import { loadCheckpoint, type LoadedCheckpoint } from './checkpoint.ts';

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

export function loadDataset(root: string, opts: Pick<TrainOptions, 'limitTrain' | 'limitVal' | 'skipBadImages'>): CelebADataset {
  const ds = readCelebA(root, { skipBadImages: opts.skipBadImages });
  limitSplit(ds, 'train', opts.limitTrain);
  limitSplit(ds, 'val', opts.limitVal);
  limitSplit(ds, 'test', opts.limitVal);
  return ds;
}

/** Per-attribute alpha: the report's rule (0.25 above a 25% positive rate, else 0.75), 'none' (-1), or a constant. */
export function alphaVector(ds: CelebADataset, rule: string): number[] {
  const rates = positiveRates(ds, 'train');
  if (rule === 'report') return Array.from(rates, (r) => (r > 0.25 ? 0.25 : 0.75));
  if (rule === 'none') return Array.from(rates, () => -1);
  const value = Number(rule);
  if (!Number.isFinite(value)) throw new Error(`--alpha-rule must be 'report', 'none' or a number, got '${rule}'`);
  return Array.from(rates, () => value);
}

export const ARCHS: Record<string, (numClasses: number, seed: number) => ResNeSt> = {
  resnest50: (numClasses, seed) => resnest50({ numClasses, seed }),
  resnest101: (numClasses, seed) => resnest101({ numClasses, seed }),
  resnest26: (numClasses, seed) => resnest26({ numClasses, seed }),
  resnest14: (numClasses, seed) => resnest14({ numClasses, seed }),
  // demo size: ResNeSt-14's topology at a quarter of the widths
  'resnest-tiny': (numClasses, seed) => new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses, seed }),
};

export async function buildModel(arch: string, numClasses: number, seed: number, pretrained: string | null, log: (s: string) => void): Promise<ResNeSt> {
  const make = ARCHS[arch];
  if (!make) throw new Error(`--arch: unknown architecture '${arch}' (choose from ${Object.keys(ARCHS).join(', ')})`);
  const model = make(numClasses, seed);
  if (pretrained) {
    const file = await loadWeights(pretrained); // .safetensors, or torch.save's .pth as downloaded
    for (const note of file.notes) log(`${pretrained}: ${note}`);
    model.loadStateDict(file.tensors as Map<string, StateArray>, { skip: ['fc.'], source: pretrained });
    log(`loaded backbone weights from ${pretrained} (fc replaced by a fresh ${numClasses}-way head)`);
  }
  return model;
}

/** The model a trainer checkpoint holds (its saved --arch), ready for evaluation or prediction. */
export async function modelFromCheckpoint(checkpoint: string | LoadedCheckpoint, source: string, numClasses: number): Promise<ResNeSt> {
  const ckpt = typeof checkpoint === 'string' ? await loadCheckpoint(checkpoint) : checkpoint;
  const model = await buildModel(ckpt.state.options.arch, numClasses, ckpt.state.options.seed, null, () => undefined);
  model.loadStateDict(ckpt.model, { source });
  return model;
}
