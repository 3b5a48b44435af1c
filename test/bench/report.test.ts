// The benchmark report's peaks (bench/report.ts): a probe taken while the machine is busy reads
// low, so a run re-measures at its end and every "% of peak" is against the better of the two.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyBestPeaks, toMarkdown, type Report } from '../../bench/report.ts';
import type { BenchResult, Peaks } from '../../bench/harness.ts';

const s = suite('bench report: peaks');

const peaks = (fma: number, copy: number): Peaks => ({ fmaGflops: fma, copyGBs: copy, dispatchUs: 40, method: 'timestamp' });
const row = (name: string, x: Partial<BenchResult>): BenchResult =>
  ({ family: 'conv2d', name, minMs: 1, medianMs: 1, method: 'timestamp', repeats: 3, peers: [], valid: true, ...x });

function report(): Report {
  return {
    date: '2026-12-01T03:00:00.000Z', revision: 'abc1234', quick: false,
    adapter: { vendor: 'v', architecture: 'a', description: 'd', backend: 'b' }, peaks: peaks(20, 2),
    results: [row('conv', { gflops: 10, fracPeak: 0.5 }), row('copy', { gbs: 1.5, fracPeak: 0.75 }), row('step', {})],
  };
}

s('fractions are recomputed against the better probe, FMA and copy each', () => {
  const r = report();
  applyBestPeaks(r, peaks(40, 1));
  assert.equal([r.peaks.fmaGflops, r.peaks.copyGBs], [40, 2]);
  assert.equal(r.results.map((x) => x.fracPeak), [0.25, 0.75, undefined]);
  assert.equal(r.peaksMeasured?.start.fmaGflops, 20);
  assert.equal(r.peaksMeasured?.end.fmaGflops, 40);
  assert.match(toMarkdown(r), /FMA peak 40\.0 GFLOP\/s.*probes at the start \(FMA 20\.0, copy 2\.00\) and at the end of the run \(FMA 40\.0, copy 1\.00\)/);
});

s('a lower probe at the end changes nothing', () => {
  const r = report();
  applyBestPeaks(r, peaks(10, 1));
  assert.equal([r.peaks.fmaGflops, r.peaks.copyGBs], [20, 2]);
  assert.equal(r.results.map((x) => x.fracPeak), [0.5, 0.75, undefined]);
});

s.run();
