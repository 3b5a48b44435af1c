// Command-line options of celeba-train. Every default is the report's recipe: ResNeSt-50,
// 320x320, batch 32, 30 epochs, SGD lr 0.1, focal loss gamma 2 with alpha 0.25/0.75 by the
// train split's positive rate, ReduceLROnPlateau(factor 0.1, patience 1, min lr 1e-6). The report
// names no momentum or weight decay, so those are torch.optim.SGD's defaults (0 and 0).
import { resolve } from 'node:path';

export interface TrainOptions {
  data: string | null;         // CelebA root; null = the synthetic CelebA-format set
  imageDir: string | null;     // image folder, relative to data or absolute; null = the layout's own
  syntheticCount: number;
  arch: string;
  pretrained: string | null;
  imageSize: number;
  batch: number;
  epochs: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  gamma: number;
  alphaRule: string;           // 'report' | 'within' | 'none' | a number
  sweepResult: string | null;  // a sweep's --out: report.md sets this run's rule beside the grid's best cell
  loss: 'focal' | 'bce';
  seed: number;
  workers: number | null;
  out: string;
  resume: boolean;
  limitTrain: number | null;
  limitVal: number | null;
  skipBadImages: boolean;
  minLr: number;
  patience: number;
  factor: number;
  autotune: boolean;
  augment: 'report' | 'light';
  /** Epoch files kept besides last, selected and best-val: the most recent N. */
  keepCheckpoints: number;
  /** --lr was given: on --resume it replaces the saved learning rate. */
  lrGiven: boolean;
}

export const DEFAULTS: TrainOptions = {
  data: null, imageDir: null, syntheticCount: 2400, arch: 'resnest50', pretrained: null, imageSize: 320, batch: 32, epochs: 30,
  lr: 0.1, momentum: 0, weightDecay: 0, gamma: 2, alphaRule: 'report', sweepResult: null, loss: 'focal', seed: 0, workers: null,
  out: 'runs/celeba', resume: false, limitTrain: null, limitVal: null, skipBadImages: false, minLr: 1e-6, patience: 1, factor: 0.1, lrGiven: false, autotune: false, augment: 'report',
  keepCheckpoints: 2,
};

/**
 * The `npm run demo` job: a small ResNeSt on the synthetic set, under 10 minutes on a 2-core CPU
 * adapter. It differs from the recipe where a short run from scratch needs it: BCE (the
 * baseline loss: the recipe's alpha rule moves the decision threshold of mid-frequency
 * attributes, which a few epochs from scratch do not overcome), momentum, and lighter jitter.
 */
export const DEMO: Partial<TrainOptions> = {
  arch: 'resnest-tiny', imageSize: 64, batch: 32, epochs: 10, lr: 0.2, momentum: 0.9, weightDecay: 1e-4,
  loss: 'bce', augment: 'light', out: 'runs/demo',
};

/** How a flag's value is read and checked; every check runs before any work starts. */
type Kind =
  | { kind: 'bool' }
  | { kind: 'string'; placeholder: string; choices?: readonly string[] }
  | { kind: 'path'; placeholder: 'DIR' | 'FILE' }
  | { kind: 'int'; min: number; nullable?: boolean }
  | { kind: 'number'; min: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean };
type Flag = Kind & { key: keyof TrainOptions; help: string };

const FLAGS: Record<string, Flag> = {
  '--data': { key: 'data', kind: 'path', placeholder: 'DIR', help: "CelebA folder: official, torchvision's (DIR/celeba/) or Kaggle's layout; default: the synthetic set" },
  '--image-dir': { key: 'imageDir', kind: 'string', placeholder: 'DIR', help: "image folder, relative to --data or absolute (default: the layout's own)" },
  '--synthetic-count': { key: 'syntheticCount', kind: 'int', min: 10, help: `images in the generated synthetic set (default ${DEFAULTS.syntheticCount})` },
  '--arch': { key: 'arch', kind: 'string', placeholder: 'NAME', help: 'resnest50 | resnest101 | resnest26 | resnest14 | resnest-tiny (default resnest50)' },
  '--pretrained': { key: 'pretrained', kind: 'path', placeholder: 'FILE', help: "backbone weights with official keys: the .pth as downloaded, or .safetensors (the fc head is replaced), or 'none' to start from random weights on purpose (default: none)" },
  '--image-size': { key: 'imageSize', kind: 'int', min: 32, help: 'train crop / eval resize size, at least 32 (default 320)' },
  '--batch': { key: 'batch', kind: 'int', min: 1, help: 'batch size (default 32)' },
  '--epochs': { key: 'epochs', kind: 'int', min: 1, help: 'epochs in all (default 30); with --resume, may be raised' },
  '--lr': { key: 'lr', kind: 'number', min: 0, minExclusive: true, help: 'initial learning rate (default 0.1); with --resume, the learning rate from then on' },
  '--momentum': { key: 'momentum', kind: 'number', min: 0, max: 1, maxExclusive: true, help: 'SGD momentum (default 0, as torch.optim.SGD: the report names none)' },
  '--weight-decay': { key: 'weightDecay', kind: 'number', min: 0, help: 'SGD weight decay, not applied to BN and biases (default 0)' },
  '--gamma': { key: 'gamma', kind: 'number', min: 0, help: 'focal loss gamma (default 2)' },
  '--alpha-rule': { key: 'alphaRule', kind: 'string', placeholder: 'RULE', help: "'report' (0.25 if the train positive rate > 25%, else 0.75), 'within' (0.25 if one class has over twice the other's samples, else 0.5), 'none', or a number in [0, 1] (default report)" },
  '--sweep-result': { key: 'sweepResult', kind: 'path', placeholder: 'DIR', help: "a sweep's --out: report.md sets this run's alpha rule and gamma beside the grid's best cell (default: none)" },
  '--loss': { key: 'loss', kind: 'string', placeholder: 'NAME', choices: ['focal', 'bce'], help: 'focal | bce (default focal)' },
  '--seed': { key: 'seed', kind: 'int', min: 0, help: 'seed of initialisation, shuffling and augmentation (default 0)' },
  '--workers': { key: 'workers', kind: 'int', min: 1, nullable: true, help: 'data loader threads (default: one per core)' },
  '--out': { key: 'out', kind: 'path', placeholder: 'DIR', help: `run directory (default ${DEFAULTS.out})` },
  '--resume': { key: 'resume', kind: 'bool', help: 'continue the run in --out with its saved settings (default: off)' },
  '--limit-train': { key: 'limitTrain', kind: 'int', min: 1, nullable: true, help: 'use only the first N training images (default: all)' },
  '--limit-val': { key: 'limitVal', kind: 'int', min: 1, nullable: true, help: 'use only the first N validation/test images (default: all)' },
  '--skip-bad-images': { key: 'skipBadImages', kind: 'bool', help: 'skip and count unreadable images instead of failing (default: off)' },
  '--augment': { key: 'augment', kind: 'string', placeholder: 'NAME', choices: ['report', 'light'], help: "'report' (the recipe's crop, flip and jitter) or 'light' (crop 0.7-1, flip, jitter 0.2, hue 0.05) (default report)" },
  '--autotune': { key: 'autotune', kind: 'bool', help: 'after the first step, time every kernel version on this adapter and keep the fastest (cached) (default: off)' },
  '--keep-checkpoints': { key: 'keepCheckpoints', kind: 'int', min: 0, help: `epoch-NN files kept besides last, selected and best-val: the N most recent (default ${DEFAULTS.keepCheckpoints})` },
  '--min-lr': { key: 'minLr', kind: 'number', min: 0, help: 'ReduceLROnPlateau min lr (default 1e-6)' },
  '--patience': { key: 'patience', kind: 'int', min: 0, help: 'ReduceLROnPlateau patience (default 1)' },
  '--factor': { key: 'factor', kind: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true, help: 'ReduceLROnPlateau factor (default 0.1)' },
};

/** Settings a resumed run may change; every other setting is the saved run's. */
export const CHANGEABLE_ON_RESUME: readonly (keyof TrainOptions)[] = ['lr', 'epochs', 'workers', 'autotune', 'out', 'resume', 'keepCheckpoints', 'sweepResult'];

export const flagOf = (key: keyof TrainOptions): string => Object.keys(FLAGS).find((f) => FLAGS[f].key === key) ?? key;

/** A positive or non-negative integer, or a number within bounds; throws `flag: 'value' is not ...`. */
export function readNumber(flag: string, value: string, spec: Kind & { kind: 'int' | 'number' }): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (spec.kind === 'int') {
    if (!Number.isInteger(n) || n < spec.min) throw new Error(`${flag}: '${value}' is not an integer >= ${spec.min}`);
    return n;
  }
  const lowOk = spec.minExclusive ? n > spec.min : n >= spec.min;
  const highOk = spec.max === undefined || (spec.maxExclusive ? n < spec.max : n <= spec.max);
  if (!Number.isFinite(n) || !lowOk || !highOk) {
    const range = `${spec.minExclusive ? '>' : '>='} ${spec.min}${spec.max === undefined ? '' : ` and ${spec.maxExclusive ? '<' : '<='} ${spec.max}`}`;
    throw new Error(`${flag}: '${value}' is not a number ${range}`);
  }
  return n;
}

/** --alpha-rule's value: a rule name, or a constant alpha in [0, 1]. */
export function checkAlphaRule(rule: string): void {
  if (rule === 'report' || rule === 'within' || rule === 'none') return;
  const n = rule.trim() === '' ? NaN : Number(rule);
  if (!(n >= 0 && n <= 1)) throw new Error(`--alpha-rule: '${rule}' is not 'report', 'within', 'none' or a number in [0, 1]`);
}

export interface ParsedTrainArgs { opts: TrainOptions; given: Set<keyof TrainOptions> }

/** Options over `base`, and which of them the command line gave (a resumed run keeps the rest). */
export function parseTrainFlags(argv: string[], base: Partial<TrainOptions> = {}): ParsedTrainArgs {
  const opts: TrainOptions = { ...DEFAULTS, ...base };
  const rec = opts as unknown as Record<string, unknown>;
  const given = new Set<keyof TrainOptions>();
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const name = eq > 0 && argv[i].startsWith('--') ? argv[i].slice(0, eq) : argv[i];
    const inline = eq > 0 && argv[i].startsWith('--') ? argv[i].slice(eq + 1) : undefined;
    const spec = FLAGS[name];
    if (!spec) throw new Error(`unknown option ${argv[i]} (see --help)`);
    given.add(spec.key);
    if (spec.kind === 'bool') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new Error(`${name}: '${inline}' is not true or false`);
      rec[spec.key] = inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new Error(`${name} needs a value`);
    if (spec.kind === 'int' || spec.kind === 'number') rec[spec.key] = readNumber(name, value, spec);
    else if (spec.kind === 'path') rec[spec.key] = spec.key === 'out' || (spec.key === 'pretrained' && value === 'none') ? value : resolve(value);
    else {
      if (spec.choices && !spec.choices.includes(value)) throw new Error(`${name}: '${value}' is not one of ${spec.choices.join(', ')}`);
      rec[spec.key] = value;
    }
  }
  if (given.has('lr')) opts.lrGiven = true;
  checkAlphaRule(opts.alphaRule);
  return { opts, given };
}

export function parseTrainArgs(argv: string[], base: Partial<TrainOptions> = {}): TrainOptions {
  return parseTrainFlags(argv, base).opts;
}

const placeholder = (s: Flag): string => (s.kind === 'bool' ? '' : s.kind === 'int' || s.kind === 'number' ? ' N' : ` ${s.placeholder}`);

export function flagHelp(): string {
  return Object.entries(FLAGS).map(([f, s]) => `  ${(f + placeholder(s)).padEnd(24)} ${s.help}`).join('\n');
}
