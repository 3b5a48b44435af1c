// Checks of a run's inputs that need the filesystem or the architecture table; they run before
// any work starts, so a typo fails in a second with the flag at fault, not after an epoch.
import { existsSync, statSync } from 'node:fs';
import type { TrainOptions } from './options.ts';
import { ARCHS } from './setup.ts';

export function checkDirectory(flag: string, path: string): void {
  if (!existsSync(path)) throw new Error(`${flag} ${path}: no such directory`);
  if (!statSync(path).isDirectory()) throw new Error(`${flag} ${path}: not a directory`);
}

export function checkFile(flag: string, path: string): void {
  if (!existsSync(path)) throw new Error(`${flag} ${path}: no such file`);
  if (!statSync(path).isFile()) throw new Error(`${flag} ${path}: not a file`);
}

export function checkRunInputs(opts: Pick<TrainOptions, 'arch' | 'data' | 'pretrained'>): void {
  if (!ARCHS[opts.arch]) throw new Error(`--arch: unknown architecture '${opts.arch}' (choose from ${Object.keys(ARCHS).join(', ')})`);
  if (opts.data !== null) checkDirectory('--data', opts.data);
  if (opts.pretrained !== null && opts.pretrained !== 'none') checkFile('--pretrained', opts.pretrained); // 'none': random weights on purpose
}
