// Command-line options of celeba-train. Every default is the report's recipe: ResNeSt-50,
// 320x320, batch 32, 30 epochs, SGD lr 0.1, focal loss gamma 2 with alpha 0.25/0.75 by the
// train split's positive rate, ReduceLROnPlateau(factor 0.1, patience 1, min lr 1e-6). The report
// names no momentum or weight decay, so those are torch.optim.SGD's defaults (0 and 0).
export interface TrainOptions {
  data: string | null;         // CelebA root; null = the synthetic CelebA-format set
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
  alphaRule: string;           // 'report' | 'none' | a number
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
  /** --lr was given: on --resume it replaces the saved learning rate. */
  lrGiven: boolean;
}

export const DEFAULTS: TrainOptions = {
  data: null, syntheticCount: 2400, arch: 'resnest50', pretrained: null, imageSize: 320, batch: 32, epochs: 30,
  lr: 0.1, momentum: 0, weightDecay: 0, gamma: 2, alphaRule: 'report', loss: 'focal', seed: 0, workers: null,
  out: 'runs/celeba', resume: false, limitTrain: null, limitVal: null, skipBadImages: false, minLr: 1e-6, patience: 1, factor: 0.1, lrGiven: false, autotune: false, augment: 'report',
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

const FLAGS: Record<string, { key: keyof TrainOptions; kind: 'string' | 'number' | 'bool' | 'numberOrNull'; help: string }> = {
  '--data': { key: 'data', kind: 'string', help: 'CelebA root (img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt); default: the synthetic set' },
  '--synthetic-count': { key: 'syntheticCount', kind: 'number', help: `images in the generated synthetic set (default ${DEFAULTS.syntheticCount})` },
  '--arch': { key: 'arch', kind: 'string', help: 'resnest50 | resnest101 | resnest26 | resnest14 | resnest-tiny (default resnest50)' },
  '--pretrained': { key: 'pretrained', kind: 'string', help: 'backbone weights (official keys: the .pth as downloaded, or .safetensors); the fc head is replaced' },
  '--image-size': { key: 'imageSize', kind: 'number', help: 'train crop / eval resize size (default 320)' },
  '--batch': { key: 'batch', kind: 'number', help: 'batch size (default 32)' },
  '--epochs': { key: 'epochs', kind: 'number', help: 'epochs (default 30)' },
  '--lr': { key: 'lr', kind: 'number', help: 'initial learning rate (default 0.1); with --resume, the learning rate from then on' },
  '--momentum': { key: 'momentum', kind: 'number', help: 'SGD momentum (default 0, as torch.optim.SGD: the report names none)' },
  '--weight-decay': { key: 'weightDecay', kind: 'number', help: 'SGD weight decay, not applied to BN and biases (default 0)' },
  '--gamma': { key: 'gamma', kind: 'number', help: 'focal loss gamma (default 2)' },
  '--alpha-rule': { key: 'alphaRule', kind: 'string', help: "'report' (0.25 if the train positive rate > 25%, else 0.75), 'none', or a number" },
  '--loss': { key: 'loss', kind: 'string', help: 'focal | bce (default focal)' },
  '--seed': { key: 'seed', kind: 'number', help: 'seed of initialisation, shuffling and augmentation (default 0)' },
  '--workers': { key: 'workers', kind: 'numberOrNull', help: 'data loader threads (default: cores)' },
  '--out': { key: 'out', kind: 'string', help: 'run directory (default runs/celeba)' },
  '--resume': { key: 'resume', kind: 'bool', help: 'continue from the last complete checkpoint in --out' },
  '--limit-train': { key: 'limitTrain', kind: 'numberOrNull', help: 'use only the first N training images' },
  '--limit-val': { key: 'limitVal', kind: 'numberOrNull', help: 'use only the first N validation/test images' },
  '--skip-bad-images': { key: 'skipBadImages', kind: 'bool', help: 'skip and count unreadable images instead of failing' },
  '--augment': { key: 'augment', kind: 'string', help: "'report' (the recipe's crop, flip and jitter) or 'light' (crop 0.7-1, flip, jitter 0.2, hue 0.05)" },
  '--autotune': { key: 'autotune', kind: 'bool', help: 'after the first step, time every kernel version on this adapter and keep the fastest (cached)' },
  '--min-lr': { key: 'minLr', kind: 'number', help: 'ReduceLROnPlateau min lr (default 1e-6)' },
  '--patience': { key: 'patience', kind: 'number', help: 'ReduceLROnPlateau patience (default 1)' },
  '--factor': { key: 'factor', kind: 'number', help: 'ReduceLROnPlateau factor (default 0.1)' },
};

export function parseTrainArgs(argv: string[], base: Partial<TrainOptions> = {}): TrainOptions {
  const opts: TrainOptions = { ...DEFAULTS, ...base };
  const rec = opts as unknown as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const spec = FLAGS[name];
    if (!spec) throw new Error(`unknown option ${argv[i]} (see --help)`);
    if (spec.kind === 'bool') { rec[spec.key] = inline === undefined ? true : inline !== 'false'; continue; }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (spec.key === 'lr') opts.lrGiven = true;
    if (spec.kind === 'string') rec[spec.key] = value;
    else {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`${name}: '${value}' is not a number`);
      rec[spec.key] = n;
    }
  }
  if (opts.augment !== 'report' && opts.augment !== 'light') throw new Error(`--augment must be report or light, got ${opts.augment}`);
  if (opts.loss !== 'focal' && opts.loss !== 'bce') throw new Error(`--loss must be focal or bce, got ${opts.loss}`);
  for (const k of ['batch', 'epochs', 'imageSize'] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} must be a positive integer`);
  }
  if (opts.imageSize < 32) throw new Error(`--image-size must be at least 32 (ResNeSt's five stride-2 stages), got ${opts.imageSize}`);
  return opts;
}

export function flagHelp(): string {
  return Object.entries(FLAGS).map(([f, s]) => `  ${(f + (s.kind === 'bool' ? '' : ' X')).padEnd(22)} ${s.help}`).join('\n');
}
