// Markdown tables of a benchmark run, as they appear in docs/PERFORMANCE.md.
import type { BenchResult, Peaks } from './harness.ts';

export interface Report {
  date: string; revision: string; quick: boolean;
  adapter: { vendor: string; architecture: string; description: string; backend: string };
  peaks: Peaks; polling?: { fixedGflops: number; busyGflops: number }; results: BenchResult[];
}

const f = (x: number | undefined, d = 2) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(d));

export function toMarkdown(r: Report): string {
  const lines = [
    `Adapter: ${r.adapter.vendor} ${r.adapter.architecture} ${r.adapter.description} (${r.adapter.backend}); revision ${r.revision}, ${r.date.slice(0, 10)}${r.quick ? ', quick mode' : ''}.`,
    '',
    `Measured peaks: FMA ${f(r.peaks.fmaGflops, 1)} GFLOP/s, storage copy ${f(r.peaks.copyGBs)} GB/s, ${f(r.peaks.dispatchUs, 1)} µs per dispatch; timing by ${r.peaks.method}.`,
  ];
  if (r.polling) lines.push('', `Polling fix: FMA ${f(r.polling.busyGflops, 1)} GFLOP/s with Dawn's busy polling, ${f(r.polling.fixedGflops, 1)} with the fix (x${f(r.polling.fixedGflops / r.polling.busyGflops)}).`);
  const families = [...new Set(r.results.map((x) => x.family))];
  for (const family of families) {
    lines.push('', `### ${family}`, '', '| case | ms (min) | ms (median) | rate | % of peak | peers (ms, ratio peer/ours) |', '|---|---:|---:|---:|---:|---|');
    for (const x of r.results.filter((y) => y.family === family)) {
      const rate = x.gflops !== undefined ? `${f(x.gflops)} GFLOP/s` : x.gbs !== undefined ? `${f(x.gbs)} GB/s` : '';
      const peers = x.peers.map((p) => `${p.name}: ${f(p.ms)} ms (x${f(p.ratio)})`).join('; ');
      lines.push(`| ${x.name}${x.valid === false ? ' (INVALID)' : ''} | ${f(x.minMs, 3)} | ${f(x.medianMs, 3)} | ${rate} | ${x.fracPeak !== undefined ? (x.fracPeak * 100).toFixed(1) + '%' : ''} | ${peers} |`);
    }
  }
  return lines.join('\n');
}
