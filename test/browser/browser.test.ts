// The demo page in a real browser: Debian's chromium (WebGPU on SwiftShader, no GPU needed),
// driven by playwright-core. The page loads a tiny ResNeSt checkpoint saved here, classifies a
// synthetic face, and its 40 probabilities must equal the ones this process computes with the
// same library on Dawn, within atol 1e-4 + rtol 1e-3 (SwiftShader and lavapipe are both f32
// but sum in different orders). Also checked: the browser bundle (ESM, no Node built-ins, WGSL
// embedded, source map), both checkpoint kinds, the file pickers, and the no-WebGPU message.
// Leaves screenshots in test/artifacts/ (browser-page.png, browser-no-webgpu.png).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../examples/browser/serve.ts';
import { ARCHS as PAGE_ARCHS, detectArch } from '../../examples/browser/archs.ts';
import { ARCHS as TRAINER_ARCHS } from '../../examples/celeba-train/setup.ts';
import { noGrad, tidy } from '../../src/index.ts';
import { Tensor } from '../../src/tensor.ts';
import { ResNeSt } from '../../src/nn/index.ts';
import { serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors.ts';
import { applyEval, decodeImage, encodeJpeg, type RgbImage } from '../../src/vision/index.ts';
import { celebaEvalTransform, renderSyntheticImage, CELEBA_ATTRIBUTES, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH } from '../../examples/celeba-train/celeba/index.ts';
import { assertClose, setupGpu } from '../helpers.ts';
import { perturbedState } from './perturbed_state.ts';

const TOL = { atol: 1e-4, rtol: 1e-3 };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];
const ARCH = 'resnest-tiny';
const SEED = 11;
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

const s = suite('browser: demo page in chromium (WebGPU on SwiftShader)');

let dir = '';
let server: RunningServer | null = null;
let browser: Browser | null = null;
let page: Page | null = null;
let model: ResNeSt | null = null;
const pageErrors: string[] = [];

function rgbFromRgba(rgba: Uint8Array, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) out[3 * p + c] = rgba[4 * p + c];
  return { width, height, data: out };
}

/** The library on this process's Dawn device: probabilities for one image under the CelebA eval transform. */
async function nodeProbabilities(img: RgbImage, size: number): Promise<{ probs: number[]; logits: number[] }> {
  const planar = applyEval(img, celebaEvalTransform(size));
  const x = Tensor.fromArray(planar.data, [1, 3, planar.height, planar.width]);
  const out = noGrad(() => tidy(() => model!.forward(x)));
  const logits = Array.from(await out.toArray());
  x.dispose(); out.dispose();
  return { logits, probs: logits.map((v) => 1 / (1 + Math.exp(-v))) };
}

interface PageResult { id: number; probabilities: number[]; logits: number[]; ms: number; first: boolean;
  transform: string; inputShape: [number, number]; arch: string; imageSize: number; image: string }

/** Runs `action`, waits until the page has nothing queued, and returns its latest result (throws its error). */
async function settle(p: Page, action: () => Promise<void>): Promise<PageResult | null> {
  await p.waitForFunction(() => (globalThis as any).resnestDemo.busy === 0, null, { timeout: 40_000 });
  const before = await p.evaluate(() => (globalThis as any).resnestDemo.last?.id ?? 0);
  await action();
  // a job is queued synchronously by the click / change handler, except after reading a picked file
  const handle = await p.waitForFunction((id) => {
    const d = (globalThis as any).resnestDemo;
    if (d.error) return { error: d.error };
    return d.busy === 0 && (d.last?.id ?? 0) > id ? { last: d.last } : null;
  }, before, { timeout: 40_000 });
  const value = await handle.jsonValue() as { last: PageResult } | { error: string };
  if ('error' in value) throw new Error(`page: ${value.error}`);
  return value.last;
}

/** After a model load was started: waits for it (and any run it started) to finish. */
async function modelLoaded(p: Page, kind: string): Promise<void> {
  const handle = await p.waitForFunction((k) => {
    const d = (globalThis as any).resnestDemo;
    return d.error ? { error: d.error } : d.model?.kind === k && d.busy === 0 ? { ok: true } : null;
  }, kind, { timeout: 40_000 });
  const value = await handle.jsonValue() as { error?: string };
  if (value.error) throw new Error(`page: ${value.error}`);
}

async function nextResult(p: Page, action: () => Promise<void>, image: string): Promise<PageResult> {
  const r = await settle(p, action);
  assert.ok(r, 'a result');
  assert.is(r!.image, image, 'the result is for the image just given');
  return r!;
}

function maxAbsDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

s.before(async () => {
  await setupGpu();
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run WITH_BROWSER=1 bash scripts/setup.sh (installs Debian's chromium), or set CHROMIUM_PATH`);
  }
  dir = mkdtempSync(join(tmpdir(), 'resnest-browser-test-'));
  const models = join(dir, 'models');
  mkdirSync(models);
  model = TRAINER_ARCHS[ARCH](CELEBA_ATTRIBUTES.length, SEED);
  const state = await perturbedState(model, SEED + 1, [-2.5, 2.5]); // the classifier bias spreads the probabilities over (0, 1)
  model.loadStateDict(state);
  model.eval();
  // a trainer checkpoint (model.* keys, run metadata naming arch and image size, optimizer state)...
  const trainer = new Map<string, TensorToWrite>();
  for (const [k, v] of state) trainer.set(`model.${k}`, v as TensorToWrite);
  trainer.set('optim.momentum.0', { dtype: 'F32', shape: [3], data: new Float32Array(3) });
  const run = { format: 'celeba-train/1', completedEpochs: 3, options: { arch: ARCH, imageSize: 96, seed: SEED }, history: [{ valAcc: 0.871 }] };
  writeFileSync(join(models, 'tiny-trainer.safetensors'), serializeSafetensors(trainer, { run: JSON.stringify(run) }));
  // ...and the same weights as a plain state_dict with the official keys
  writeFileSync(join(dir, 'tiny-state-dict.safetensors'), serializeSafetensors(state as Map<string, TensorToWrite>));
  server = await startServer({ port: 0, models, libFile: join(dir, 'lib', 'resnest-webgpu.browser.js') });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(server.url);
  await page.waitForFunction(() => ['ready', 'no-webgpu'].includes((globalThis as any).resnestDemo?.state), null, { timeout: 20_000 });
});

s.after(async () => {
  await browser?.close();
  await server?.close();
  model?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

s('the browser bundle: ESM, no Node built-ins, WGSL embedded, source map of src/ with the browser provider', () => {
  const file = join(dir, 'lib', 'resnest-webgpu.browser.js');
  const js = readFileSync(file, 'utf8');
  assert.match(js, /export\s*\{[^}]*\}\s*;?\s*\/\/# sourceMappingURL=resnest-webgpu\.browser\.js\.map\s*$/);
  assert.not.match(js, /\brequire\(|from\s*["'](node:|fs|path|url|worker_threads|os)["']|import\(\s*["']node:/);
  const shader = readFileSync(fileURLToPath(new URL('../../shaders/conv2d_tiled.wgsl', import.meta.url)), 'utf8');
  const line = shader.split('\n').find((l) => /@compute/.test(l))!;
  assert.ok(js.includes(JSON.stringify(line).slice(1, -1)), 'conv2d_tiled.wgsl is embedded');
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
  const has = (name: string) => map.sources.some((p) => p.endsWith(name));
  for (const f of ['src/gpu/provider_browser.ts', 'src/nn/resnest.ts', 'kernels/conv2d.ts', 'src/vision/decode.ts']) assert.ok(has(f), f);
  for (const f of ['src/gpu/provider_node.ts', 'src/gpu/dawn.ts', 'kernels/wgsl_source.ts']) assert.not.ok(has(f), f);
  const gz = gzipSync(js).length;
  console.log(`  browser bundle: ${(js.length / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped; ` +
    `page bundle ${(server!.sizes.app / 1024).toFixed(1)} KiB`);
});

s('the page finds a WebGPU adapter (SwiftShader here) and lists the served checkpoints', async () => {
  const demo = await page!.evaluate(() => (globalThis as any).resnestDemo);
  assert.is(demo.state, 'ready', `page state ${demo.state}: ${await page!.textContent('#no-webgpu')}`);
  assert.ok(await page!.isHidden('#no-webgpu'));
  console.log(`  adapter: ${demo.gpu.adapter}; features: ${demo.gpu.features.join(', ') || 'none'}`);
  // SwiftShader offers no shader-f16: everything below runs on the kernels' f32 versions
  if (/swiftshader/i.test(demo.gpu.adapter)) assert.not.ok(demo.gpu.features.includes('shader-f16'));
  const options = await page!.$$eval('#model-list option', (os) => os.map((o) => o.textContent));
  assert.ok(options.includes('tiny-trainer.safetensors'), options.join(', '));
});

s('trainer checkpoint over fetch + synthetic face: the 40 probabilities equal Node\'s', async () => {
  const p = page!;
  await p.selectOption('#model-list', { label: 'tiny-trainer.safetensors' });
  await modelLoaded(p, 'trainer checkpoint');
  const loaded = await p.evaluate(() => (globalThis as any).resnestDemo);
  assert.equal(loaded.model, { arch: ARCH, imageSize: 96, kind: 'trainer checkpoint', source: './models/tiny-trainer.safetensors' });
  await p.fill('#syn-seed', '2024');
  await p.fill('#syn-index', '3');
  const first = await nextResult(p, () => p.click('#synthetic'), 'synthetic 2024/3');
  assert.is(first.transform, 'celeba');
  assert.equal(first.inputShape, [96, 96]);
  const { rgba } = renderSyntheticImage(2024, 3);
  const ref = await nodeProbabilities(rgbFromRgba(rgba, SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT), 96);
  assertClose(first.probabilities, ref.probs, TOL, 'probabilities (browser vs Node)');
  console.log(`  trainer checkpoint, synthetic 2024/3 at 96 px: max |p diff| ${maxAbsDiff(first.probabilities, ref.probs).toExponential(2)}, ` +
    `max |logit diff| ${maxAbsDiff(first.logits, ref.logits).toExponential(2)}; first run ${first.ms.toFixed(0)} ms`);
  const again = await nextResult(p, () => p.click('#rerun'), 'synthetic 2024/3');
  assert.not.ok(again.first);
  assert.equal(again.probabilities, first.probabilities, 'a second run gives the same numbers');
  console.log(`  second run ${again.ms.toFixed(0)} ms`);
  mkdirSync(artifacts, { recursive: true });
  await p.screenshot({ path: join(artifacts, 'browser-page.png'), fullPage: true });
});

s('plain state_dict and a JPEG through the file pickers (architecture detected from the shapes)', async () => {
  const p = page!;
  await p.selectOption('#arch', 'auto');
  await p.fill('#image-size', '80');
  await p.setInputFiles('#model-file', join(dir, 'tiny-state-dict.safetensors'));
  await modelLoaded(p, 'state_dict');
  const demo = await p.evaluate(() => (globalThis as any).resnestDemo);
  assert.equal(demo.model, { arch: ARCH, imageSize: 80, kind: 'state_dict', source: 'tiny-state-dict.safetensors' });
  // the new model ran at once on the image already there
  const rerun = demo.last as PageResult;
  assert.is(rerun.image, 'synthetic 2024/3');
  assert.equal(rerun.inputShape, [80, 80]);
  const { rgba: rgba3 } = renderSyntheticImage(2024, 3);
  const ref3 = await nodeProbabilities(rgbFromRgba(rgba3, SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT), 80);
  assertClose(rerun.probabilities, ref3.probs, TOL, 'probabilities (browser vs Node)');
  const { rgba } = renderSyntheticImage(2024, 7);
  const jpeg = encodeJpeg(rgba, SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT, 92);
  const res = await nextResult(p, () => p.setInputFiles('#image-file', { name: 'face.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg) }), 'face.jpg');
  assert.equal(res.inputShape, [80, 80]);
  const ref = await nodeProbabilities(decodeImage(jpeg, 'face.jpg'), 80);
  assertClose(res.probabilities, ref.probs, TOL, 'probabilities (browser vs Node)');
  console.log(`  state_dict at 80 px: max |p diff| ${Math.max(maxAbsDiff(rerun.probabilities, ref3.probs), maxAbsDiff(res.probabilities, ref.probs)).toExponential(2)}, ` +
    `max |logit diff| ${Math.max(maxAbsDiff(rerun.logits, ref3.logits), maxAbsDiff(res.logits, ref.logits)).toExponential(2)} (synthetic 2024/3 and face.jpg)`);
  assert.equal(pageErrors, [], 'no errors in the page');
});

s('the page names the problem when the browser has no WebGPU', async () => {
  const p = await browser!.newPage({ viewport: { width: 1100, height: 500 } });
  try {
    await p.addInitScript(() => { delete (Navigator.prototype as { gpu?: unknown }).gpu; });
    await p.goto(server!.url);
    await p.waitForFunction(() => (globalThis as any).resnestDemo?.state === 'no-webgpu', null, { timeout: 10_000 });
    assert.ok(await p.isVisible('#no-webgpu'));
    assert.match(await p.textContent('#no-webgpu') ?? '', /This browser has no WebGPU[\s\S]*navigator\.gpu is missing/);
    assert.ok(await p.isDisabled('#synthetic'));
    await p.screenshot({ path: join(artifacts, 'browser-no-webgpu.png') });
  } finally {
    await p.close();
  }
});

s('the page names the problem when WebGPU gives no adapter (chromium without --enable-unsafe-webgpu)', async () => {
  const plain = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS.filter((f) => f !== '--enable-unsafe-webgpu'), headless: true });
  try {
    const p = await plain.newPage();
    await p.goto(server!.url);
    await p.waitForFunction(() => (globalThis as any).resnestDemo?.state === 'no-webgpu', null, { timeout: 10_000 });
    assert.match(await p.textContent('#no-webgpu') ?? '', /WebGPU is present, but there is no adapter[\s\S]*requestAdapter\(\) returned null/);
  } finally {
    await plain.close();
  }
});

s('every page architecture builds the trainer\'s model of that name (shapes detected back)', () => {
  assert.equal(Object.keys(PAGE_ARCHS).sort(), Object.keys(TRAINER_ARCHS).sort());
  const m = TRAINER_ARCHS.resnest14(CELEBA_ATTRIBUTES.length, 0);
  try {
    const shapes = new Map([...m.stateDict()].map(([k, v]) => [k, { shape: v instanceof Tensor ? [...v.shape] : [] }]));
    assert.is(detectArch(shapes), 'resnest14');
  } finally {
    m.dispose();
  }
  const tiny = new Map([...model!.stateDict()].map(([k, v]) => [k, { shape: v instanceof Tensor ? [...v.shape] : [] }]));
  assert.is(detectArch(tiny), ARCH);
});

s.run();
