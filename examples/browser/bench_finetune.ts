// Fine-tuning on the demo page in Debian's chromium (WebGPU on SwiftShader): ms per step and the
// GPU bytes the page holds (buffers and textures, the runtime's resource counters) for the
// test's tiny model and the `npm run demo` model, head only and with the last stage. Each
// configuration runs in a fresh page (a fresh device), on the page's synthetic faces.
//   node --import tsx examples/browser/bench_finetune.ts [--steps 6]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { startServer } from './serve.ts';
import { ARCHS } from '../celeba-train/setup.ts';
import { initGpu, serializeSafetensors, type TensorToWrite } from '../../src/node.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '6' } } });
const steps = Number(values.steps);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const CONFIGS = [
  { what: 'test tiny model', size: 48, batch: 4, lastStage: false },
  { what: 'demo model', size: 64, batch: 16, lastStage: false },
  { what: 'demo model', size: 64, batch: 16, lastStage: true },
];

await initGpu();
const dir = mkdtempSync(join(tmpdir(), 'browser-finetune-bench-'));
mkdirSync(join(dir, 'models'));
const model = ARCHS['resnest-tiny'](40, 1);
const tensors = new Map<string, TensorToWrite>();
for (const [k, v] of await model.stateArrays()) tensors.set(`model.${k}`, v as TensorToWrite);
for (const size of new Set(CONFIGS.map((c) => c.size))) {
  const run = { format: 'celeba-train/1', options: { arch: 'resnest-tiny', imageSize: size, seed: 1 } };
  writeFileSync(join(dir, 'models', `tiny-${size}.safetensors`), serializeSafetensors(tensors, { run: JSON.stringify(run) }));
}
const server = await startServer({ port: 0, models: join(dir, 'models'), libFile: join(dir, 'lib', 'resnest-webgpu.browser.js') });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
try {
  console.log(`library bundle ${(server.sizes.lib / 1024).toFixed(1)} KiB, page bundle ${(server.sizes.app / 1024).toFixed(1)} KiB (minified)`);
  for (const c of CONFIGS) {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as any).resnestDemo?.state === 'ready', null, { timeout: 30_000 });
    await page.selectOption('#model-list', { label: `tiny-${c.size}.safetensors` });
    await page.waitForFunction(() => { const d = (globalThis as any).resnestDemo; return d.model && d.busy === 0; }, null, { timeout: 60_000 });
    await page.click('#ft-synthetic');
    for (const [id, v] of Object.entries({ '#ft-steps': steps, '#ft-batch': c.batch, '#ft-lr': 0.05, '#ft-seed': 1 })) await page.fill(id, String(v));
    if (c.lastStage) await page.check('#ft-last-stage');
    await page.click('#ft-train');
    const handle = await page.waitForFunction(() => {
      const d = (globalThis as any).resnestDemo;
      return d.finetune.state === 'error' ? { error: d.finetune.error } : d.finetune.state === 'done' && d.busy === 0 ? d.finetune : null;
    }, null, { timeout: 600_000 });
    const ft = await handle.jsonValue() as { error?: string; ms: number[]; gpuBytesBefore: number; gpuBytesPeak: number };
    if (ft.error) throw new Error(ft.error);
    const warm = ft.ms.slice(1).sort((a, b) => a - b);
    console.log(`resnest-tiny (${c.what}) ${c.size} px, batch ${c.batch}, ${c.lastStage ? 'head + layer4' : 'head only'}: ` +
      `first step ${ft.ms[0].toFixed(0)} ms (compiles the kernels), then median ${warm[Math.floor(warm.length / 2)].toFixed(0)} ms ` +
      `(min ${warm[0].toFixed(0)}); GPU bytes held ${(ft.gpuBytesBefore / 2 ** 20).toFixed(1)} MiB with the model, ` +
      `${(ft.gpuBytesPeak / 2 ** 20).toFixed(1)} MiB at most while training`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
}
