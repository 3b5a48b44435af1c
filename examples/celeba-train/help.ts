// --help of each command: every flag with its placeholder (N, FILE, DIR, ...) and default.
import { readFileSync } from 'node:fs';
import { DEFAULTS, DEMO, flagHelp } from './options.ts';

const EXIT = `exit status:
  0    done
  1    error: bad arguments, paths or data (named in a one-line message; nothing was started)
  2    unknown command
  3    non-finite loss (the step is named; the last good checkpoint is kept)
  130  interrupted by Ctrl-C (SIGINT): the current step finished and was saved; --resume continues`;

const TRAIN_OUTPUTS = `writes to --out: metrics.jsonl, last.safetensors, selected.safetensors (the report's rule: least
|train acc - val acc|), best-val.safetensors, the --keep-checkpoints most recent epoch-NN.safetensors,
report.md and curves.png. Without --data the synthetic CelebA-format set (${DEFAULTS.syntheticCount} images)
is generated on first use and cached. Ctrl-C saves a checkpoint after the current step; --resume
continues from it bit-for-bit with the run's saved settings (only --lr, --epochs, --workers,
--autotune and --keep-checkpoints may change).`;

const demoDefaults = Object.entries(DEMO).map(([k, v]) => `${k} ${v}`).join(', ');

export const COMMAND_HELP: Record<string, string> = {
  overview: `celeba-train: ResNeSt on CelebA's 40 face attributes, the report's recipe by default.

usage:
  celeba-train check [--data DIR] [...]     decode every image once and list every problem of the data
  celeba-train train [options]              train a model (see celeba-train train --help)
  celeba-train eval --checkpoint FILE [...] accuracy per attribute on val and/or test
  celeba-train predict --checkpoint FILE [--json] [--celeba-crop] IMAGE|DIR...
  celeba-train sweep [...]                  the report's alpha x gamma grid
  celeba-train demo [options]               a small ResNeSt on the synthetic set (npm run demo)
  celeba-train COMMAND --help               the flags of one command, with defaults
  celeba-train --version

${EXIT}`,
  train: `usage: celeba-train train [options]

${TRAIN_OUTPUTS}

options (defaults = the report's recipe):
${flagHelp()}

${EXIT}`,
  demo: `usage: celeba-train demo [options]

The train command with a small ResNeSt on the synthetic set, under 10 minutes on a 2-core CPU
adapter: ${demoDefaults}. Any train option overrides these.

options: as celeba-train train --help

${EXIT}`,
  check: `usage: celeba-train check [--data DIR] [--image-dir DIR] [--workers N] [--synthetic-count N]

Reads the label files, checks the 40 attribute names, decodes every image once and prints every
problem as 'file: reason [split]', then listed / readable / unreadable images per split.

  --data DIR               CelebA folder: official, torchvision's (DIR/celeba/) or Kaggle's layout (default: the synthetic set)
  --image-dir DIR          image folder, relative to --data or absolute (default: the layout's own)
  --workers N              decoding threads (default: one per core)
  --synthetic-count N      without --data: the synthetic set's size (default ${DEFAULTS.syntheticCount})

exit status:
  0    the data is clean
  1    a problem was found (each is listed), or bad arguments`,
  eval: `usage: celeba-train eval --checkpoint FILE [--split NAME] [train options]

Loads a trainer checkpoint and prints the mean and per-attribute accuracy and the loss.
A fine-tuned checkpoint's new outputs have no labels in the dataset: they are named and left out.

  --checkpoint FILE        a celeba-train checkpoint (required)
  --split NAME             val | test | both (default both)
  --data DIR               the CelebA root (default: the checkpoint's)
  --batch N, --workers N, --limit-val N, --skip-bad-images, ...
                           any train option (default: the checkpoint's setting)

${EXIT}`,
  predict: `usage: celeba-train predict --checkpoint FILE [--json] [--celeba-crop] IMAGE|DIR...

The 40 attributes with probabilities for each image (JPEG or PNG; a DIR means its images).

  --checkpoint FILE        a celeba-train checkpoint (required)
  --json                   print JSON instead of a table (default: off)
  --celeba-crop            CelebA-aligned 178x218 images: CenterCrop(178) then Resize, as val/test
                           (default: off, i.e. Resize to the training size)

${EXIT}`,
  sweep: `usage: celeba-train sweep [--sweep-epochs N] [--sweep-alphas LIST] [--sweep-gammas LIST] [train options]

Trains one run per (alpha, gamma) into --out/alphaA-gammaG/ and writes --out/sweep.md, the best
validation accuracy of each. Ctrl-C stops the sweep after saving the current run (status 130);
the same command with --resume continues the grid where it stopped. Also writes sweep.json, which
a later run's --sweep-result DIR reads to set its rule beside the grid's best cell.

  --sweep-epochs N         epochs per run (default 20)
  --sweep-alphas LIST      comma-separated alphas in (0, 1], or the rules 'report' and 'within' (default 0.1,0.25,0.5,1,report)
  --sweep-gammas LIST      comma-separated gammas >= 0 (default 5,2,1,0.5)
  --out DIR                (default runs/sweep)
  --resume                 continue the sweep in --out (default: off; without it an existing sweep is refused)
  train options            as celeba-train train --help, the same for every run

${EXIT}`,
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `celeba-train ${pkg.version} (${pkg.name})`;
}
