// npm run bench [-- --filter conv2d --version v2 --quick --markdown --write-docs --out FILE --from FILE]
// Measures the adapter's peaks, then every bench/*.bench.ts case, then the end-to-end training
// step (bench/train_step.ts); prints a table, writes JSON under bench/results/ (adapter,
// revision, date, load), optionally markdown for docs/PERFORMANCE.md.
//   --filter X     only families whose name contains X, or one of X,Y,... ('end-to-end' for the training step;
//                  the polling comparison runs when X is a part of 'polling' or X = 'runtime')
//   --version V    only cases that run version V (or one of V,W,...) of their kernel family
//                  (kernels/families.ts); families without versions are left out
//   --quick        smaller shapes and fewer repetitions (about 5 minutes)
//   --markdown     print the tables; with --write-docs, write them into docs/PERFORMANCE.md
//                  (between its bench markers) and draw docs/performance.png
//   --model GPUS   no measuring: the roofline model of the ResNeSt-50 step on named GPUs
//                  (bench/model/gpus.ts; e.g. H200,A100,RTX4090,M2), with --write-docs into docs/PERFORMANCE.md
//   --from FILE    no measuring: the report of an earlier run (for --markdown / --write-docs); a device
//                  kit's report (bench/device/run.sh) prints or writes the GPU section instead;
//                  repeated, later reports replace the families they contain (a re-run of one)
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initGpu, gpu, releaseDevice } from '../src/node.ts';
import { measurePeaks, runCase, formatRow, versionWanted, type BenchCase, type BenchResult, type Peaks } from './harness.ts';
import { applyBestPeaks, spliceDocs, toMarkdown, type Report } from './report.ts';
import { performanceChart } from './chart.ts';
import { endToEndCases } from './train_step.ts';
import { runModel } from './model/run.ts';
import { deviceMarkdown, isDeviceReport, spliceDevice } from './device/report.ts';
import type { DeviceReport } from './device/bench.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const options = (name: string) => args.flatMap((a, i) => (a === `--${name}` && i + 1 < args.length ? [args[i + 1]] : []));
const quick = flag('quick');
const filter = option('filter');
const versionFilter = option('version');
const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

async function measure(): Promise<{ report: Report; out: string }> {
  const loadStart = loadavg()[0];
  await initGpu();
  const g = gpu();
  const { vendor, architecture, device, description, backend, software } = g.adapter;
  const adapter = { vendor, architecture, device, description, backend, software };
  console.log(`adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description} (${adapter.backend}); features: ${[...g.features].join(', ')}`);

  const peaks: Peaks = await measurePeaks(quick);
  console.log(`peaks: FMA ${peaks.fmaGflops.toFixed(1)} GFLOP/s, copy ${peaks.copyGBs.toFixed(2)} GB/s, ` +
    `${peaks.dispatchUs.toFixed(1)} us per dispatch (timing by ${peaks.method})`);

  // What the polling fix buys: the FMA peak with Dawn's default busy polling, measured in the same run.
  let polling: Report['polling'];
  if (!filter || filter.split(',').some((x) => 'polling'.includes(x) || x === 'runtime')) {
    // two rounds, alternating, best of each: other processes on the machine shift either way.
    // Always the full-size probes: the quick ones finish inside the fix's first 2 ms, during
    // which it spins just as Dawn does, and would compare busy polling with itself.
    let busy: Peaks | null = null, fixed: Peaks | null = null;
    const best = (a: Peaks | null, b: Peaks) => (a && a.fmaGflops >= b.fmaGflops ? a : b);
    for (let round = 0; round < 2; round++) {
      g.provider.setPolitePolling?.(false);
      busy = best(busy, await measurePeaks(false));
      g.provider.setPolitePolling?.(true);
      fixed = best(fixed, await measurePeaks(false));
    }
    if (!busy || !fixed) throw new Error('unreachable');
    polling = { fixedGflops: fixed.fmaGflops, busyGflops: busy.fmaGflops, fixedCopyGBs: fixed.copyGBs, busyCopyGBs: busy.copyGBs };
    console.log(`polling: FMA ${busy.fmaGflops.toFixed(1)} GFLOP/s with busy polling, ${fixed.fmaGflops.toFixed(1)} with the fix ` +
      `(x${(fixed.fmaGflops / busy.fmaGflops).toFixed(2)}); copy ${busy.copyGBs.toFixed(2)} -> ${fixed.copyGBs.toFixed(2)} GB/s`);
  }

  const sections: { family: string; cases: () => Promise<BenchCase[]> }[] = [];
  for (const file of readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()) {
    sections.push({ family: file.replace('.bench.ts', ''), cases: async () => {
      const mod = (await import(pathToFileURL(here + file).href)) as { cases?: (o: { quick: boolean }) => Promise<BenchCase[]> };
      return mod.cases ? mod.cases({ quick }) : [];
    } });
  }
  sections.push({ family: 'end-to-end', cases: async () => endToEndCases({ quick }) });

  const results: BenchResult[] = [];
  for (const s of sections) {
    const wanted = (f: string) => s.family.includes(f) || (s.family === 'end-to-end' && 'train_step'.includes(f));
    if (filter && !filter.split(',').some(wanted)) continue;
    console.log(`\n# ${s.family}`);
    let list: BenchCase[];
    try { list = await s.cases(); } catch (e) { console.error(`  could not set up: ${(e as Error).message}`); continue; }
    const skipped = list.filter((c) => !versionWanted(c, versionFilter));
    for (const c of skipped) c.dispose();
    list = list.filter((c) => versionWanted(c, versionFilter));
    for (const c of list) {
      try {
        const r = await runCase(c, peaks, { quick });
        results.push(r);
        console.log(formatRow(r));
      } catch (e) {
        console.error(`  ${c.name}: FAILED: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }

  // the probes again: a busy stretch at the start would otherwise inflate every "% of peak"
  const peaksEnd = await measurePeaks(quick);
  console.log(`peaks at the end: FMA ${peaksEnd.fmaGflops.toFixed(1)} GFLOP/s, copy ${peaksEnd.copyGBs.toFixed(2)} GB/s`);

  const git = (cmd: string) => { try { return execSync(cmd, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return null; } };
  const revision = git('git rev-parse --short HEAD') ?? 'unknown';
  const dirty = (git('git status --porcelain --untracked-files=no') ?? '') !== '';
  const report: Report = {
    date: new Date().toISOString(), revision, dirty, quick, ...(filter ? { filter } : {}), ...(versionFilter ? { version: versionFilter } : {}), adapter,
    load: { start: loadStart, end: loadavg()[0] }, peaks, polling, results,
  };
  applyBestPeaks(report, peaksEnd);
  (report as Report & { features: string[] }).features = [...g.features];
  const out = option('out') ?? `${here}results/${report.date.slice(0, 19).replace(/[:T]/g, '-')}-${revision}.json`;
  mkdirSync(`${here}results`, { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2));
  await releaseDevice();
  return { report, out };
}

/** The first report, with the families of each later one replacing its own (noted in the report). */
function merge(files: string[]): Report {
  const [first, ...rest] = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as Report);
  for (const r of rest) {
    const families = [...new Set(r.results.map((x) => x.family))];
    const at = first.results.findIndex((x) => families.includes(x.family));
    const kept = first.results.filter((x) => !families.includes(x.family));
    kept.splice(at >= 0 ? at : kept.length, 0, ...r.results);
    first.results = kept;
    if (r.polling) { first.polling = r.polling; families.push('polling comparison'); }
    (first.merged ??= []).push({ families, revision: r.revision, date: r.date, quick: r.quick, peaks: r.peaks, load: r.load });
  }
  return first;
}

const modelled = option('model');
if (modelled !== undefined) {
  try {
    if (modelled.startsWith('--')) throw new Error('--model needs GPU names, e.g. --model H200,A100');
    runModel(modelled, { writeDocs: flag('write-docs'), capture: !flag('no-capture') });
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    process.exit(2);
  }
  process.exit(0);
}

const from = options('from');
// a device kit's report (bench/device/run.sh) goes into its own section
if (from.length === 1 && isDeviceReport(JSON.parse(readFileSync(from[0], 'utf8')))) {
  const md = deviceMarkdown(JSON.parse(readFileSync(from[0], 'utf8')) as DeviceReport);
  if (flag('write-docs')) {
    const docPath = `${root}docs/PERFORMANCE.md`;
    writeFileSync(docPath, spliceDevice(existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Performance\n', md));
    console.log('wrote the device section of docs/PERFORMANCE.md');
  } else {
    console.log(md);
  }
  process.exit(0);
}
const { report, out } = from.length ? { report: merge(from), out: from.join(' + ') } : await measure();
console.log(`\nresults: ${out}`);
if (flag('markdown') || flag('write-docs')) {
  const md = toMarkdown(report);
  if (flag('write-docs')) {
    if (report.filter) console.error(`note: writing docs from a run filtered to "${report.filter}"`);
    const docPath = `${root}docs/PERFORMANCE.md`;
    const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '# Performance\n';
    writeFileSync(docPath, spliceDocs(doc, md));
    writeFileSync(`${root}docs/performance.png`, performanceChart(report));
    console.log('wrote docs/PERFORMANCE.md (generated section) and docs/performance.png');
  } else {
    console.log(`\n${md}`);
  }
}
process.exit(0);
