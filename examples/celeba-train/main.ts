// celeba-train: check | train | eval | predict | sweep | demo. See --help and COMMAND --help (help.ts).
import { DEMO, parseTrainArgs, parseTrainFlags, readNumber } from './options.ts';
import { COMMAND_HELP, version } from './help.ts';
import { followParent, launchFiltered, runsInProcess } from './launch.ts';
import { train, evaluateCheckpoint } from './train.ts';
import { predict } from './predict.ts';
import { sweep } from './sweep.ts';
import { NonFiniteLossError } from './steps.ts';
import { datasetRoot, loadDataset } from './setup.ts';
import { checkDirectory } from './validate.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { releaseDevice } from '../../src/node.ts';
import { ImageReadError } from '../../src/vision/index.ts';
import { CelebAFormatError } from './celeba/index.ts';
import { check, parseCheckArgs } from './check.ts';
import { parseAlphaList } from './sweep_grid.ts';
import { fsReason } from './dataset.ts';

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

/** A file-system error (ENOENT & co.) in words with its path; any other error's own message. */
function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code && err.syscall ? `${err.path ?? err.syscall}: ${fsReason(err)}` : err.message;
}

/**
 * Runs one command; resolves to its exit status. The GPU device is released at the end unless
 * `keepDevice` (tests that run many commands in one process keep its compiled pipelines).
 */
export async function main(argv: string[], { keepDevice = false } = {}): Promise<number> {
  const [command, ...rest] = argv;
  let dataArg: string | null = null; // named in the hint after an unreadable image
  if (!command || command === '--help' || command === '-h') { console.log(COMMAND_HELP.overview); return 0; }
  if (command === '--version' || command === '-V') { console.log(version()); return 0; }
  if (!COMMAND_HELP[command] || command === 'overview') { console.error(`unknown command '${command}'\n\n${COMMAND_HELP.overview}`); return 2; }
  if (rest.includes('--help') || rest.includes('-h')) { console.log(COMMAND_HELP[command]); return 0; }
  try {
    switch (command) {
      case 'check': {
        const opts = parseCheckArgs(rest);
        dataArg = opts.data;
        return (await check(opts)).problems.length > 0 ? 1 : 0;
      }
      case 'train': {
        const { opts, given } = parseTrainFlags(rest);
        dataArg = opts.data;
        const r = await train(opts, given);
        return r.interrupted ? 130 : 0;
      }
      case 'demo': { const { opts, given } = parseTrainFlags(rest, DEMO); const r = await train(opts, given); return r.interrupted ? 130 : 0; }
      case 'eval': {
        const checkpoint = takeValue(rest, '--checkpoint');
        if (!checkpoint) throw new Error('eval needs --checkpoint FILE');
        const split = takeValue(rest, '--split') ?? 'both';
        if (!(SPLIT_NAMES as readonly string[]).includes(split)) throw new Error(`--split: '${split}' is not one of ${SPLIT_NAMES.join(', ')}`);
        const ckpt = await loadCheckpoint(checkpoint); // names a missing file
        const opts = parseTrainArgs(rest, { ...ckpt.state.options, resume: false });
        if (opts.data !== null) checkDirectory('--data', opts.data);
        dataArg = opts.data;
        const ds = loadDataset(await datasetRoot(opts, (s) => console.error(s)), opts);
        const spec = { kind: opts.loss, alpha: ckpt.state.alpha, gamma: opts.gamma };
        const splits = split === 'both' ? ['val', 'test'] as const : [split as 'val' | 'test'];
        const res = await evaluateCheckpoint(ckpt, ds, opts, spec, [...splits], checkpoint, (names) =>
          console.error(`eval: ${names.join(', ')}: no labels in the dataset for ${names.length > 1 ? 'these outputs' : 'this output'} (fine-tuned), left out`));
        const empty = splits.filter((name) => !res[name]);
        if (empty.length) throw new Error(`eval: no ${empty.join(' or ')} images in ${opts.data ?? 'the synthetic set'} (after --limit-val)`);
        for (const [name, r] of Object.entries(res)) {
          for (const k of r.skipped) console.error(`--skip-bad-images: skipped (${name}) ${k.reason}`);
          console.log(`\n${name}: mean accuracy ${(100 * r.meanAccuracy).toFixed(2)}% over ${r.images} images, loss ${r.loss.toFixed(4)}`);
          ds.attributes.forEach((a, j) => console.log(`  ${a.padEnd(22)} ${(100 * r.accuracy[j]).toFixed(2)}%`));
        }
        return 0;
      }
      case 'predict': {
        const checkpoint = takeValue(rest, '--checkpoint');
        if (!checkpoint) throw new Error('predict needs --checkpoint FILE');
        const json = takeFlag(rest, '--json'), celebaCrop = takeFlag(rest, '--celeba-crop');
        const flag = rest.find((a) => a.startsWith('--'));
        if (flag) throw new Error(`predict: unknown option ${flag} (see celeba-train predict --help)`);
        await predict(checkpoint, rest, { json, celebaCrop });
        return 0;
      }
      case 'sweep': {
        const epochs = readNumber('--sweep-epochs', takeValue(rest, '--sweep-epochs') ?? '20', { kind: 'int', min: 1 });
        const alphaList = takeValue(rest, '--sweep-alphas'), gammaList = takeValue(rest, '--sweep-gammas');
        const alphas = alphaList === null ? undefined : parseAlphaList(alphaList);
        const gammas = gammaList === null ? undefined : readList('--sweep-gammas', gammaList, 0, Infinity);
        const { opts, given } = parseTrainFlags(rest, { out: 'runs/sweep' });
        const r = await sweep(opts, given, epochs, alphas, gammas);
        return r.interrupted ? 130 : 0;
      }
      default:
        return 2; // unreachable: unknown commands were answered above
    }
  } catch (e) {
    if (e instanceof NonFiniteLossError) { console.error(`error: ${e.message}`); return 3; }
    console.error(`error: ${describeError(e)}`);
    if (e instanceof ImageReadError || e instanceof CelebAFormatError) {
      console.error(`'celeba-train check${dataArg ? ` --data ${dataArg}` : ''}' lists every problem of the data; ` +
        '--skip-bad-images trains without the bad images and label lines (the log and the report name each)');
    }
    if (process.env.WG_DEBUG) console.error((e as Error).stack);
    return 1;
  } finally {
    if (!keepDevice) await releaseDevice().catch(() => undefined);
  }
}

/** The command line's entry (bin.mjs, or this file run directly). */
export async function cli(argv: string[]): Promise<never> {
  if (runsInProcess()) {
    followParent();
    process.exitCode = await main(argv);
  } else {
    process.exitCode = await launchFiltered(argv);
  }
  process.exit(); // loader worker threads and the GPU device must not keep the process alive
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('celeba-train/main.ts')) await cli(process.argv.slice(2));
