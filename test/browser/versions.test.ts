// Both software adapters run the same version tests: the version harness that
// test/kernels/versions.test.ts runs on Dawn's lavapipe (test/kernels/version_harness.ts: small
// shapes, forward and backward against the f64 reference) runs here in Debian's chromium on
// SwiftShader's WebGPU, for every version of the conv2d and matmul families, each forced in turn,
// at its default tuning parameters and once more with every parameter at its smallest offered
// value (test/kernels/versions.test.ts runs every combination; SwiftShader compiles each pipeline
// for seconds, so the browser keeps to these). Every choice must pass, except one needing a feature the
// adapter lacks (subgroups: conv2d v6, matmul v5; subgroups of exactly 8 lanes: conv2d v7), which
// must be reported unsupported and accounted for by what the adapter lacks (the version's
// `needs`). The page (versions_page.ts) is bundled for the browser
// with the library's own plugins (scripts/build.ts) and served from 127.0.0.1 (a secure context).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { browserOnly, wgslEmbedded } from '../../scripts/build.ts';
import { conv2dFamily } from '../../kernels/conv2d.ts';
import { matmulFamily } from '../../kernels/matmul.ts';
import { choiceId, type KernelFamily } from '../../kernels/versions.ts';
import type { VersionReport } from './versions_page.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
/** The versions that need the adapter's subgroups feature. */

/** Each version at its defaults, and a parameterised one again with every parameter at its smallest value. */
function browserChoices(fam: KernelFamily<never>): string[] {
  return Object.entries(fam.versions).flatMap(([v, spec]) => {
    const params = Object.entries(spec.params ?? {});
    return params.length ? [v, choiceId(fam, v, Object.fromEntries(params.map(([k, values]) => [k, Math.min(...values)])))] : [v];
  });
}

const s = suite('browser: every conv2d and matmul version against the f64 reference in chromium (SwiftShader)');
let dir = '';
let server: Server | null = null;
let browser: Browser | null = null;
let url = '';

s.before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run WITH_BROWSER=1 bash scripts/setup.sh (installs Debian's chromium), or set CHROMIUM_PATH`);
  }
  dir = mkdtempSync(join(tmpdir(), 'resnest-versions-page-'));
  await build({
    entryPoints: [fileURLToPath(new URL('./versions_page.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', outfile: join(dir, 'page.js'), plugins: [browserOnly, wgslEmbedded], logLevel: 'warning',
  });
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>versions</title><script type="module" src="./page.js"></script>'],
    '/page.js': ['text/javascript', readFileSync(join(dir, 'page.js'), 'utf8')],
  };
  server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    res.writeHead(f ? 200 : 404, { 'content-type': f ? f[0] : 'text/plain' }).end(f ? f[1] : 'not found');
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
});

/** CPU seconds used so far by this process's descendants (chromium's processes): a figure the machine's load does not inflate. */
function descendantCpuSeconds(): number {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return [{ pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }]; // utime + stime
    } catch { return []; } // gone meanwhile
  });
  const mine = new Set([process.pid]);
  let total = 0, grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) { mine.add(p.pid); total += p.ticks; grew = true; }
  }
  return total / 100; // clock ticks of 1/100 s
}

s.after(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok(null)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

s('every conv2d and matmul version, forced, matches the f64 reference on SwiftShader (or is unsupported for a missing feature)', async () => {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(url);
    await page.waitForFunction(() => typeof (globalThis as { runVersionTests?: unknown }).runVersionTests === 'function', null, { timeout: 20_000 });
    const choices = Object.fromEntries([conv2dFamily, matmulFamily].map((f) => [f.name, browserChoices(f as KernelFamily<never>)]));
    const report = await page.evaluate((c) => (globalThis as unknown as { runVersionTests(c: Record<string, string[]>): Promise<VersionReport> }).runVersionTests(c),
      choices);
    assert.equal(errors, [], 'no errors in the page');
    assert.ok(report.software && /swiftshader/i.test(report.adapter), `a SwiftShader adapter, got ${report.adapter}`);
    const total = report.results.reduce((t, r) => t + r.ms, 0);
    const cpu = existsSync('/proc/self/stat') ? `, chromium's processes ${descendantCpuSeconds().toFixed(1)} s of CPU so far` : '';
    console.log(`  ${report.adapter}; features: ${report.features.join(', ') || 'none'}; subgroup sizes ${report.subgroupSizes.join('-')}; ${report.results.length} choices in ${(total / 1000).toFixed(1)} s${cpu}`);
    for (const r of report.results) {
      console.log(`  ${r.family} ${r.choice}: ${r.status}${r.cases ? ` (${r.cases} cases)` : ''} ${r.ms.toFixed(0)} ms${r.message ? `: ${r.message.slice(0, 200)}` : ''}`);
    }
    for (const fam of ['conv2d', 'matmul']) {
      for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) assert.ok(report.results.some((r) => r.family === fam && r.choice === v), `${fam} ${v} was run`);
    }
    assert.ok(report.results.some((r) => r.choice === 'v6' && r.family === 'conv2d'), 'conv2d v6 was run or reported');
    assert.ok(report.results.some((r) => r.family === 'conv2d' && r.choice === 'v5(bm=32,bn=32)') && report.results.some((r) => r.family === 'matmul' && r.choice === 'v4(bm=32,bn=32)'),
      'the tile parameters of conv2d v5 and matmul v4 were run too');
    for (const r of report.results) {
      if (r.status === 'unsupported') {
        assert.ok(r.adapterLacks, `${r.family} ${r.choice} ran no shape: ${r.message}`);
      } else {
        assert.is(r.status, 'pass', `${r.family} ${r.choice}: ${r.message}`);
      }
    }
  } finally {
    await page.close();
  }
});

s.run();
