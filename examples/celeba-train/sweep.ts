// sweep: the report's grid, alpha in [0.1, 0.25, 0.5, 1.0] and the report's own 0.25/0.75 rule x
// gamma in [5, 2, 1, 0.5], N epochs each, with everything else as given; prints and writes a table
// of validation accuracy (sweep.md) and the grid as data (sweep.json, for --sweep-result).
// Ctrl-C stops the sweep after saving the current cell; --resume continues the grid there.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainOptions } from './options.ts';
import { checkWritable, train } from './train.ts';
import { checkRunInputs } from './validate.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { SWEEP_ALPHAS, SWEEP_GAMMAS, sweepMarkdown, writeSweepGrid, type AlphaEntry } from './sweep_grid.ts';

export interface SweepResult { table: number[][]; interrupted: boolean }

const cellDir = (out: string, alpha: AlphaEntry, gamma: number) => join(out, `alpha${alpha}-gamma${gamma}`);

export async function sweep(base: TrainOptions, given: ReadonlySet<keyof TrainOptions>, epochs: number,
  alphas: AlphaEntry[] = SWEEP_ALPHAS, gammas = SWEEP_GAMMAS): Promise<SweepResult> {
  const cells = alphas.flatMap((alpha) => gammas.map((gamma) => ({ alpha, gamma, out: cellDir(base.out, alpha, gamma) })));
  const started = cells.filter((c) => existsSync(join(c.out, 'last.safetensors')));
  if (!base.resume && started.length) {
    throw new Error(`${base.out} already holds a sweep (${started.map((c) => c.out).join(', ')}); add --resume to continue it, or choose another --out`);
  }
  checkRunInputs(base);
  checkWritable(base.out);
  const cellGiven = new Set<keyof TrainOptions>([...given, 'alphaRule', 'gamma', 'epochs']);
  const best = new Map<string, number>();
  for (const cell of cells) {
    const last = join(cell.out, 'last.safetensors');
    const saved = existsSync(last) ? (await loadCheckpoint(last)).state : null;
    if (saved && saved.completedEpochs >= epochs && saved.partial === null && saved.history.length) {
      best.set(cell.out, Math.max(...saved.history.slice(0, epochs).map((h) => h.valAcc)));
      process.stderr.write(`sweep: alpha ${cell.alpha}, gamma ${cell.gamma} already trained (${cell.out})\n`);
      continue;
    }
    const run = await train({ ...base, alphaRule: String(cell.alpha), gamma: cell.gamma, epochs, out: cell.out, resume: true }, cellGiven);
    if (run.interrupted) {
      process.stderr.write(`sweep interrupted at alpha ${cell.alpha}, gamma ${cell.gamma}; continue the grid with the same command and --resume\n`);
      return { table: [], interrupted: true };
    }
    best.set(cell.out, Math.max(...run.history.map((h) => h.valAcc)));
  }
  const table = alphas.map((alpha) => gammas.map((gamma) => best.get(cellDir(base.out, alpha, gamma))!));
  const result = { epochs, arch: base.arch, imageSize: base.imageSize, alphas, gammas, table };
  writeSweepGrid(base.out, result);
  console.log(sweepMarkdown(result));
  return { table, interrupted: false };
}
