// Every celeba-train command shown in README.md and examples/celeba-train/README.md, run in the
// form shown: the same command and flags, with the paths pointing at temporary files and the
// sizes shrunk (a tiny model at 32 px on 80 synthetic images, 1 epoch, a 1-cell sweep). A train
// command followed by a resume of the same run is stopped with Ctrl-C after its first step, as
// the README's walk-through does. A shown command this test cannot map fails it. Commands that
// answer without working (--help) start `npx celeba-train` (bin.mjs) as a child; the others go
// through the same main() in this process, in the README's folder, so the tiny model's GPU
// pipelines are compiled once (signals and exit statuses of children: celeba_train*.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveSafetensors, type TensorToWrite } from '../../src/node.ts';
import { ARCHS } from '../../examples/celeba-train/setup.ts';
import { makeSyntheticCelebA } from '../../examples/celeba-train/celeba/index.ts';
import { setupGpu } from '../helpers.ts';
import { cacheHome, inProcess, run as runChild, sharedRoot, type Run } from './trainer.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'examples/celeba-train/bin.mjs'); // what `npx celeba-train` runs
const root = join(sharedRoot(), 'docs');
const DATA = join(root, 'celeba'), WEIGHTS = join(root, 'resnest50.safetensors');
const IMAGE = join(DATA, 'img_align_celeba', '000001.jpg');
const SMALL = ['--arch', 'resnest-tiny', '--image-size', '32', '--batch', '8', '--limit-train', '24', '--limit-val', '8', '--workers', '1'];

/** The celeba-train command lines of a README's sh blocks, comments dropped. */
export function shownCommands(markdown: string): string[][] {
  const out: string[][] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      const m = /^(?:npx )?celeba-train(?:\s+(.*))?$/.exec(line);
      if (m) out.push((m[1] ?? '').split(/\s+/).filter(Boolean));
    }
  }
  return out;
}

// the official .pth stands for a tiny model's weights here (saved as safetensors: no .pth writer
// in TypeScript; --pretrained tells the formats apart by content, and test/io reads real .pth files)
const PATHS: Record<string, string> = {
  '/path/to/celeba': DATA, '/data/celeba': DATA, 'resnest50.safetensors': WEIGHTS, 'resnest50-528c19ca.pth': WEIGHTS, 'img.jpg': IMAGE, 'face.jpg': IMAGE,
};

/** The command as run here: paths mapped, sizes shrunk; null for a form this test cannot run. */
function asTested(shown: string[]): string[] | null {
  const args = shown.map((a) => PATHS[a] ?? a);
  const [command] = args;
  if (args.includes('--help') || command === '--version') return args;
  if (command === 'train' && args.includes('--resume')) return args; // the run's own settings
  if (command === 'train') return [...args, ...SMALL, '--epochs', '1'];
  if (command === 'demo') return [...args, ...SMALL, '--synthetic-count', '80', '--epochs', '1'];
  if (command === 'eval') return [...args, '--limit-val', '8', '--workers', '1'];
  if (command === 'predict' || command === 'check') return args;
  if (command === 'sweep') {
    const i = args.indexOf('--sweep-epochs');
    const shrunk = i >= 0 ? args.map((a, j) => (j === i + 1 ? '1' : a)) : [...args, '--sweep-epochs', '1'];
    return [...shrunk, ...SMALL, '--sweep-alphas', '0.25', '--sweep-gammas', '2'];
  }
  return null;
}

function run(args: string[], cwd: string, interruptAfterFirstStep: boolean): Promise<Run> {
  if (args.includes('--help') || args[0] === '--version') return runChild(args, { entry: bin, cwd, env: { XDG_CACHE_HOME: cacheHome() } });
  return inProcess(args, { cwd, cacheHome: cacheHome(), interruptWhen: interruptAfterFirstStep ? /epoch 1\/\d+ train 1\// : undefined });
}

const s = suite('examples: the READMEs\' celeba-train commands');

s.before(async () => {
  await makeSyntheticCelebA({ dir: DATA, count: 80, seed: 7 });
  await setupGpu();
  const model = ARCHS['resnest-tiny'](1000, 1); // an ImageNet-style checkpoint: official keys, 1000-way fc
  const state = await model.stateArrays();
  model.dispose();
  await saveSafetensors(WEIGHTS, new Map([...state].map(([k, v]) => [k, v as TensorToWrite])));
});

for (const readme of ['README.md', 'examples/celeba-train/README.md']) {
  s(`${readme}: every command runs as shown`, async () => {
    const commands = shownCommands(readFileSync(join(repo, readme), 'utf8'));
    assert.ok(commands.length >= 5, `${readme}: found ${commands.length} commands`);
    const cwd = join(root, readme.replace(/\W+/g, '-'));
    mkdirSync(cwd, { recursive: true });
    for (const [i, shown] of commands.entries()) {
      const args = asTested(shown);
      assert.ok(args, `${readme}: no test form for 'celeba-train ${shown.join(' ')}'`);
      const next = commands[i + 1];
      const interrupted = shown[0] === 'train' && !shown.includes('--resume') && !!next && next[0] === 'train' && next.includes('--resume');
      const r = await run(args!, cwd, interrupted);
      assert.is(r.code, interrupted ? 130 : 0, `celeba-train ${args!.join(' ')}\n${r.stderr}`);
      if (shown.includes('--pretrained')) assert.match(r.stderr, /loaded backbone weights from \S+resnest50\.safetensors/);
      if (shown[0] === 'eval') assert.match(r.stdout, /val: mean accuracy [\d.]+% over 8 images/);
      if (shown[0] === 'predict') assert.match(r.stdout, /000001\.jpg[\s\S]*Young/);
      if (shown.includes('--help')) assert.match(r.stdout, /usage[\s\S]*exit status/);
      if (shown[0] === '--version') assert.match(r.stdout, /^celeba-train \d+\.\d+\.\d+/);
    }
  });
}

s.run();
