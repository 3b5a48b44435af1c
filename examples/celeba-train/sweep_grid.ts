// The sweep's grid as data: rows are alpha rules (a constant, or 'report' / 'within', the report's
// per-attribute rules), columns gammas. sweep.json keeps it so that a later run's report.md can
// set its own rule beside the grid's best cell (--sweep-result DIR).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type AlphaEntry = number | 'report' | 'within';
export const SWEEP_ALPHAS: AlphaEntry[] = [0.1, 0.25, 0.5, 1.0, 'report'];
export const SWEEP_GAMMAS = [5, 2, 1, 0.5];

const RULE_WORDS: Record<string, string> = {
  report: 'the report\'s rule, 0.25 above a 25% positive rate, else 0.75',
  within: 'within-attribute, 0.25 when one class has over twice the other\'s samples, else 0.5',
};

/** `--sweep-alphas 0.1,0.25,report`: numbers in (0, 1] or a rule name; the whole list is checked before any cell trains. */
export function parseAlphaList(text: string): AlphaEntry[] {
  return text.split(',').map((raw) => {
    const v = raw.trim();
    if (v === 'report' || v === 'within') return v;
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new Error(`--sweep-alphas: '${v}' is not a number in (0, 1], 'report' or 'within'`);
    return n;
  });
}

export interface SweepGrid {
  epochs: number; arch: string; imageSize: number;
  alphas: AlphaEntry[]; gammas: number[];
  /** Best validation accuracy per (alpha row, gamma column), 0-1. */
  table: number[][];
}

export function bestCell(r: SweepGrid): { alpha: AlphaEntry; gamma: number; acc: number } {
  let best = { alpha: r.alphas[0], gamma: r.gammas[0], acc: -1 };
  r.table.forEach((row, i) => row.forEach((acc, j) => { if (acc > best.acc) best = { alpha: r.alphas[i], gamma: r.gammas[j], acc }; }));
  return best;
}

const pct = (x: number) => (100 * x).toFixed(2);
const describe = (alpha: AlphaEntry | string) => (String(alpha) in RULE_WORDS ? `'${alpha}' (${RULE_WORDS[String(alpha)]})` : `${alpha}`);

/** The cell of (alphaRule, gamma) in the grid, if it was swept. */
function cellOf(r: SweepGrid, alphaRule: string, gamma: number): number | null {
  const i = r.alphas.findIndex((a) => String(a) === alphaRule), j = r.gammas.indexOf(gamma);
  return i >= 0 && j >= 0 ? r.table[i][j] : null;
}

export function sweepMarkdown(r: SweepGrid): string {
  const lines = [`| alpha \\ gamma | ${r.gammas.join(' | ')} |`, `|---|${r.gammas.map(() => '---:').join('|')}|`,
    ...r.table.map((row, i) => `| ${r.alphas[i]} | ${row.map(pct).join(' | ')} |`)];
  const best = bestCell(r), recipe = cellOf(r, 'report', 2);
  return `Best validation accuracy (%) after ${r.epochs} epochs, ${r.arch} at ${r.imageSize}px:\n\n${lines.join('\n')}\n\n` +
    `Best cell: alpha ${describe(best.alpha)}, gamma ${best.gamma}: ${pct(best.acc)}%.` +
    (recipe === null ? '' : ` The report's choice (alpha 'report', gamma 2): ${pct(recipe)}%.`) + '\n';
}

export function writeSweepGrid(dir: string, r: SweepGrid): void {
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(r) + '\n');
  writeFileSync(join(dir, 'sweep.md'), sweepMarkdown(r));
}

export function readSweepGrid(dir: string): SweepGrid {
  const path = join(dir, 'sweep.json');
  if (!existsSync(path)) throw new Error(`--sweep-result ${dir}: no sweep.json there (write one with celeba-train sweep --out ${dir})`);
  return JSON.parse(readFileSync(path, 'utf8')) as SweepGrid;
}

/** report.md's lines setting this run's alpha rule and gamma beside the grid's best cell. */
export function ruleBesideGrid(r: SweepGrid, dir: string, alphaRule: string, gamma: number): string[] {
  const best = bestCell(r), mine = cellOf(r, alphaRule, gamma);
  return ['## Loss rule and the sweep', '',
    `| | alpha | gamma | best val acc % after ${r.epochs} epochs (${r.arch}, ${r.imageSize}px) |`, '|---|---|---:|---:|',
    `| this run | ${describe(alphaRule)} | ${gamma} | ${mine === null ? 'not in the grid' : pct(mine)} |`,
    `| grid's best cell | ${describe(best.alpha)} | ${best.gamma} | ${pct(best.acc)} |`,
    '', `Grid: ${join(dir, 'sweep.md')}.`];
}
