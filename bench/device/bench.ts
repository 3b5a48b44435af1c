// The device kit's benchmark (bundled by `npm run device-kit`, run by bench/device/run.sh):
// adapter and limits, measured peaks, autotuning of the step's shapes, then every convolution
// pass at ResNeSt-50's shapes, the step's matrix products with every matmul version side by
// side, the bottleneck block and the training step at 224 and 320 px,
// batch 32, written as one JSON report. --quick runs the same path at toy sizes (a CPU adapter
// in the kit's test); --combine adds the PyTorch CUDA peer's times to a report.
//   bench.mjs [--quick] [--autotune-file FILE] --out FILE
//   bench.mjs --combine REPORT TORCH_JSON --out FILE
import { readFileSync, writeFileSync } from 'node:fs';
import { initGpu, gpu, releaseDevice } from '../../src/node.ts';
import { measurePeaks, runCase, formatRow, type BenchResult } from '../harness.ts';
import type { Report } from '../report.ts';
import { makeTrainStep } from '../train_step.ts';
import { blockCase, convCases, matmulCases, stepCase } from './cases.ts';
import { setAutotuneStore, tunePending, fileStore, conv2dVersions } from '../../src/kernels.ts';

declare const KIT_REVISION: string | undefined; // set by the kit's bundler

/** What the PyTorch peer (bench/device/torch_peer.py) prints. */
export interface TorchPeerOutput {
  torch?: string; device?: string; skipped?: string;
  results?: { size: number; batch: number; mode: string; ms: number; median: number }[];
}

export interface DeviceReport extends Report {
  kind: 'device-kit';
  features: string[];
  limits: Record<string, number>;
  autotune: { op: string; key: string; best: string; ms: Record<string, number> }[];
  torch: TorchPeerOutput | null;
  /** cases that threw (set up, validation aside, or timing) */
  failed: string[];
}

const LIMITS = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension', 'maxUniformBufferBindingSize'] as const;

const args = process.argv.slice(2);
const option = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };

async function measure(quick: boolean): Promise<DeviceReport> {
  // a store of this run's own: the kit tunes afresh, and a trial on a CPU adapter leaves the user's choices alone
  const store = option('autotune-file');
  if (store) setAutotuneStore(fileStore(store));
  await initGpu();
  const g = gpu();
  const a = g.adapter;
  const limits = Object.fromEntries(LIMITS.map((k) => [k, g.limits[k] as number]));
  console.log(`adapter: ${a.vendor} ${a.architecture} ${a.device} ${a.description} (${a.backend})`);
  console.log(`features: ${[...g.features].join(', ') || 'none'}`);
  console.log(`limits: ${Object.entries(limits).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const peaks = await measurePeaks(quick);
  console.log(`peaks: FMA ${peaks.fmaGflops.toFixed(1)} GFLOP/s, copy ${peaks.copyGBs.toFixed(1)} GB/s, ${peaks.dispatchUs.toFixed(2)} us per dispatch`);

  const steps: [string, number, number][] = quick ? [['resnest-tiny', 32, 2]] : [['resnest50', 224, 32], ['resnest50', 320, 32]];
  const [convSize, convBatch] = quick ? [32, 2] : [224, 32];
  // one step of each queues its shapes for tuning; then every queued (op, shape) is timed per version
  for (const [arch, size, batch] of steps) {
    const t = makeTrainStep(arch, size, batch);
    await t.step();
    t.dispose();
  }
  convCases(convSize, convBatch, quick ? 3 : Infinity); // queues the convolution benchmark's shapes too
  const tuned = await tunePending({ repeats: quick ? 1 : 3, log: (line) => console.log(line) });
  const cases = convCases(convSize, convBatch, quick ? 3 : Infinity); // built again: their names carry the tuned versions
  // the versions side by side on layer1's and layer3's split-attention convolutions and a 1x1 (v1's direct loops: full runs only)
  cases.push(...convCases(convSize, convBatch, Infinity, quick ? { names: ['stem.3'], versions: Object.keys(conv2dVersions).filter((v) => v !== 'v1') }
    : { names: ['layer1.0.conv2.conv', 'layer3.1.conv2.conv', 'layer1.0.conv3'], versions: Object.keys(conv2dVersions) }));
  cases.push(...matmulCases(quick ? 4 : 32));
  cases.push(quick ? blockCase(2, 8) : blockCase(32, 56));
  for (const [arch, size, batch] of steps) cases.push(stepCase(arch, size, batch, quick ? 2 : 5));

  const results: BenchResult[] = [];
  const failed: string[] = [];
  for (const c of cases) {
    try {
      const r = await runCase(c, peaks, { quick });
      results.push(r);
      console.log(formatRow(r));
    } catch (e) {
      failed.push(c.name);
      console.error(`  ${c.name}: FAILED: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const report: DeviceReport = {
    kind: 'device-kit', date: new Date().toISOString(), revision: typeof KIT_REVISION === 'string' ? KIT_REVISION : 'unbundled', quick,
    adapter: { vendor: a.vendor, architecture: a.architecture, description: `${a.device} ${a.description}`.trim(), backend: a.backend },
    features: [...g.features], limits, peaks, results,
    autotune: tuned.map((t) => ({ op: t.op, key: t.key, best: t.best, ms: t.ms })), torch: null, failed,
  };
  await releaseDevice();
  return report;
}

/** The report with the PyTorch peer's step times as peers of the matching end-to-end rows. */
export function combine(report: DeviceReport, torch: TorchPeerOutput): DeviceReport {
  const out: DeviceReport = { ...report, torch, results: report.results.map((r) => ({ ...r, peers: [...r.peers] })) };
  for (const t of torch.results ?? []) {
    const row = out.results.find((r) => r.family === 'end-to-end' && r.name.endsWith(`batch ${t.batch}, ${t.size}x${t.size}`));
    if (row) row.peers.push({ name: `torch-cuda ${t.mode}`, ms: t.ms, ratio: t.ms / row.minMs });
  }
  return out;
}

async function main(): Promise<void> {
  const out = option('out');
  if (!out) { console.error('bench: --out FILE is required'); process.exit(2); }
  const combineFrom = option('combine');
  if (combineFrom) {
    const torchFile = args[args.indexOf('--combine') + 2];
    if (!torchFile || torchFile.startsWith('--')) { console.error('bench: --combine REPORT TORCH_JSON'); process.exit(2); }
    const report = JSON.parse(readFileSync(combineFrom, 'utf8')) as DeviceReport;
    let torch: TorchPeerOutput;
    try { torch = JSON.parse(readFileSync(torchFile, 'utf8')) as TorchPeerOutput; } catch (e) { torch = { skipped: `no peer output (${(e as Error).message.split('\n')[0]})` }; }
    writeFileSync(out, JSON.stringify(combine(report, torch), null, 2));
    console.log(`wrote ${out}${torch.skipped ? ` (PyTorch peer skipped: ${torch.skipped})` : ''}`);
  } else {
    const report = await measure(args.includes('--quick'));
    writeFileSync(out, JSON.stringify(report, null, 2));
    console.log(`wrote ${out}`);
    const invalid = report.results.filter((r) => r.valid === false).map((r) => r.name);
    if (invalid.length || report.failed.length) {
      console.error(`bench: ${invalid.length} case(s) failed validation, ${report.failed.length} failed to run: ${[...invalid, ...report.failed].join('; ')}`);
      process.exitCode = 1;
    }
  }
}

// run as the kit's bench.mjs or as this file; imported (tests), it only lends combine()
if (/[\\/]bench\.(mjs|ts)$/.test(process.argv[1] ?? '')) await main();
