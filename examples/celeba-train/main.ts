// celeba-train: check | train | eval | predict | sweep | demo. See --help.
import { DEFAULTS, DEMO, flagHelp, parseTrainArgs } from './options.ts';
import { train, evaluateCheckpoint } from './train.ts';
import { predict } from './predict.ts';
import { sweep } from './sweep.ts';
import { NonFiniteLossError } from './steps.ts';
import { datasetRoot, loadDataset } from './setup.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { releaseDevice } from '../../src/gpu/index.ts';
import { CelebAFormatError, ImageReadError } from '../../src/data/node.ts';
import { check, parseCheckArgs } from './check.ts';
import { parseAlphaList } from './sweep_grid.ts';
import { fsReason } from './dataset.ts';

const HELP = `celeba-train: ResNeSt on CelebA's 40 face attributes, the report's recipe by default.

usage:
  celeba-train check [--data DIR] [--image-dir DIR] [--workers N]
                                          decode every image once and list every problem (file, reason) per split;
                                          exit status 1 when there is any
  celeba-train train [options]            train; writes metrics.jsonl, epoch-NN.safetensors, last.safetensors,
                                          selected.safetensors, best-val.safetensors, report.md and curves.png to --out
  celeba-train eval --checkpoint FILE [--data DIR] [--split val|test|both]
  celeba-train predict --checkpoint FILE [--json] [--celeba-crop] IMAGE|FOLDER...
  celeba-train sweep [--sweep-epochs N] [--sweep-alphas A,..] [--sweep-gammas G,..] [train options]
                                          default grid alpha [0.1,0.25,0.5,1,report] x gamma [5,2,1,0.5], 20 epochs each
                                          ('report' and 'within' rows: the per-attribute rules of --alpha-rule)
  celeba-train demo                       a small ResNeSt on the synthetic set (what npm run demo runs)

train options (defaults = the report's recipe):
${flagHelp()}

Without --data the synthetic CelebA-format set is generated on first use (${DEFAULTS.syntheticCount} images) and cached.
SIGINT saves a checkpoint after the current step; --resume continues from it bit-for-bit.`;

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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let dataArg: string | null = null; // named in the hint after an unreadable image
  if (!command || command === '--help' || command === '-h' || rest.includes('--help')) { console.log(HELP); return 0; }
  try {
    switch (command) {
      case 'check': {
        const opts = parseCheckArgs(rest);
        dataArg = opts.data;
        return (await check(opts)).problems.length > 0 ? 1 : 0;
      }
      case 'train': {
        const opts = parseTrainArgs(rest);
        dataArg = opts.data;
        const r = await train(opts);
        return r.interrupted ? 130 : 0;
      }
      case 'demo': { const r = await train(parseTrainArgs(rest, DEMO)); return r.interrupted ? 130 : 0; }
      case 'eval': {
        const checkpoint = takeValue(rest, '--checkpoint');
        if (!checkpoint) throw new Error('eval needs --checkpoint FILE');
        const split = takeValue(rest, '--split') ?? 'both';
        const ckpt = await loadCheckpoint(checkpoint);
        const opts = parseTrainArgs(rest, { ...ckpt.state.options, resume: false });
        dataArg = opts.data;
        const ds = loadDataset(await datasetRoot(opts, (s) => console.error(s)), opts);
        const spec = { kind: opts.loss, alpha: ckpt.state.alpha, gamma: opts.gamma };
        const splits = split === 'both' ? ['val', 'test'] as const : [split as 'val' | 'test'];
        const res = await evaluateCheckpoint(ckpt, ds, opts, spec, [...splits], checkpoint);
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
        await predict(checkpoint, rest, { json, celebaCrop });
        return 0;
      }
      case 'sweep': {
        const epochs = Number(takeValue(rest, '--sweep-epochs') ?? 20);
        const list = (v: string | null) => (v === null ? undefined : v.split(',').map(Number));
        const alphaText = takeValue(rest, '--sweep-alphas');
        const alphas = alphaText === null ? undefined : parseAlphaList(alphaText), gammas = list(takeValue(rest, '--sweep-gammas'));
        await sweep(parseTrainArgs(rest, { out: 'runs/sweep' }), epochs, alphas, gammas);
        return 0;
      }
      default:
        console.error(`unknown command '${command}'\n\n${HELP}`);
        return 2;
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
    await releaseDevice().catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('celeba-train/main.ts')) {
  process.exitCode = await main(process.argv.slice(2));
  process.exit(); // loader worker threads and the GPU device must not keep the process alive
}
