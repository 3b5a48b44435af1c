// The demo page: a checkpoint (fetched or picked) and a face image (dropped, picked, a webcam
// frame or a synthetic face) -> the eval transform on the CPU (the library's own transforms,
// identical to Node's) -> ResNeSt on WebGPU -> 40 attribute probabilities as bars.
// serve.ts bundles this file; the library import below becomes an import of the library bundle.
import * as lib from '../../src/browser.ts';
import type { RgbImage, PlanarImage } from '../../src/vision/index.ts';
import { CELEBA_ATTRIBUTES } from '../celeba-train/celeba/labels.ts';
import { celebaEvalTransform } from '../celeba-train/celeba/recipe.ts';
import { renderSyntheticImage, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH } from '../celeba-train/synthetic/render.ts';
import { outputNames, type FineTunedRun } from '../celeba-train/finetune_checkpoint.ts';
import { ARCHS, detectArch } from './archs.ts';
import { startFineTunePanel } from './finetune_panel.ts';

const { vision } = lib;
const ATTRS = CELEBA_ATTRIBUTES;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no #${id}`);
  return el as T;
};

interface LoadedModel {
  model: lib.nn.ResNeSt;
  /** One name per output: the 40 CelebA attributes, then any added by fine-tuning. */
  names: string[];
  /** The checkpoint's run metadata (null for a plain state_dict). */
  run: FineTunedRun | null;
  arch: string;
  imageSize: number;
  source: string;
  kind: 'trainer checkpoint' | 'state_dict';
  runs: number;
}

export interface DemoResult {
  id: number;
  probabilities: number[];
  logits: number[];
  /** the output names, in the order of probabilities */
  names: string[];
  /** upload + forward + readback, ms */
  ms: number;
  transformMs: number;
  first: boolean;
  transform: 'celeba' | 'resize';
  inputShape: [number, number];
  arch: string;
  imageSize: number;
  /** label of the image (file name, 'synthetic SEED/INDEX', 'webcam frame') */
  image: string;
}

/** What the page exposes for scripted use (the browser test reads it). */
interface DemoHandle {
  state: string;
  /** jobs (model loads, runs) queued or running */
  busy: number;
  gpu: { adapter: string; features: string[] } | null;
  model: { arch: string; imageSize: number; kind: string; source: string } | null;
  /** names of the loaded model's outputs */
  attributes: string[];
  image: { width: number; height: number; label: string } | null;
  last: DemoResult | null;
  error: string | null;
}

const demo: DemoHandle = { state: 'starting', busy: 0, gpu: null, model: null, attributes: [], image: null, last: null, error: null };
(globalThis as unknown as { resnestDemo: DemoHandle }).resnestDemo = demo;

let loaded: LoadedModel | null = null;
let image: { img: RgbImage; label: string } | null = null;
let resultId = 0;
let queue: Promise<unknown> = Promise.resolve();
/** Set once the device is lost: nothing can run until the page is reloaded. */
let deviceLost = false;

function setState(s: string): void {
  // a loss is final: a job that ends (or fails on the lost device) afterwards must not hide it
  if (deviceLost && s !== 'device-lost') return;
  demo.state = s;
  document.body.dataset.state = s;
}

function message(where: 'model-msg' | 'image-msg', text: string, error = false): void {
  const el = $(where);
  el.textContent = text;
  el.className = error ? 'msg error' : 'msg';
  if (error && !deviceLost) { demo.error = text; setState('error'); }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * One job at a time (model loads and runs share the device and the model). A job whose turn comes
 * after the device was lost (such as the load of the saved model that start-up queues) does not run.
 */
function serial(job: () => Promise<void>): Promise<void> {
  demo.busy++;
  const run = () => (deviceLost ? Promise.resolve() : job());
  const next = queue.then(run, run).finally(() => { demo.busy--; });
  queue = next.catch(() => undefined);
  return next;
}

// ---- WebGPU -------------------------------------------------------------------------------

function noWebGpu(title: string, text: string): void {
  $('no-webgpu-title').textContent = title;
  $('no-webgpu-text').textContent = text;
  $('no-webgpu').hidden = false;
  const status = $('gpu-status');
  status.textContent = 'no WebGPU';
  status.className = 'bad';
  for (const id of ['model-fetch', 'rerun']) ($(id) as HTMLButtonElement).disabled = true;
}

/** Everything that would need the GPU: without a device, or after its loss. */
function disableControls(): void {
  for (const id of ['model-fetch', 'synthetic', 'webcam', 'capture', 'rerun', 'ft-train', 'ft-synthetic']) ($(id) as HTMLButtonElement).disabled = true;
  for (const id of ['model-list', 'model-file', 'image-file', 'ft-pos-file', 'ft-neg-file']) ($(id) as HTMLInputElement | HTMLSelectElement).disabled = true;
}

async function startGpu(): Promise<boolean> {
  const nav = navigator as Navigator & { gpu?: GPU };
  if (!nav.gpu) {
    const insecure = !window.isSecureContext;
    noWebGpu('This browser has no WebGPU', insecure
      ? `navigator.gpu is missing because this page is not a secure context (${location.origin}). ` +
        'WebGPU needs https:// or http://localhost; open the page through localhost.'
      : 'navigator.gpu is missing. Use a browser with WebGPU: Chrome or Edge 113+ (on Linux, enable ' +
        'chrome://flags/#enable-unsafe-webgpu and Vulkan), Safari 26+, or Firefox 141+ on Windows. ' +
        'Nothing can run on this page without it.');
    setState('no-webgpu');
    return false;
  }
  try {
    // the library's own message for a missing adapter is about Node's drivers; say it for browsers
    if (!(await nav.gpu.requestAdapter({ powerPreference: 'high-performance' }))) {
      noWebGpu('WebGPU is present, but there is no adapter', 'navigator.gpu.requestAdapter() returned null: the ' +
        'browser has WebGPU but will not use this GPU (a blocklisted GPU or driver, or WebGPU switched off). ' +
        'chrome://gpu says why; on Linux, Chrome needs chrome://flags/#enable-unsafe-webgpu (and Vulkan).');
      setState('no-webgpu');
      return false;
    }
    const g = await lib.initGpu();
    const info = g.adapter;
    const adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') || 'unnamed adapter';
    demo.gpu = { adapter, features: [...g.features] };
    const status = $('gpu-status');
    status.textContent = `WebGPU: ${adapter}${g.features.has('shader-f16') ? ' · f16' : ''}`;
    status.title = `features used: ${[...g.features].join(', ') || 'none'}`;
    status.className = 'ok';
    let lossForced = false;
    g.device.lost.then((lost) => {
      // the page never destroys the device itself: 'destroyed' comes from leaving the page, or from the test hook
      if (lost.reason === 'destroyed' && !lossForced) return;
      deviceLost = true;
      disableControls();
      noWebGpu('The GPU device was lost', `${lost.message || lost.reason} Reload the page to start again.`);
      const reload = $('reload-page');
      reload.hidden = false;
      reload.addEventListener('click', () => location.reload(), { once: true });
      demo.error = `device lost: ${lost.message || lost.reason}`;
      setState('device-lost');
    });
    // ?test-hooks: the browser test forces a device loss, which a real browser gives only on a driver reset or GPU removal
    if (new URLSearchParams(location.search).has('test-hooks')) {
      (globalThis as unknown as { resnestTestHooks: object }).resnestTestHooks = {
        /** Destroys the device; resolves once the page has handled the loss (its handler runs first). */
        loseDevice: (): Promise<void> => { lossForced = true; g.device.destroy(); return g.device.lost.then(() => undefined); },
      };
    }
    showAdapter(g);
    return true;
  } catch (e) {
    noWebGpu('WebGPU is present but gave no usable device', `${errorText(e)} ` +
      'In Chrome, chrome://gpu shows why (a blocklisted GPU or driver, or WebGPU turned off).');
    setState('no-webgpu');
    return false;
  }
}

function showAdapter(g: lib.Gpu): void {
  const info = g.adapter, L = info.limits;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  const rows: [string, string][] = [
    ['adapter', [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' · ') || 'unnamed'],
    ['kind', info.software ? 'software (a CPU implementation: expect seconds per step)' : 'hardware'],
    ['features', [...g.features].join(', ') || 'none of timestamp-query, shader-f16, subgroups'],
    ['largest buffer', mib(L.maxBufferSize)],
    ['largest storage binding', `${mib(L.maxStorageBufferBindingSize)} (larger tensors run in chunks)`],
    ['storage buffers per stage', String(L.maxStorageBuffersPerShaderStage)],
    ['workgroup memory', `${L.maxComputeWorkgroupStorageSize} bytes`],
    ['invocations per workgroup', String(L.maxComputeInvocationsPerWorkgroup)],
  ];
  $('adapter-list').replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = k; dd.textContent = v;
    return [dt, dd];
  }));
}

// ---- checkpoints --------------------------------------------------------------------------

interface TrainerRun extends FineTunedRun { completedEpochs?: number; history?: { valAcc?: number }[] }

async function loadCheckpoint(bytes: Uint8Array, source: string): Promise<void> {
  const t0 = performance.now();
  const file = lib.parseSafetensors(bytes, source);
  const prefixed = [...file.tensors.keys()].some((k) => k.startsWith('model.'));
  let run: TrainerRun | null = null;
  if (file.metadata.run) {
    try { run = JSON.parse(file.metadata.run) as TrainerRun; } catch { throw new Error(`${source}: the "run" metadata is not JSON`); }
  }
  const state = new Map<string, lib.nn.StateArray>();
  for (const [k, t] of file.tensors) {
    if (!prefixed) state.set(k, t as lib.nn.StateArray);
    else if (k.startsWith('model.')) state.set(k.slice(6), t as lib.nn.StateArray);
  }
  const kind = prefixed ? 'trainer checkpoint' : 'state_dict';
  let arch = run?.options?.arch ?? null;
  let imageSize = run?.options?.imageSize ?? null;
  if (!arch) {
    const chosen = ($('arch') as HTMLSelectElement).value;
    arch = chosen === 'auto' ? detectArch(state) : chosen;
    if (!arch) {
      throw new Error(`${source}: the state_dict matches none of ${Object.keys(ARCHS).join(', ')}; ` +
        'pick the architecture it was made with');
    }
  }
  if (!ARCHS[arch]) throw new Error(`${source}: unknown architecture '${arch}' (this page knows ${Object.keys(ARCHS).join(', ')})`);
  if (!imageSize) imageSize = Number(($('image-size') as HTMLInputElement).value);
  if (!Number.isInteger(imageSize) || imageSize < 32) throw new Error(`image size must be an integer >= 32, got ${imageSize}`);
  const fc = state.get('fc.weight');
  if (!fc) throw new Error(`${source}: no fc.weight: not a ResNeSt state_dict${prefixed ? '' : ' (trainer checkpoints use model.* keys)'}`);
  if (fc.shape[0] !== ATTRS.length && run?.attributes === undefined) {
    throw new Error(`${source}: the classifier has ${fc.shape[0]} outputs, not the ${ATTRS.length} CelebA attributes ` +
      '(an ImageNet backbone needs training on CelebA first: see examples/celeba-train)');
  }
  const names = outputNames(run, fc.shape[0], source);
  const model = new lib.nn.ResNeSt({ ...ARCHS[arch], numClasses: names.length, seed: 0 });
  try {
    model.loadStateDict(state, { source });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  loaded?.model.dispose();
  loaded = { model, names, run, arch, imageSize, source, kind, runs: 0 };
  demo.model = { arch, imageSize, kind, source };
  demo.attributes = names;
  const params = model.numParameters();
  const epochs = run?.completedEpochs;
  const trained = epochs !== undefined ? ` · ${epochs} epoch${epochs === 1 ? '' : 's'}` : '';
  const lastAcc = run?.history?.at(-1)?.valAcc;
  const acc = typeof lastAcc === 'number' ? ` · val acc ${(100 * lastAcc).toFixed(1)}%` : '';
  const added = names.filter((n) => !(ATTRS as readonly string[]).includes(n));
  const tuned = added.length ? ` · fine-tuned: ${added.join(', ')}` : '';
  $('model-info').innerHTML = '';
  $('model-info').append(
    bold(arch), ` · ${kind} · ${imageSize}px input · ${(params / 1e6).toFixed(2)} M parameters${trained}${acc}${tuned}`,
    document.createElement('br'),
    `${shortName(source)} (${(bytes.length / 2 ** 20).toFixed(1)} MiB, loaded in ${(performance.now() - t0).toFixed(0)} ms)`,
  );
  message('model-msg', '');
}

function bold(text: string): HTMLElement {
  const b = document.createElement('b');
  b.textContent = text;
  return b;
}

const shortName = (s: string) => s.split('/').filter(Boolean).at(-1) ?? s;

async function fetchCheckpoint(url: string): Promise<void> {
  message('model-msg', `fetching ${url}…`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  await loadCheckpoint(new Uint8Array(await res.arrayBuffer()), url);
}

function modelJob(job: () => Promise<void>): Promise<void> {
  return serial(async () => {
    setState('loading-model');
    try {
      await job();
      setState('model-ready');
    } catch (e) {
      message('model-msg', errorText(e), true);
      return;
    }
    if (image) await infer();
  });
}

async function listServerModels(): Promise<void> {
  try {
    const res = await fetch('./models/');
    if (!res.ok) return;
    const names = (await res.json()) as string[];
    if (!Array.isArray(names) || names.length === 0) return;
    const select = $('model-list') as HTMLSelectElement;
    for (const n of names) select.append(new Option(n, `./models/${n.split('/').map(encodeURIComponent).join('/')}`));
    $('model-list-row').hidden = false;
  } catch { /* a plain static host: no list */ }
}

// ---- images -------------------------------------------------------------------------------

function rgbFromRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < width * height; p++, q += 4) {
    out[3 * p] = rgba[q]; out[3 * p + 1] = rgba[q + 1]; out[3 * p + 2] = rgba[q + 2];
  }
  return { width, height, data: out };
}

/** JPEG and PNG go through the library's decoders (the pixels Node sees); anything else through the browser's. */
async function decodeFile(file: Blob, name: string): Promise<RgbImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (vision.sniffFormat(bytes)) return vision.decodeImage(bytes, name);
  const bitmap = await createImageBitmap(file).catch(() => { throw new Error(`${name}: not an image this browser can decode`); });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  return rgbFromRgba(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, bitmap.height);
}

function drawRgb(canvas: HTMLCanvasElement, img: RgbImage): void {
  canvas.width = img.width; canvas.height = img.height;
  const pixels = new ImageData(img.width, img.height);
  for (let p = 0; p < img.width * img.height; p++) {
    pixels.data[4 * p] = img.data[3 * p]; pixels.data[4 * p + 1] = img.data[3 * p + 1];
    pixels.data[4 * p + 2] = img.data[3 * p + 2]; pixels.data[4 * p + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

/** The normalised CHW input shown as an image again (mean/std undone). */
function drawPlanar(canvas: HTMLCanvasElement, img: PlanarImage): void {
  canvas.width = img.width; canvas.height = img.height;
  const plane = img.width * img.height;
  const pixels = new ImageData(img.width, img.height);
  for (let c = 0; c < 3; c++) {
    const m = vision.IMAGENET_MEAN[c], s = vision.IMAGENET_STD[c];
    for (let p = 0; p < plane; p++) pixels.data[4 * p + c] = Math.round(255 * (img.data[c * plane + p] * s + m));
  }
  for (let p = 0; p < plane; p++) pixels.data[4 * p + 3] = 255;
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
}

function setImage(img: RgbImage, label: string): Promise<void> {
  return serial(async () => {
    image = { img, label };
    demo.image = { width: img.width, height: img.height, label };
    drawRgb($('preview') as HTMLCanvasElement, img);
    $('preview-caption').textContent = `${label} · ${img.width}×${img.height}`;
    message('image-msg', '');
    if (loaded) await infer();
  });
}

async function imageFromFile(file: File): Promise<void> {
  try {
    await setImage(await decodeFile(file, file.name), file.name);
  } catch (e) {
    message('image-msg', errorText(e), true);
  }
}

let stream: MediaStream | null = null;

async function startWebcam(): Promise<void> {
  const video = $('video') as HTMLVideoElement;
  if (stream) { // second click: stop
    for (const t of stream.getTracks()) t.stop();
    stream = null; video.hidden = true; $('capture').hidden = true; $('webcam').textContent = 'Use webcam';
    for (const b of Array.from(document.querySelectorAll<HTMLElement>('.cam'))) b.hidden = true;
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    message('image-msg', 'No camera API here (it needs https:// or localhost, and a browser that allows it).', true);
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' } });
  } catch (e) {
    message('image-msg', `Webcam not available: ${errorText(e)}`, true);
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  $('capture').hidden = false;
  for (const b of Array.from(document.querySelectorAll<HTMLElement>('.cam'))) b.hidden = false;
  $('webcam').textContent = 'Stop webcam';
}

/** The webcam's current frame (throws when it has none yet). */
function webcamFrame(): RgbImage {
  const video = $('video') as HTMLVideoElement;
  if (!stream || !video.videoWidth) throw new Error('The webcam has not delivered a frame yet.');
  const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(video, 0, 0);
  const frame = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return rgbFromRgba(frame.data, canvas.width, canvas.height);
}

function captureFrame(): void {
  try {
    void setImage(webcamFrame(), 'webcam frame');
  } catch (e) {
    message('image-msg', errorText(e), true);
  }
}

function syntheticFace(): void {
  const seed = Number(($('syn-seed') as HTMLInputElement).value);
  const index = Number(($('syn-index') as HTMLInputElement).value);
  if (!Number.isInteger(seed) || !Number.isInteger(index) || index < 0) {
    message('image-msg', 'synthetic face: seed and index must be integers (index >= 0)', true);
    return;
  }
  const { rgba } = renderSyntheticImage(seed, index);
  void setImage(rgbFromRgba(rgba, SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT), `synthetic ${seed}/${index}`);
}

// ---- inference ----------------------------------------------------------------------------

function chooseTransform(img: RgbImage): 'celeba' | 'resize' {
  const mode = ($('transform') as HTMLSelectElement).value;
  if (mode === 'celeba' || mode === 'resize') return mode;
  return img.width === SYNTHETIC_WIDTH && img.height === SYNTHETIC_HEIGHT ? 'celeba' : 'resize';
}

async function infer(): Promise<void> {
  if (!loaded || !image) return;
  const { model, imageSize } = loaded;
  const img = image.img;
  setState('running');
  $('timing').textContent = 'running…';
  try {
    const mode = chooseTransform(img);
    if (mode === 'celeba' && (img.width < 178 || img.height < 178)) {
      throw new Error(`the CelebA crop needs an image of at least 178×178 (this one is ${img.width}×${img.height}); choose "Resize"`);
    }
    const t0 = performance.now();
    const planar = mode === 'celeba'
      ? vision.applyEval(img, celebaEvalTransform(imageSize))
      : vision.normalize(vision.resize(img, ...vision.resizeOutputSize(img.height, img.width, imageSize)));
    const t1 = performance.now();
    const x = lib.Tensor.fromArray(planar.data, [1, 3, planar.height, planar.width]);
    let values: Float32Array;
    try {
      const logits = lib.noGrad(() => lib.tidy(() => model.forward(x)));
      try { values = await logits.toArray(); } finally { logits.dispose(); }
    } finally {
      x.dispose();
    }
    const t2 = performance.now();
    const first = loaded.runs++ === 0;
    const logits = Array.from(values);
    const result: DemoResult = {
      id: ++resultId, logits, names: loaded.names, probabilities: logits.map((v) => 1 / (1 + Math.exp(-v))), ms: t2 - t1, transformMs: t1 - t0,
      first, transform: mode, inputShape: [planar.height, planar.width], arch: loaded.arch, imageSize, image: image.label,
    };
    drawPlanar($('model-input') as HTMLCanvasElement, planar);
    $('input-caption').textContent = `model input · ${planar.width}×${planar.height}`;
    demo.last = result; // before drawing: the bars are drawn from demo.last
    showResult(result);
    demo.error = null;
    ($('rerun') as HTMLButtonElement).disabled = deviceLost;
    setState('done');
  } catch (e) {
    $('timing').textContent = 'failed';
    message('image-msg', errorText(e), true);
  }
}

function showResult(r: DemoResult): void {
  const timing = $('timing');
  timing.innerHTML = '';
  timing.append(bold(`${r.ms.toFixed(1)} ms`),
    ` inference on the GPU (upload, forward, readback${r.first ? '; first run, includes compiling the kernels' : ''})` +
    ` · eval transform on the CPU ${r.transformMs.toFixed(1)} ms (${r.transform === 'celeba' ? 'CenterCrop 178, Resize' : 'Resize'}` +
    ` to ${r.inputShape[1]}×${r.inputShape[0]}) · ${r.arch} · ${r.image}`);
  renderBars();
}

function renderBars(): void {
  const r = demo.last;
  const list = $('bars');
  if (!r) return;
  const names = r.names;
  const order = names.map((_, i) => i);
  if (($('sort') as HTMLSelectElement).value === 'prob') order.sort((a, b) => r.probabilities[b] - r.probabilities[a]);
  list.replaceChildren(...order.map((i) => {
    const p = r.probabilities[i];
    const li = document.createElement('li');
    li.className = `${p >= 0.5 ? 'pos' : 'neg'}${(ATTRS as readonly string[]).includes(names[i]) ? '' : ' new'}`;
    li.dataset.attribute = names[i];
    li.title = `${names[i]}: p = ${p.toFixed(4)} (logit ${r.logits[i].toFixed(3)})`;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = names[i].replace(/_/g, ' ');
    const track = document.createElement('span');
    track.className = 'track';
    const fill = document.createElement('span');
    fill.className = 'fill';
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'p';
    value.textContent = p.toFixed(3);
    li.append(name, track, value);
    return li;
  }));
}

// ---- wiring -------------------------------------------------------------------------------

function wire(): void {
  const archSelect = $('arch') as HTMLSelectElement;
  for (const name of Object.keys(ARCHS)) archSelect.append(new Option(name, name));
  $('model-fetch').addEventListener('click', () => {
    const url = ($('model-url') as HTMLInputElement).value.trim();
    if (!url) { message('model-msg', 'Enter the URL of a .safetensors file, or open one.', true); return; }
    void modelJob(() => fetchCheckpoint(url));
  });
  $('model-url').addEventListener('keydown', (e) => { if (e.key === 'Enter') $('model-fetch').click(); });
  $('model-list').addEventListener('change', () => {
    const url = ($('model-list') as HTMLSelectElement).value;
    if (!url) return;
    ($('model-url') as HTMLInputElement).value = url;
    void modelJob(() => fetchCheckpoint(url));
  });
  $('model-file').addEventListener('change', () => {
    const input = $('model-file') as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    void modelJob(async () => loadCheckpoint(new Uint8Array(await file.arrayBuffer()), file.name));
    input.value = '';
  });
  $('image-file').addEventListener('change', () => {
    const input = $('image-file') as HTMLInputElement;
    const file = input.files?.[0];
    if (file) void imageFromFile(file);
    input.value = '';
  });
  const drop = $('drop');
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = (e as DragEvent).dataTransfer?.files[0];
    if (file) void imageFromFile(file);
  });
  // a file dropped next to the zone should not navigate away from the page
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  $('webcam').addEventListener('click', () => void startWebcam());
  $('capture').addEventListener('click', captureFrame);
  $('synthetic').addEventListener('click', syntheticFace);
  $('rerun').addEventListener('click', () => void serial(infer));
  $('transform').addEventListener('change', () => void serial(infer));
  $('sort').addEventListener('change', renderBars);
}

// an error nothing caught (a rejected promise of a GPU callback) is shown, not left to the console
const unexpected = (text: string) => { message('model-msg', `unexpected error: ${text}`, true); };
window.addEventListener('error', (e) => unexpected(e.message));
window.addEventListener('unhandledrejection', (e) => unexpected(errorText(e.reason)));

wire();
if (await startGpu()) {
  setState('ready');
  const panel = startFineTunePanel({
    // the loaded model's buffers went with a lost device: nothing to train then
    current: () => (deviceLost ? null : loaded), serial, decodeFile, webcamFrame, setState,
    /** Loads checkpoint bytes in a job already running (no queueing) and reruns the current image. */
    replaceModel: async (bytes, source) => {
      await loadCheckpoint(bytes, source);
      if (image) await infer();
    },
    loadInJob: (bytes, source) => modelJob(() => loadCheckpoint(bytes, source)),
  });
  await listServerModels();
  await panel.restore();
} else {
  disableControls();
}
