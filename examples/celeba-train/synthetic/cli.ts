// make-synthetic-celeba: write a synthetic CelebA-format dataset.
import { parseArgs } from 'node:util';
import { makeSyntheticCelebA } from './fs.ts';

const USAGE = `usage: make-synthetic-celeba <dir> [--count N] [--seed S] [--quality Q] [--workers W]

Writes <dir>/img_align_celeba/000001.jpg..., list_attr_celeba.txt and list_eval_partition.txt in
CelebA's aligned-release layout. Does nothing if <dir> already holds the same (count, seed) set.
Defaults: --count 2000 --seed 0 --quality 90, one worker per core.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        count: { type: 'string', default: '2000' },
        seed: { type: 'string', default: '0' },
        quality: { type: 'string', default: '90' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  const ints = { count: Number(values.count), seed: Number(values.seed), quality: Number(values.quality) };
  for (const [name, v] of Object.entries(ints)) {
    if (!Number.isSafeInteger(v) || v < 0) {
      console.error(`--${name} must be a non-negative integer\n${USAGE}`);
      return 2;
    }
  }
  let result;
  try {
    result = await makeSyntheticCelebA({
      dir: positionals[0], ...ints, workers: values.workers === undefined ? undefined : Number(values.workers),
      onProgress: (done, total) => process.stderr.write(`\r${done}/${total} images`),
    });
  } catch (err) {
    console.error(`make-synthetic-celeba: ${(err as Error).message}`);
    return 1;
  }
  if (result.generated) process.stderr.write('\n');
  console.log(result.generated
    ? `wrote ${result.count} images (seed ${result.seed}) to ${result.dir} in ${(result.ms / 1000).toFixed(1)} s`
    : `${result.dir} already holds ${result.count} images for seed ${result.seed}; nothing to do`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
