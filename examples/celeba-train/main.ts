// celeba-train: train | eval | predict | sweep | demo. See --help.
import { DEFAULTS, DEMO, flagHelp, parseTrainArgs, parseTrainFlags, readNumber, type TrainOptions } from './options.ts';
import { train, evaluateCheckpoint } from './train.ts';
import { predict } from './predict.ts';
import { sweep } from './sweep.ts';
import { NonFiniteLossError } from './steps.ts';
import { datasetRoot, loadDataset } from './setup.ts';
import { checkDirectory, checkFile } from './validate.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { releaseDevice } from '../../src/node.ts';

const HELP = `celeba-train: ResNeSt on CelebA's 40 face attributes, the report's recipe by default.

usage:
  celeba-train train [options]            train; writes metrics.jsonl, epoch-NN.safetensors, last.safetensors,
                                          selected.safetensors, best-val.safetensors, report.md and curves.png to --out
  celeba-train eval --checkpoint FILE [--data DIR] [--split val|test|both]
  celeba-train predict --checkpoint FILE [--json] [--celeba-crop] IMAGE|FOLDER...
  celeba-train sweep [--sweep-epochs N] [--sweep-alphas A,..] [--sweep-gammas G,..] [train options]
                                          default grid alpha [0.1,0.25,0.5,1] x gamma [5,2,1,0.5], 20 epochs each
  celeba-train demo                       a small ResNeSt on the synthetic set (what npm run demo runs)

train options (defaults = the report's recipe):
${flagHelp()}

Without --data the synthetic CelebA-format set is generated on first use (${DEFAULTS.syntheticCount} images) and cached.
SIGINT saves a checkpoint after the current step; --resume continues from it bit-for-bit.

exit status: 0 done, 1 error (bad arguments or data: nothing is started), 2 unknown command,
3 non-finite loss (the last good checkpoint is kept), 130 interrupted (checkpoint saved; --resume).`;

const SPLIT_NAMES = ['val', 'test', 'both'] as const;

/** A comma-separated list of numbers in [min, max]; names the flag and the entry at fault. */
export function readList(flag: string, value: string, min: number, max: number): number[] {
  const items = value.split(',');
  return items.map((item, i) => {
    const n = item.trim() === '' ? NaN : Number(item);
    if (!(n >= min && n <= max)) throw new Error(`${flag}: entry ${i + 1} '${item}' is not a number in [${min}, ${max}]`);
    return n;
  });
}

function takeFlag(argv: string[], name: string): boolean {
  const i = argv.indexOf(name);
  if (i < 0) return false;
  argv.splice(i, 1);
  return true;
}

function takeValue(argv: string[], name: string): string | null {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return null;
  const [, inline] = argv[i].split('=', 2);
  const value = inline ?? argv[i + 1];
  argv.splice(i, inline === undefined ? 2 : 1);
  if (value === undefined) throw new Error(`${name} needs a value`);
  return value;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || rest.includes('--help')) { console.log(HELP); return 0; }
  try {
    switch (command) {
      case 'train': { const { opts, given } = parseTrainFlags(rest); const r = await train(opts, given); return r.interrupted ? 130 : 0; }
      case 'demo': { const { opts, given } = parseTrainFlags(rest, DEMO); const r = await train(opts, given); return r.interrupted ? 130 : 0; }
      case 'eval': {
        const checkpoint = takeValue(rest, '--checkpoint');
        if (!checkpoint) throw new Error('eval needs --checkpoint FILE');
        const split = takeValue(rest, '--split') ?? 'both';
        if (!(SPLIT_NAMES as readonly string[]).includes(split)) throw new Error(`--split: '${split}' is not one of ${SPLIT_NAMES.join(', ')}`);
        checkFile('--checkpoint', checkpoint);
        const ckpt = await loadCheckpoint(checkpoint);
        const opts = parseTrainArgs(rest, { ...ckpt.state.options, resume: false });
        if (opts.data !== null) checkDirectory('--data', opts.data);
        const ds = loadDataset(await datasetRoot(opts, (s) => console.error(s)), opts);
        const spec = { kind: opts.loss, alpha: ckpt.state.alpha, gamma: opts.gamma };
        const splits = split === 'both' ? ['val', 'test'] as const : [split as 'val' | 'test'];
        const res = await evaluateCheckpoint(ckpt, ds, opts, spec, [...splits], checkpoint);
        const empty = splits.filter((name) => !res[name]);
        if (empty.length) throw new Error(`eval: no ${empty.join(' or ')} images in ${opts.data ?? 'the synthetic set'} (after --limit-val)`);
        for (const [name, r] of Object.entries(res)) {
          console.log(`\n${name}: mean accuracy ${(100 * r.meanAccuracy).toFixed(2)}% over ${r.images} images, loss ${r.loss.toFixed(4)}`);
          ds.attributes.forEach((a, j) => console.log(`  ${a.padEnd(22)} ${(100 * r.accuracy[j]).toFixed(2)}%`));
        }
        return 0;
      }
      case 'predict': {
        const checkpoint = takeValue(rest, '--checkpoint');
        if (!checkpoint) throw new Error('predict needs --checkpoint FILE');
        const json = takeFlag(rest, '--json'), celebaCrop = takeFlag(rest, '--celeba-crop');
        checkFile('--checkpoint', checkpoint);
        const flag = rest.find((a) => a.startsWith('--'));
        if (flag) throw new Error(`predict: unknown option ${flag} (see celeba-train predict --help)`);
        await predict(checkpoint, rest, { json, celebaCrop });
        return 0;
      }
      case 'sweep': {
        const epochs = readNumber('--sweep-epochs', takeValue(rest, '--sweep-epochs') ?? '20', { kind: 'int', min: 1 });
        const alphaList = takeValue(rest, '--sweep-alphas'), gammaList = takeValue(rest, '--sweep-gammas');
        const alphas = alphaList === null ? undefined : readList('--sweep-alphas', alphaList, 0, 1);
        const gammas = gammaList === null ? undefined : readList('--sweep-gammas', gammaList, 0, Infinity);
        const { opts, given } = parseTrainFlags(rest, { out: 'runs/sweep' });
        const r = await sweep(opts, given, epochs, alphas, gammas);
        return r.interrupted ? 130 : 0;
      }
      default:
        console.error(`unknown command '${command}'\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof NonFiniteLossError) { console.error(`error: ${e.message}`); return 3; }
    console.error(`error: ${(e as Error).message}`);
    if (process.env.WG_DEBUG) console.error((e as Error).stack);
    return 1;
  } finally {
    await releaseDevice().catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('celeba-train/main.ts')) {
  process.exitCode = await main(process.argv.slice(2));
  process.exit(); // loader worker threads and the GPU device must not keep the process alive
}
