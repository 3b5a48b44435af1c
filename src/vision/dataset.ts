// A labelled image set as the loader reads it: image paths, a row-major 0/1 label table and a
// split code per image. Any source fits (CelebA's label files, a CSV, a folder per class).

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface LabeledImageSet {
  /** Label names, one column of `labels` each. */
  attributes: readonly string[];
  /** Path of each image, one row of `labels` each. */
  paths: string[];
  /** [images, attributes] of 0/1. */
  labels: Uint8Array;
  /** Index into SPLITS per image; any other value leaves the image out of every split. */
  splits: Uint8Array;
  /** Source lines left out while reading (counted in the loader's epoch report). */
  problems?: readonly unknown[];
}

/** Row indices of one split (or all rows). */
export function splitIndices(set: Pick<LabeledImageSet, 'splits'>, split: Split | 'all'): Int32Array {
  if (split === 'all') return Int32Array.from(set.splits, (_, i) => i);
  const code = SPLITS.indexOf(split);
  const out: number[] = [];
  set.splits.forEach((s, i) => { if (s === code) out.push(i); });
  return Int32Array.from(out);
}

/** Fraction of positives per attribute within a split (class-balancing weights start from it). */
export function positiveRates(set: Pick<LabeledImageSet, 'attributes' | 'labels' | 'splits'>, split: Split | 'all' = 'train'): Float64Array {
  const k = set.attributes.length;
  const rows = splitIndices(set, split);
  const rates = new Float64Array(k);
  for (const r of rows) for (let j = 0; j < k; j++) rates[j] += set.labels[r * k + j];
  if (rows.length > 0) for (let j = 0; j < k; j++) rates[j] /= rows.length;
  return rates;
}
