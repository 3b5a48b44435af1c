// sweep: the report's grid, alpha in [0.1, 0.25, 0.5, 1.0] x gamma in [5, 2, 1, 0.5], N epochs
// each, with everything else as given; prints and writes a table of validation accuracy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainOptions } from './options.ts';
import { train } from './train.ts';

export const SWEEP_ALPHAS = [0.1, 0.25, 0.5, 1.0];
export const SWEEP_GAMMAS = [5, 2, 1, 0.5];

export async function sweep(base: TrainOptions, epochs: number, alphas = SWEEP_ALPHAS, gammas = SWEEP_GAMMAS): Promise<number[][]> {
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
  const lines = [`| alpha \\ gamma | ${gammas.join(' | ')} |`, `|---|${gammas.map(() => '---:').join('|')}|`,
    ...table.map((row, i) => `| ${alphas[i]} | ${row.map((v) => (100 * v).toFixed(2)).join(' | ')} |`)];
  const text = `Best validation accuracy (%) after ${epochs} epochs, ${base.arch} at ${base.imageSize}px:\n\n${lines.join('\n')}\n`;
  writeFileSync(join(base.out, 'sweep.md'), text);
  console.log(text);
  return table;
}
