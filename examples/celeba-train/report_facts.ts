// What report.md states about the run itself: where the weights and the data came from, the
// split sizes, every setting, the images left out, wall time and throughput; and whether the
// published figures may be set beside the results (only on the official CelebA, in full).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SPLITS, SYNTHETIC_MARKER } from './celeba/index.ts';
import type { TrainOptions } from './options.ts';
import type { TrainingData } from './dataset.ts';
import type { EpochMetrics } from './checkpoint.ts';
import type { EvalResult } from './steps.ts';
import { notOfficialReason, splitSizes } from './attributes.ts';
import { uniqueSkips, type SplitSkip } from './skipped.ts';

export function isSyntheticData(ds: TrainingData): boolean {
  return existsSync(join(dirname(ds.layout.attrFile), SYNTHETIC_MARKER));
}

/** Says at the start what the report will say about the initial weights. */
export function warnAboutStart(opts: TrainOptions, ds: TrainingData, log: (s: string) => void): void {
  if (opts.resume && existsSync(join(opts.out, 'last.safetensors'))) return; // a resumed run's weights come from its checkpoint
  if (opts.pretrained === 'none') { log('--pretrained none: starting from random weights on purpose'); return; }
  if (opts.pretrained === null && !isSyntheticData(ds)) {
    log(`warning: this looks like real CelebA, but no --pretrained weights were given: the report being reproduced starts ` +
      `from ImageNet weights (resnest50-528c19ca), this run from random ones. Give them with --pretrained FILE, or ` +
      `--pretrained none to start from random weights on purpose.`);
  }
}

/** Why report.md leaves out the published figures, or null when they belong beside the results. */
export function comparisonAbsentReason(opts: TrainOptions, ds: TrainingData): string | null {
  if (isSyntheticData(ds)) return 'the data is the synthetic CelebA-format set';
  const official = notOfficialReason(ds.attributes, ds.fullSizes);
  if (official) return `the data is not the official CelebA: ${official}`;
  const limits = [opts.limitTrain !== null ? '--limit-train' : null, opts.limitVal !== null ? '--limit-val' : null].filter(Boolean);
  if (limits.length) return `the run used only part of the splits (${limits.join(', ')})`;
  return null;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function hours(seconds: number): string {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${s.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

export function pretrainedSource(opts: TrainOptions): string {
  if (opts.pretrained === 'none') return 'none: random initialisation, on purpose (--pretrained none)';
  if (opts.pretrained === null) return 'none given: random initialisation';
  return `${opts.pretrained} (backbone; fresh ${opts.arch} fc head)`;
}

/** Sections of report.md about the run; `evalSeconds` is the final evaluation's wall time. */
export function runFacts(opts: TrainOptions, ds: TrainingData, history: EpochMetrics[], val: EvalResult, test: EvalResult | null, evalSeconds: number): string[] {
  const used = splitSizes(ds);
  const trainSeconds = history.reduce((s, h) => s + h.seconds, 0);
  const trainImages = history.reduce((s, h) => s + h.imagesPerSec * h.seconds, 0);
  const lines = ['## Run', '',
    `- weights at the start: ${pretrainedSource(opts)}`,
    `- data: ${isSyntheticData(ds) ? 'the synthetic CelebA-format set at ' : ''}${ds.root} (${ds.layout.kind} layout; images in ${ds.imageDir})`,
    `- split sizes in the files: ${SPLITS.map((s) => `${s} ${fmt(ds.fullSizes[s])}`).join(', ')}; used: ${SPLITS.map((s) => `${s} ${fmt(used[s])}`).join(', ')}`,
    `- wall time: ${hours(trainSeconds + evalSeconds)} (${history.length} epoch${history.length === 1 ? '' : 's'} of training and validation ${hours(trainSeconds)}, final evaluation ${hours(evalSeconds)}); ` +
      `${(trainImages / Math.max(trainSeconds, 1e-9)).toFixed(2)} training images/s over the epochs, validation included`,
    '', '| setting | value |', '|---|---|',
    ...Object.entries(opts).filter(([k]) => k !== 'lrGiven').map(([k, v]) => `| --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} | ${v === null ? '-' : String(v)} |`),
  ];
  const skipped = uniqueSkips([...history.flatMap((h) => h.skippedImages ?? []), ...val.skipped.map((s): SplitSkip => ({ ...s, split: 'val' })),
    ...(test?.skipped ?? []).map((s): SplitSkip => ({ ...s, split: 'test' }))]);
  if (ds.problems.length || skipped.length) {
    lines.push('', '## Left out (--skip-bad-images)', '',
      `${ds.problems.length} label line${ds.problems.length === 1 ? '' : 's'}; unreadable images: ` +
        SPLITS.map((s) => `${s} ${skipped.filter((k) => k.split === s).length}`).join(', ') + '.', '',
      ...ds.problems.map((p) => `- ${p.file}:${p.line}: ${p.message}`),
      ...skipped.map((s) => `- [${s.split}] ${s.reason}`));
  }
  return lines;
}
