// The page's fine-tuning panel: images with and without a new attribute (files, drops, webcam
// frames or synthetic faces), then training one step per animation frame so the page keeps
// drawing (loss curve, ms per step, GPU memory), Stop, and the result loaded as the page's model
// from the checkpoint bytes it would download, which also stay in IndexedDB so a reload restores them.
import * as lib from '../../src/browser.ts';
import { AttributeFineTuner, type StepReport } from '../../src/browser.ts';
import type { RgbImage } from '../../src/vision/index.ts';
import { fineTunedCheckpoint } from '../celeba-train/finetune_checkpoint.ts';
import { syntheticAttributeSets } from '../celeba-train/synthetic/attribute_sets.ts';
import { RENDERED_ATTRIBUTES } from '../celeba-train/synthetic/render.ts';
import type { FineTunedRun } from '../celeba-train/finetune_checkpoint.ts';

/** What the panel needs of the page's model. */
export interface PanelModel {
  model: lib.nn.ResNeSt;
  names: string[];
  run: FineTunedRun | null;
  arch: string;
  imageSize: number;
}

export interface PanelContext {
  current(): PanelModel | null;
  serial(job: () => Promise<void>): Promise<void>;
  decodeFile(file: Blob, name: string): Promise<RgbImage>;
  webcamFrame(): RgbImage;
  setState(s: string): void;
  /** Replaces the model from checkpoint bytes inside a running job, then reruns the current image. */
  replaceModel(bytes: Uint8Array, source: string): Promise<void>;
  /** Queues a model load from checkpoint bytes. */
  loadInJob(bytes: Uint8Array, source: string): Promise<void>;
}

/** What the panel exposes on window.resnestDemo.finetune (the browser test reads it). */
export interface FineTuneHandle {
  state: 'idle' | 'training' | 'done' | 'stopped' | 'error';
  attribute: string | null;
  positives: number;
  negatives: number;
  losses: number[];
  ms: number[];
  /** GPU bytes held (buffers and textures, the runtime's resource counters): before training and the most during it. */
  gpuBytesBefore: number;
  gpuBytesPeak: number;
  /** Bytes of the fine-tuned checkpoint, once made. */
  checkpointBytes: number;
  error: string | null;
}

const MIN_PER_CLASS = 8;
const DB = 'resnest-webgpu-demo', STORE = 'checkpoints', KEY = 'fine-tuned';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no #${id}`);
  return el as T;
};
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const gpuBytes = () => { const st = lib.gpu().resources.stats(); return st.buffers.liveBytes + st.textures.liveBytes; };
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

// ---- IndexedDB: the last fine-tuned checkpoint survives a reload ---------------------------

function openDb(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

async function dbDo<T>(mode: IDBTransactionMode, act: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((ok, fail) => {
      const req = act(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => ok(req.result as T);
      req.onerror = () => fail(req.error);
    });
  } finally {
    db.close();
  }
}

interface Saved { bytes: Uint8Array; name: string; savedAt: string }

// ---- the panel ------------------------------------------------------------------------------

export function startFineTunePanel(ctx: PanelContext): { restore(): Promise<void> } {
  const handle: FineTuneHandle = {
    state: 'idle', attribute: null, positives: 0, negatives: 0, losses: [], ms: [], gpuBytesBefore: 0, gpuBytesPeak: 0,
    checkpointBytes: 0, error: null,
  };
  (globalThis as unknown as { resnestDemo: { finetune: FineTuneHandle } }).resnestDemo.finetune = handle;
  const sets: Record<'pos' | 'neg', { image: RgbImage; label: string }[]> = { pos: [], neg: [] };
  let stopRequested = false;
  let lastCheckpoint: { bytes: Uint8Array; name: string } | null = null;

  const msg = (text: string, error = false) => {
    const el = $('ft-msg');
    el.textContent = text;
    el.className = error ? 'msg error' : 'msg';
    if (error) { handle.error = text; handle.state = 'error'; }
  };

  const canTrain = () => !!ctx.current() && handle.state !== 'training' && sets.pos.length >= MIN_PER_CLASS &&
    sets.neg.length >= MIN_PER_CLASS && $<HTMLInputElement>('ft-name').value.trim() !== '';
  const refresh = () => {
    for (const k of ['pos', 'neg'] as const) $(`ft-${k}-count`).textContent = `${sets[k].length}${sets[k].length < MIN_PER_CLASS ? ` (need ${MIN_PER_CLASS})` : ''}`;
    handle.positives = sets.pos.length; handle.negatives = sets.neg.length;
    $<HTMLButtonElement>('ft-train').disabled = !canTrain();
    $<HTMLButtonElement>('ft-stop').disabled = handle.state !== 'training';
    $<HTMLButtonElement>('ft-save').disabled = !lastCheckpoint || handle.state === 'training';
  };

  function thumb(img: RgbImage, label: string): HTMLCanvasElement {
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height; c.title = label;
    const px = new ImageData(img.width, img.height);
    for (let p = 0; p < img.width * img.height; p++) {
      px.data[4 * p] = img.data[3 * p]; px.data[4 * p + 1] = img.data[3 * p + 1]; px.data[4 * p + 2] = img.data[3 * p + 2]; px.data[4 * p + 3] = 255;
    }
    c.getContext('2d')!.putImageData(px, 0, 0);
    return c;
  }

  const add = (k: 'pos' | 'neg', image: RgbImage, label: string) => {
    sets[k].push({ image, label });
    $(`ft-${k}-thumbs`).append(thumb(image, label));
  };

  async function addFiles(k: 'pos' | 'neg', files: FileList | File[]): Promise<void> {
    try {
      for (const f of Array.from(files)) add(k, await ctx.decodeFile(f, f.name), f.name);
      msg('');
    } catch (e) {
      msg(errorText(e), true);
    }
    refresh();
  }

  function clear(): void {
    for (const k of ['pos', 'neg'] as const) { sets[k] = []; $(`ft-${k}-thumbs`).replaceChildren(); }
    refresh();
  }

  function drawCurve(): void {
    const canvas = $<HTMLCanvasElement>('ft-curve');
    const g = canvas.getContext('2d')!;
    const W = canvas.width, H = canvas.height, pad = { l: 46, r: 10, t: 10, b: 22 };
    g.clearRect(0, 0, W, H);
    g.font = '11px system-ui, sans-serif'; g.fillStyle = '#677285'; g.strokeStyle = '#e1e5eb';
    const losses = handle.losses;
    const steps = Math.max(Number($<HTMLInputElement>('ft-steps').value) || 1, losses.length, 2);
    const top = Math.max(...losses, 1e-6) * 1.1;
    const x = (i: number) => pad.l + (i / (steps - 1)) * (W - pad.l - pad.r);
    const y = (v: number) => pad.t + (1 - v / top) * (H - pad.t - pad.b);
    for (const f of [0, 0.5, 1]) {
      g.beginPath(); g.moveTo(pad.l, y(f * top)); g.lineTo(W - pad.r, y(f * top)); g.stroke();
      g.fillText((f * top).toFixed(3), 4, y(f * top) + 4);
    }
    g.fillText('0', pad.l, H - 6);
    g.fillText(`step ${steps - 1}`, x(steps - 1) - 44, H - 6);
    if (!losses.length) return;
    g.strokeStyle = g.fillStyle = '#1f6feb'; g.lineWidth = 2; g.beginPath();
    losses.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke(); g.lineWidth = 1;
    const end = losses.length - 1;
    g.beginPath(); g.arc(x(end), y(losses[end]), 3, 0, 2 * Math.PI); g.fill();
  }

  function status(r: StepReport | null, total: number): void {
    const el = $('ft-status');
    el.replaceChildren();
    if (!r) { el.textContent = 'starting: the first step also compiles the training kernels…'; return; }
    const ms = [...handle.ms].sort((a, b) => a - b);
    const median = ms[Math.floor(ms.length / 2)];
    const b = document.createElement('b');
    b.textContent = `step ${r.step + 1}/${total}`;
    el.append(b, ` · loss ${r.loss.toFixed(4)} · this step ${r.ms.toFixed(0)} ms · median ${median.toFixed(0)} ms/step` +
      ` · GPU memory ${mib(handle.gpuBytesPeak)} at most (${mib(handle.gpuBytesBefore)} before training)`);
  }

  const nextFrame = () => new Promise<void>((ok) => (document.hidden ? setTimeout(ok, 0) : requestAnimationFrame(() => ok())));

  async function train(): Promise<void> {
    const base = ctx.current();
    const attribute = $<HTMLInputElement>('ft-name').value.trim();
    if (!base) { msg('Load a model first.', true); return; }
    if (base.names.includes(attribute)) { msg(`The model already has an output named "${attribute}"; choose another name.`, true); return; }
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    const steps = num('ft-steps');
    if (!Number.isInteger(steps) || steps < 1) { msg('steps must be an integer >= 1', true); return; }
    const total = sets.pos.length + sets.neg.length;
    Object.assign(handle, { state: 'training', attribute, losses: [], ms: [], error: null, checkpointBytes: 0 });
    stopRequested = false;
    msg('');
    refresh();
    await ctx.serial(async () => {
      ctx.setState('training');
      let tuner: AttributeFineTuner | null = null;
      let replaced = false;
      try {
        handle.gpuBytesBefore = handle.gpuBytesPeak = gpuBytes();
        tuner = new AttributeFineTuner(base.model, {
          attribute, positives: sets.pos.map((e) => e.image), negatives: sets.neg.map((e) => e.image), imageSize: base.imageSize,
          seed: num('ft-seed'), batch: Math.min(num('ft-batch'), total), lr: num('ft-lr'), lastStage: $<HTMLInputElement>('ft-last-stage').checked,
          minPerClass: MIN_PER_CLASS,
        });
        status(null, steps);
        drawCurve();
        for (let i = 0; i < steps && !stopRequested; i++) {
          await nextFrame(); // one step per frame: the page draws between steps
          const r = await tuner.step();
          handle.losses.push(r.loss); handle.ms.push(r.ms);
          handle.gpuBytesPeak = Math.max(handle.gpuBytesPeak, gpuBytes());
          status(r, steps);
          drawCurve();
        }
        const bytes = await fineTunedCheckpoint(tuner, { run: base.run, arch: base.arch, imageSize: base.imageSize, attributes: base.names });
        handle.checkpointBytes = bytes.length;
        const name = `${base.arch}-${attribute}.safetensors`;
        // the page's model becomes the checkpoint's: what a reload, a download or predict gets
        await ctx.replaceModel(bytes, `fine-tuned ${attribute}`);
        replaced = true;
        tuner.dispose(); // after the old model (whose trained stage lives in its arenas) was disposed
        tuner = null;
        lastCheckpoint = { bytes, name };
        try {
          await dbDo('readwrite', (s) => s.put({ bytes, name, savedAt: new Date().toISOString() } satisfies Saved, KEY));
          $<HTMLButtonElement>('ft-forget').disabled = false;
        } catch (e) {
          msg(`trained, but could not keep it in this browser (IndexedDB): ${errorText(e)}`);
        }
        handle.state = stopRequested ? 'stopped' : 'done';
        ctx.setState('fine-tuned');
      } catch (e) {
        // head only, the model was never written: free the head and its optimizer. With the last
        // stage, layer4 lives in the optimizer's arena: keep it allocated, with the values it had
        // before the run (a failed step has written them back; a failure after the steps, here)
        const lastStage = tuner?.options.lastStage ?? false;
        let restored = true;
        if (tuner && lastStage && !replaced) {
          try { tuner.restoreModel(); } catch { restored = false; }
        }
        if (tuner && !lastStage) tuner.dispose();
        msg(`fine-tuning failed: ${errorText(e)}${restored ? '' : ' The last stage could not be restored: load the checkpoint again.'}`, true);
        ctx.setState('error');
      } finally {
        refresh();
      }
    });
  }

  function save(): void {
    if (!lastCheckpoint) return;
    const url = URL.createObjectURL(new Blob([lastCheckpoint.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url; a.download = lastCheckpoint.name;
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // wiring
  const attrSelect = $<HTMLSelectElement>('ft-syn-attr');
  for (const a of RENDERED_ATTRIBUTES) attrSelect.append(new Option(a.replace(/_/g, ' '), a));
  attrSelect.value = 'Eyeglasses';
  $('ft-synthetic').addEventListener('click', () => {
    const attr = attrSelect.value;
    const { positives, negatives } = syntheticAttributeSets(attr, MIN_PER_CLASS, 2024);
    clear();
    for (const e of positives) add('pos', e.image, e.label);
    for (const e of negatives) add('neg', e.image, e.label);
    // a drawn attribute is also one of the 40: the new head gets a name of its own
    if (!$<HTMLInputElement>('ft-name').value.trim()) $<HTMLInputElement>('ft-name').value = `Drawn_${attr}`;
    refresh();
  });
  for (const k of ['pos', 'neg'] as const) {
    const input = $<HTMLInputElement>(`ft-${k}-file`);
    input.addEventListener('change', () => { if (input.files?.length) void addFiles(k, Array.from(input.files)).then(() => { input.value = ''; }); });
    const zone = $(`ft-${k}`);
    for (const ev of ['dragenter', 'dragover']) zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add('over'); });
    for (const ev of ['dragleave', 'drop']) zone.addEventListener(ev, () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault(); e.stopPropagation();
      const files = (e as DragEvent).dataTransfer?.files;
      if (files?.length) void addFiles(k, files);
    });
    $(`ft-${k}-cam`).addEventListener('click', () => {
      try { add(k, ctx.webcamFrame(), `webcam frame ${sets[k].length + 1}`); msg(''); } catch (e) { msg(errorText(e), true); }
      refresh();
    });
  }
  $('ft-name').addEventListener('input', refresh);
  $('ft-clear').addEventListener('click', clear);
  $('ft-train').addEventListener('click', () => void train());
  $('ft-stop').addEventListener('click', () => { stopRequested = true; $<HTMLButtonElement>('ft-stop').disabled = true; });
  $('ft-save').addEventListener('click', save);
  $('ft-forget').addEventListener('click', () => {
    void dbDo('readwrite', (s) => s.delete(KEY)).then(() => { $<HTMLButtonElement>('ft-forget').disabled = true; msg('The saved fine-tuned model is forgotten.'); });
  });
  // the model list, a load or a run changes what Train may do
  new MutationObserver(refresh).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
  drawCurve();
  refresh();

  return {
    /** Loads the fine-tuned checkpoint kept in IndexedDB, if any. */
    async restore(): Promise<void> {
      let saved: Saved | undefined;
      try { saved = await dbDo<Saved | undefined>('readonly', (s) => s.get(KEY)); } catch { return; }
      if (!saved) return;
      lastCheckpoint = { bytes: saved.bytes, name: saved.name };
      $<HTMLButtonElement>('ft-forget').disabled = false;
      await ctx.loadInJob(saved.bytes, `saved in this browser: ${saved.name}`);
      refresh();
    },
  };
}
