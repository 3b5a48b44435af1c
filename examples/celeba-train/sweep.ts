// sweep: the report's grid, alpha in [0.1, 0.25, 0.5, 1.0] and the report's own 0.25/0.75 rule x
// gamma in [5, 2, 1, 0.5], N epochs each, with everything else as given; prints and writes a table
// of validation accuracy (sweep.md) and the grid as data (sweep.json, for --sweep-result).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainOptions } from './options.ts';
import { train } from './train.ts';

import { SWEEP_ALPHAS, SWEEP_GAMMAS, sweepMarkdown, writeSweepGrid, type AlphaEntry } from './sweep_grid.ts';

export async function sweep(base: TrainOptions, epochs: number, alphas: AlphaEntry[] = SWEEP_ALPHAS, gammas = SWEEP_GAMMAS): Promise<number[][]> {
  mkdirSync(base.out, { recursive: true });
  const table: number[][] = [];
  for (const alpha of alphas) {
    const row: number[] = [];
    for (const gamma of gammas) {
      const out = join(base.out, `alpha${alpha}-gamma${gamma}`);
      const run = await train({ ...base, alphaRule: String(alpha), gamma, epochs, out, resume: true });
      row.push(Math.max(...run.history.map((h) => h.valAcc)));
    }
    table.push(row);
  }
  const result = { epochs, arch: base.arch, imageSize: base.imageSize, alphas, gammas, table };
  writeSweepGrid(base.out, result);
  console.log(sweepMarkdown(result));
  return table;
}
