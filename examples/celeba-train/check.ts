// check: reads the label files leniently and decodes every image once (worker threads, progress
// bar), then lists every problem as `file: reason` with counts per split. Exit status 0 when
// the data is clean, 1 when anything would stop a run (or be skipped by --skip-bad-images).
import { basename } from 'node:path';
import { createLoader } from '../../src/vision/index.ts';
import { celebaEvalTransform, SPLITS, type Split } from './celeba/index.ts';
import { DEFAULTS, parseTrainArgs, type TrainOptions } from './options.ts';
import { datasetRoot } from './setup.ts';
import { readDataset } from './dataset.ts';
import { attributeNameProblems, notOfficialReason } from './attributes.ts';
import { Progress } from './progress.ts';

export const CHECK_FLAGS = ['--data', '--image-dir', '--workers', '--synthetic-count'];

export function parseCheckArgs(argv: string[]): TrainOptions {
  for (const a of argv) {
    if (a.startsWith('--') && !CHECK_FLAGS.includes(a.split('=')[0])) throw new Error(`check: unknown option ${a} (check takes ${CHECK_FLAGS.join(', ')})`);
  }
  return parseTrainArgs(argv);
}

export interface CheckResult {
  problems: string[];
  counts: Record<Split, { listed: number; readable: number }>;
  labelProblems: number;
}

/** The size images are decoded to: small, so that the pass costs little more than decoding. */
const CHECK_SIZE = 32;

export async function check(opts: Pick<TrainOptions, 'data' | 'imageDir' | 'workers' | 'syntheticCount'>,
  print: (s: string) => void = console.log, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<CheckResult> {
  const root = await datasetRoot({ ...DEFAULTS, ...opts }, log);
  const ds = readDataset(root, { imageDir: opts.imageDir, lenient: true, skipNameCheck: true });
  const { layout } = ds;
  print(`${root}: ${layout.kind} layout; labels ${layout.attrFile}, ${layout.partitionFile}; images in ${layout.imageDir}`);
  const fullPath = (f: string) => [layout.attrFile, layout.partitionFile].find((p) => basename(p) === f) ?? f;
  const problems = ds.problems.map((p) => `${fullPath(p.file)}:${p.line}: ${p.message}`);
  const nameLine = layout.format === 'csv' ? 1 : 2;
  problems.push(...attributeNameProblems(ds.attributes).map((p) => `${layout.attrFile}:${nameLine}: ${p}`));
  const labelProblems = problems.length;

  const counts = Object.fromEntries(SPLITS.map((s) => [s, { listed: 0, readable: 0 }])) as CheckResult['counts'];
  for (const s of ds.splits) if (s < SPLITS.length) counts[SPLITS[s]].listed++;
  const rowOf = new Map(ds.paths.map((p, i) => [p, i]));
  const bad: string[] = [];
  if (ds.files.length > 0) {
    const loader = createLoader({ dataset: ds, split: 'all', batchSize: 64, transform: celebaEvalTransform(CHECK_SIZE), workers: opts.workers ?? undefined, skipBadImages: true });
    const progress = new Progress(`decoding ${ds.files.length.toLocaleString('en-US')} images`, loader.batchesPerEpoch);
    let done = 0, images = 0;
    try {
      for await (const batch of loader.epoch()) {
        for (const row of batch.indices) counts[SPLITS[ds.splits[row]]].readable++;
        for (const s of batch.skipped) bad.push(`${s.reason}${splitNote(ds.splits[rowOf.get(s.path) ?? -1])}`);
        images += batch.size + batch.skipped.length;
        progress.update(++done, images);
      }
    } finally {
      await loader.close();
    }
  }
  problems.push(...bad);

  if (problems.length) print(`\n${problems.length} problem${problems.length > 1 ? 's' : ''} (file: reason):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  print('\n| split | listed | readable | unreadable |\n|---|---:|---:|---:|');
  for (const s of SPLITS) print(`| ${s} | ${counts[s].listed} | ${counts[s].readable} | ${counts[s].listed - counts[s].readable} |`);
  print(`label lines left out or in question: ${labelProblems}`);
  const reason = notOfficialReason(ds.attributes, { train: counts.train.listed, val: counts.val.listed, test: counts.test.listed });
  print(reason === null ? 'This is the official CelebA: a run\'s report compares its accuracies with the published ones.'
    : `Not the official CelebA (${reason}): a run's report will not compare with the published figures.`);
  print(problems.length === 0 ? '\nno problems: ready to train'
    : `\n${problems.length} problem${problems.length > 1 ? 's' : ''}: fix ${problems.length > 1 ? 'them' : 'it'}, or train with --skip-bad-images to leave the images and label lines out (the report lists them)`);
  return { problems, counts, labelProblems };
}

function splitNote(code: number | undefined): string {
  return code !== undefined && code < SPLITS.length ? ` [${SPLITS[code]}]` : '';
}
