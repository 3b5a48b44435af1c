// report.md (per-attribute accuracy tables for val and test, the chosen epoch and why, the
// comparison with the published figures on the official CelebA, the run's facts) and curves.png.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Canvas, encodePng, gridRects, lineChart } from '../../plot/index.ts';
import { RENDERED_ATTRIBUTES, type CelebADataset } from './celeba/index.ts';
import type { TrainingData } from './dataset.ts';
import { comparisonAbsentReason, isSyntheticData, runFacts } from './report_facts.ts';
import { readSweepGrid, ruleBesideGrid } from './sweep_grid.ts';
import type { EpochMetrics } from './checkpoint.ts';
import type { EvalResult } from './steps.ts';
import type { TrainOptions } from './options.ts';
import { REPORT_TEST, REPORT_TEST_MEAN, REPORT_VAL, REPORT_VAL_MEAN } from './reference.ts';

const pct = (x: number) => (100 * x).toFixed(2);

export function drawCurves(history: EpochMetrics[], path: string): void {
  const canvas = new Canvas(1400, 520);
  const [left, right] = gridRects({ x: 0, y: 0, width: 1400, height: 520 }, 1, 2, 8);
  const pts = (f: (h: EpochMetrics) => number) => history.map((h): [number, number] => [h.epoch, f(h)]);
  lineChart(canvas, left, { title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [
    { name: 'train', points: pts((h) => h.trainLoss) }, { name: 'val', points: pts((h) => h.valLoss), dashed: true }] });
  lineChart(canvas, right, { title: 'Mean attribute accuracy (%)', xLabel: 'epoch', yLabel: 'accuracy %', series: [
    { name: 'train', points: pts((h) => 100 * h.trainAcc) }, { name: 'val', points: pts((h) => 100 * h.valAcc), dashed: true }] });
  writeFileSync(path, encodePng(canvas));
}

function attributeTable(names: readonly string[], acc: number[], published: number[] | null): string[] {
  const rows = [published ? '| # | attribute | accuracy % | report % | difference |' : '| # | attribute | accuracy % |',
    published ? '|---:|---|---:|---:|---:|' : '|---:|---|---:|'];
  names.forEach((n, j) => rows.push(published
    ? `| ${j + 1} | ${n} | ${pct(acc[j])} | ${published[j].toFixed(2)} | ${(100 * acc[j] - published[j]).toFixed(2)} |`
    : `| ${j + 1} | ${n} | ${pct(acc[j])} |`));
  const avg = acc.reduce((s, v) => s + v, 0) / acc.length;
  rows.push(published ? `| | **average** | **${pct(avg)}** | **${(published.reduce((s, v) => s + v, 0) / published.length).toFixed(2)}** | ${(100 * avg - published.reduce((s, v) => s + v, 0) / published.length).toFixed(2)} |` : `| | **average** | **${pct(avg)}** |`);
  return rows;
}

export async function writeReport(opts: TrainOptions, ds: TrainingData, history: EpochMetrics[], selected: number, bestVal: number,
  val: EvalResult, test: EvalResult | null, bestValTest: EvalResult | null = null, evalSeconds = 0): Promise<void> {
  drawCurves(history, join(opts.out, 'curves.png'));
  const synthetic = isSyntheticData(ds);
  const absent = comparisonAbsentReason(opts, ds);
  const sel = history.find((h) => h.epoch === selected)!;
  const names = ds.attributes;
  const lines = [
    `# CelebA attributes with ${opts.arch}`, '',
    `Data: ${synthetic ? `the synthetic CelebA-format set (${ds.files.length} images)` : ds.root}; image size ${opts.imageSize}, batch ${opts.batch}, ` +
      `${history.length} epochs, SGD lr ${opts.lr} (momentum ${opts.momentum}, weight decay ${opts.weightDecay}), ` +
      `${opts.loss === 'focal' ? `focal loss gamma ${opts.gamma}, alpha rule '${opts.alphaRule}'` : 'BCE with logits'}, ReduceLROnPlateau(factor ${opts.factor}, patience ${opts.patience}, min ${opts.minLr}), seed ${opts.seed}.`,
    '', '![training curves](curves.png)', '',
    `## Chosen checkpoint`, '',
    `Epoch **${selected}**: the epoch with the least difference between train and validation accuracy ` +
      `(train ${pct(sel.trainAcc)}%, val ${pct(sel.valAcc)}%, gap ${(100 * Math.abs(sel.trainAcc - sel.valAcc)).toFixed(3)} points), ` +
      `the report's rule. The best validation accuracy was at epoch ${bestVal} (${pct(history.find((h) => h.epoch === bestVal)!.valAcc)}%), saved as best-val.safetensors.`,
    '', '| epoch | lr | train loss | train acc % | val loss | val acc % | s | img/s |', '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...history.map((h) => `| ${h.epoch}${h.epoch === selected ? ' *' : ''} | ${+h.lr.toPrecision(6)} | ${h.trainLoss.toFixed(4)} | ${pct(h.trainAcc)} | ${h.valLoss.toFixed(4)} | ${pct(h.valAcc)} | ${h.seconds.toFixed(1)} | ${h.imagesPerSec.toFixed(1)} |`),
    '', `## Validation accuracy (epoch ${selected}): ${pct(val.meanAccuracy)}%`, '',
    ...attributeTable(names, val.accuracy, absent === null ? REPORT_VAL : null),
  ];
  if (test) lines.push('', `## Test accuracy (epoch ${selected}): ${pct(test.meanAccuracy)}%`, '', ...attributeTable(names, test.accuracy, absent === null ? REPORT_TEST : null));
  lines.push('', absent === null
    ? `Published: val ${REPORT_VAL_MEAN.toFixed(2)}%, test ${REPORT_TEST_MEAN.toFixed(2)}% (epoch 25 of 30).`
    : `No comparison with the published figures (val ${REPORT_VAL_MEAN.toFixed(2)}%, test ${REPORT_TEST_MEAN.toFixed(2)}%): ${absent}.`);
  if (synthetic) {
    const rendered = new Set<string>(RENDERED_ATTRIBUTES);
    const on = names.map((n, j) => [n, j] as const).filter(([n]) => rendered.has(n));
    const off = names.map((n, j) => [n, j] as const).filter(([n]) => !rendered.has(n));
    const avg = (idx: (readonly [string, number])[], acc: number[]) => idx.reduce((s, [, j]) => s + acc[j], 0) / idx.length;
    const res = test ?? val;
    lines.push('', '## On the synthetic set', '',
      `The synthetic faces render ${on.length} attributes visibly (${on.map(([n]) => n).join(', ')}); the other ${off.length} are label noise at CelebA's positive rates, ` +
      `so their best possible accuracy is the majority rate. Selected checkpoint (epoch ${selected}): rendered attributes ${pct(avg(on, res.accuracy))}% on ${test ? 'test' : 'val'}, ` +
      `noise attributes ${pct(avg(off, res.accuracy))}% (majority baseline ${pct(avg(off, majority(ds, test ? 'test' : 'val')))}%).` +
      (bestValTest ? ` Best-validation checkpoint (epoch ${bestVal}): rendered attributes ${pct(avg(on, bestValTest.accuracy))}% on test, noise attributes ${pct(avg(off, bestValTest.accuracy))}%.` : ''));
  }
  if (opts.sweepResult) lines.push('', ...ruleBesideGrid(readSweepGrid(opts.sweepResult), opts.sweepResult, opts.alphaRule, opts.gamma));
  lines.push('', ...runFacts(opts, ds, history, val, test, evalSeconds));
  writeFileSync(join(opts.out, 'report.md'), lines.join('\n') + '\n');
}

/** Accuracy of always predicting each attribute's majority class within a split. */
export function majority(ds: CelebADataset, split: 'val' | 'test'): number[] {
  const code = split === 'val' ? 1 : 2;
  const A = ds.attributes.length;
  const pos = new Array(A).fill(0);
  let n = 0;
  ds.splits.forEach((s, i) => { if (s !== code) return; n++; for (let j = 0; j < A; j++) pos[j] += ds.labels[i * A + j]; });
  return pos.map((p) => Math.max(p, n - p) / n);
}
