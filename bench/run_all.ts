// npm run bench [-- --filter conv2d --quick --markdown --out FILE]
// Measures the adapter's peaks, then every bench/*.bench.ts case; prints a table, writes JSON
// under bench/results/ (adapter, revision, date), optionally markdown for docs/PERFORMANCE.md.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initGpu, gpu, releaseDevice } from '../src/gpu/index.ts';
import { measurePeaks, runCase, formatRow, type BenchCase, type BenchResult, type Peaks } from './harness.ts';
import { toMarkdown } from './report.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const quick = flag('quick');
const filter = option('filter');
const here = fileURLToPath(new URL('.', import.meta.url));

await initGpu();
const g = gpu();
const adapter = g.adapterInfo;
console.log(`adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description} (${adapter.backend}); features: ${[...g.features].join(', ')}`);

const peaks: Peaks = await measurePeaks(quick);
console.log(`peaks: FMA ${peaks.fmaGflops.toFixed(1)} GFLOP/s, copy ${peaks.copyGBs.toFixed(2)} GB/s, ` +
  `${peaks.dispatchUs.toFixed(1)} us per dispatch (timing by ${peaks.method})`);

// What the polling fix buys: the FMA peak with Dawn's default busy polling, measured in the same run.
let polling: { fixedGflops: number; busyGflops: number } | undefined;
if (!filter || 'polling'.includes(filter) || filter === 'runtime') {
  g.provider.setPolitePolling?.(false);
  const busy = await measurePeaks(true);
  g.provider.setPolitePolling?.(true);
  const fixed = await measurePeaks(true);
  polling = { fixedGflops: fixed.fmaGflops, busyGflops: busy.fmaGflops };
  console.log(`polling: FMA ${busy.fmaGflops.toFixed(1)} GFLOP/s with busy polling, ${fixed.fmaGflops.toFixed(1)} with the fix ` +
    `(x${(fixed.fmaGflops / busy.fmaGflops).toFixed(2)}); copy ${busy.copyGBs.toFixed(2)} -> ${fixed.copyGBs.toFixed(2)} GB/s`);
}

const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
const results: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(here + file).href)) as { cases?: (o: { quick: boolean }) => Promise<BenchCase[]> };
  if (!mod.cases) continue;
  const family = file.replace('.bench.ts', '');
  if (filter && !family.includes(filter)) continue;
  console.log(`\n# ${family}`);
  let list: BenchCase[];
  try { list = await mod.cases({ quick }); } catch (e) { console.error(`  could not set up: ${(e as Error).message}`); continue; }
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

const revision = (() => { try { return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return 'unknown'; } })();
const report = { date: new Date().toISOString(), revision, quick, adapter, features: [...g.features], peaks, polling, results };
const out = option('out') ?? `${here}results/${report.date.slice(0, 19).replace(/[:T]/g, '-')}-${revision}.json`;
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2));
console.log(`\nresults: ${out}`);
if (flag('markdown')) console.log(`\n${toMarkdown(report)}`);
await releaseDevice();
