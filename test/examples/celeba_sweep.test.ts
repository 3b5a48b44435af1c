// The sweep's grid with the report's own per-attribute rules as rows, sweep.json, and a run's
// report.md setting its rule beside the grid's best cell (--sweep-result). The commands on a tiny
// configuration (refusals as child processes, runs through main() in this process: trainer.ts);
// the grid arithmetic as functions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bestCell, parseAlphaList, ruleBesideGrid, sweepMarkdown, SWEEP_ALPHAS, type SweepGrid } from '../../examples/celeba-train/sweep_grid.ts';
import { copySet, tempDir } from '../vision/helpers.ts';
import { inProcess, run } from './trainer.ts';

const TINY = ['--arch', 'resnest-tiny', '--image-size', '32', '--batch', '8', '--workers', '1', '--limit-train', '16'];

const s = suite('examples: celeba-train sweep grid');

s("--sweep-alphas takes numbers in (0, 1] and the rules 'report' / 'within'; the default grid has the report's rule as a row", () => {
  assert.equal(parseAlphaList('0.1, 0.25,report,within,1'), [0.1, 0.25, 'report', 'within', 1]);
  for (const bad of ['abc', '0', '1.5', '0.1,,0.5', 'Report']) assert.throws(() => parseAlphaList(bad), /--sweep-alphas: '.*' is not a number in \(0, 1\], 'report' or 'within'/);
  assert.equal(SWEEP_ALPHAS, [0.1, 0.25, 0.5, 1, 'report']);
});

s('best cell, the report choice and a run beside the grid', () => {
  const r: SweepGrid = { epochs: 20, arch: 'resnest50', imageSize: 320, alphas: [0.25, 'report'], gammas: [2, 1], table: [[0.9, 0.93], [0.91, 0.92]] };
  assert.equal(bestCell(r), { alpha: 0.25, gamma: 1, acc: 0.93 });
  assert.match(sweepMarkdown(r), '| 0.25 | 90.00 | 93.00 |\n| report | 91.00 | 92.00 |\n\nBest cell: alpha 0.25, gamma 1: 93.00%. ' +
    "The report's choice (alpha 'report', gamma 2): 91.00%.\n");
  assert.equal(ruleBesideGrid(r, 'runs/sweep', 'report', 2).slice(4, 6), [
    "| this run | 'report' (the report's rule, 0.25 above a 25% positive rate, else 0.75) | 2 | 91.00 |", "| grid's best cell | 0.25 | 1 | 93.00 |"]);
  assert.match(ruleBesideGrid(r, 'runs/sweep', 'within', 2)[4], /\| 2 \| not in the grid \|$/);
});

s('sweep --sweep-alphas report,within writes sweep.json; train --sweep-result puts the chosen rule beside the best cell', async () => {
  const data = await copySet('sweep');
  const out = tempDir('sweep-out');
  const bad = await run(['sweep', '--data', data, ...TINY, '--out', out, '--sweep-alphas', '0.25,abc']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /error: --sweep-alphas: 'abc' is not a number/);
  assert.not.match(bad.stderr, /epoch 1/);
  const sw = await inProcess(['sweep', '--data', data, ...TINY, '--out', out, '--sweep-epochs', '1', '--sweep-alphas', 'report,within', '--sweep-gammas', '2']);
  assert.is(sw.code, 0, sw.stderr);
  const grid = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepGrid;
  assert.equal([grid.alphas, grid.gammas, grid.epochs], [['report', 'within'], [2], 1]);
  for (const [i, rule] of ['report', 'within'].entries()) {
    const cell = readFileSync(join(out, `alpha${rule}-gamma2`, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).valAcc as number);
    assert.is(grid.table[i][0], Math.max(...cell));
  }
  assert.match(readFileSync(join(out, 'sweep.md'), 'utf8'), /\| report \| \d+\.\d\d \|\n\| within \| \d+\.\d\d \|\n\nBest cell: alpha '(report|within)'/);

  const runOut = tempDir('sweep-run');
  const missing = await run(['train', '--data', data, ...TINY, '--epochs', '1', '--out', runOut, '--sweep-result', join(out, 'nope')]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /error: --sweep-result .*nope: no sweep\.json there/);
  const r = await inProcess(['train', '--data', data, ...TINY, '--epochs', '1', '--out', runOut, '--alpha-rule', 'within', '--sweep-result', out]);
  assert.is(r.code, 0, r.stderr);
  const report = readFileSync(join(runOut, 'report.md'), 'utf8');
  const pct = (x: number) => (100 * x).toFixed(2);
  assert.match(report, `| this run | 'within' (within-attribute, 0.25 when one class has over twice the other's samples, else 0.5) | 2 | ${pct(grid.table[1][0])} |`);
  const best = bestCell(grid);
  assert.match(report, `| grid's best cell | '${best.alpha}' `);
  assert.match(report, `| ${pct(best.acc)} |`);
});

s.run();
