// docs/performance.png: our throughput per kernel against the adapter's measured peaks and the
// peers, from a benchmark report. Top: compute-bound cases in GFLOP/s (log axis; whole training
// step, bottleneck block, every convolution's fwd+dX+dW, matmuls) with the FMA peak; bottom:
// memory-bound kernels in GB/s with the copy bandwidth. Where a family benchmarks several
// versions of one kernel, the chart shows the fastest and says so.
// Standalone: node --import tsx bench/chart.ts bench/results/<run>.json [docs/performance.png]
import { readFileSync, writeFileSync } from 'node:fs';
import { Canvas, barChart, encodePng } from '../plot/index.ts';
import type { BenchResult } from './harness.ts';
import type { Report } from './report.ts';

/** Cases under 0.1 GFLOP per repetition (the attention MLP's 1x1 convs on 1 pixel, the 40-way head) stay in the tables. */
const MIN_FLOPS = 1e8;
const VERSION = /\s+v\d+(\s+\([^)]*\))?$/;

/** Per kernel with several versions (name ending in "vN"), the fastest one. */
function bestVersions(rows: BenchResult[], rate: (r: BenchResult) => number): { label: string; r: BenchResult }[] {
  const groups = new Map<string, BenchResult[]>();
  for (const r of rows) {
    const base = r.name.replace(VERSION, '');
    groups.set(base, [...(groups.get(base) ?? []), r]);
  }
  return [...groups].map(([base, rs]) => {
    const best = rs.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const v = best.name.match(VERSION)?.[0].trim().split(' ')[0];
    return { label: rs.length > 1 && v ? `${base} (${v} of ${rs.length})` : best.name, r: best };
  });
}

const shorten = (s: string) => s.replace('layer1 block ', 'bottleneck ').replace(', batch 8, ', ' b8 ').replace('ResNeSt-50 train step', 'ResNeSt-50 step')
  .replace(' fwd+dX+dW', ' f+b').replace(/ (v\d)(\/v\d)*$/, '');

export function performanceChart(r: Report): Uint8Array {
  const valid = r.results.filter((x) => x.valid !== false);
  const compute: { label: string; r: BenchResult }[] = [
    ...valid.filter((x) => x.family === 'end-to-end' || x.family === 'bottleneck').map((x) => ({ label: x.name, r: x })),
    ...valid.filter((x) => x.family === 'conv2d' && x.name.includes('fwd+dX+dW')).map((x) => ({ label: `conv ${x.name}`, r: x })),
    ...bestVersions(valid.filter((x) => x.family === 'linear' && x.gflops !== undefined), (x) => x.gflops!).map((e) => ({ ...e, label: `matmul ${e.label}` })),
  ].filter((e) => e.r.gflops !== undefined && e.r.gflops * e.r.minMs * 1e6 >= MIN_FLOPS);
  const short: Record<string, string> = { batchnorm2d: 'bn', split_attention: 'split-attn', elementwise: '', reduce: '', sgd: '', focal_loss: '', pool2d: 'pool' };
  const memory = [...new Set(valid.filter((x) => x.gbs !== undefined && x.gflops === undefined).map((x) => x.family))]
    .flatMap((fam) => bestVersions(valid.filter((x) => x.family === fam && x.gbs !== undefined), (x) => x.gbs!)
      .map((e) => ({ ...e, label: `${short[fam] ?? fam}${short[fam] === '' ? '' : ' '}${e.label.replace(/ x\[[\d,]+\]/, '')}` })));

  const peerRate = (x: BenchResult, prefix: string) => {
    const p = x.peers.find((q) => q.name.startsWith(prefix));
    return p && x.gflops !== undefined ? x.gflops / p.ratio : null;
  };
  const width = 1600;
  const h1 = 190 + compute.length * 3 * 13, h2 = memory.length ? 170 + memory.length * 24 : 0;
  const c = new Canvas(width, h1 + h2);
  const mode = `${r.quick ? 'quick mode' : 'full run'}, ${r.revision}, ${r.date.slice(0, 10)}`;
  const adapter = r.adapter.description.split(' (')[0].replace(/-\S*$/, '');
  barChart(c, { x: 0, y: 0, width, height: h1 }, {
    title: `Compute-bound cases over 0.1 GFLOP: GFLOP/s, log scale (${adapter}; ${mode})`,
    yLabel: 'GFLOP/s (FLOPs / time), higher is better; (vN of M) = fastest of M versions', log: true, valueLabels: true, orientation: 'horizontal',
    categories: compute.map((e) => shorten(e.label)),
    series: [
      { name: 'resnest-webgpu (ours)', values: compute.map((e) => e.r.gflops!) },
      { name: 'tfjs-webgpu, same adapter', values: compute.map((e) => peerRate(e.r, 'tfjs')) },
      { name: 'PyTorch CPU, 2 threads', values: compute.map((e) => peerRate(e.r, 'torch')) },
    ],
    referenceLines: [{ value: r.peaks.fmaGflops, label: `adapter FMA peak ${r.peaks.fmaGflops.toFixed(1)} GFLOP/s (measured)` }],
  });
  if (memory.length) {
    barChart(c, { x: 0, y: h1, width, height: h2 }, {
      title: 'Memory-bound kernels: GB/s = bytes each kernel must read and write / time',
      yLabel: 'GB/s; higher is better; (vN of M) = fastest of M versions', valueLabels: true, orientation: 'horizontal',
      categories: memory.map((e) => shorten(e.label)),
      series: [{ name: 'resnest-webgpu (ours)', values: memory.map((e) => e.r.gbs!) }],
      referenceLines: [{ value: r.peaks.copyGBs, label: `adapter copy bandwidth ${r.peaks.copyGBs.toFixed(2)} GB/s (measured)` }],
      legend: false,
    });
  }
  return encodePng(c);
}

if (process.argv[1]?.endsWith('chart.ts')) {
  const [input, out = 'docs/performance.png'] = process.argv.slice(2);
  if (!input) { console.error('usage: node --import tsx bench/chart.ts bench/results/<run>.json [out.png]'); process.exit(2); }
  writeFileSync(out, performanceChart(JSON.parse(readFileSync(input, 'utf8')) as Report));
  console.log(out);
}
