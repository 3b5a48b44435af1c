// Memory over a long training loop: a small ResNeSt (new batch uploaded every step, focal loss
// with smoothed targets, backward, SGD with momentum, the loss read back), sampled ten times:
// GPU buffers and textures (created, live, live MB: every one the project makes, counted by
// src/gpu/resources.ts), bind groups created and cached, and the process's RSS and JS heap.
// The verdict says whether it is flat after warm-up: nothing created and live GPU bytes unchanged
// from the first sample on, and RSS over the second half of the run within max(16 MB, 5%) (RSS
// climbs for the first ~100 steps as V8 and the driver size their heaps: +30 MB over 200 steps,
// all of it in the first 100, on lavapipe; a leak keeps climbing).
// In `npm run bench` it is the 'memory' family: 1000 steps (200 with --quick); --memory-steps N.
// Standalone: node --import tsx bench/memory.bench.ts [--steps N]
import { pathToFileURL } from 'node:url';
import { F, gpu, initGpu, nn, optim, releaseDevice, Rng, Tensor, tidy } from '../src/index.ts';
import type { BenchCase } from './harness.ts';

const WARMUP_STEPS = 5;
const SAMPLES = 10;
const [BATCH, SIZE] = [4, 32];
const MODEL = 'ResNeSt [1,1,1,1], stem 8, planes 8-24, 40 classes';

export interface MemorySample {
  step: number; buffersCreated: number; liveBuffers: number; gpuMB: number; texturesCreated: number; liveTextures: number;
  bindGroupsCreated: number; bindGroupCache: number; rssMB: number; heapMB: number;
}

export interface MemoryTrace { steps: number; samples: MemorySample[]; flat: boolean; verdict: string; msPerStep: number }

function sample(step: number): MemorySample {
  const g = gpu(), r = g.resources.stats(), mem = process.memoryUsage();
  return {
    step, buffersCreated: r.buffers.created, liveBuffers: r.buffers.live,
    gpuMB: (r.buffers.liveBytes + r.textures.liveBytes) / 2 ** 20,
    texturesCreated: r.textures.created, liveTextures: r.textures.live,
    bindGroupsCreated: r.bindGroups.created, bindGroupCache: g.recorder.bindGroupCacheSize,
    rssMB: mem.rss / 2 ** 20, heapMB: mem.heapUsed / 2 ** 20,
  };
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

function judge(samples: MemorySample[]): { flat: boolean; verdict: string } {
  const first = samples[0], last = samples[samples.length - 1];
  const middle = samples.find((x) => x.step >= last.step / 2)!;
  const problems: string[] = [];
  const grew = (what: string, a: number, b: number) => { if (b !== a) problems.push(`${what} ${a} -> ${b}`); };
  grew('buffers created', first.buffersCreated, last.buffersCreated);
  grew('live buffers', first.liveBuffers, last.liveBuffers);
  grew('textures created', first.texturesCreated, last.texturesCreated);
  grew('bind groups created', first.bindGroupsCreated, last.bindGroupsCreated);
  if (Math.abs(last.gpuMB - first.gpuMB) > 0) problems.push(`GPU MB ${first.gpuMB.toFixed(2)} -> ${last.gpuMB.toFixed(2)}`);
  const rssLimit = Math.max(16, 0.05 * middle.rssMB);
  if (last.rssMB - middle.rssMB > rssLimit) {
    problems.push(`RSS ${middle.rssMB.toFixed(0)} -> ${last.rssMB.toFixed(0)} MB from step ${middle.step} to ${last.step} (over +${rssLimit.toFixed(0)} MB)`);
  }
  return problems.length
    ? { flat: false, verdict: `NOT flat after warm-up: ${problems.join('; ')}` }
    : { flat: true, verdict: `flat after warm-up: 0 buffers, textures and bind groups created, GPU bytes unchanged; ` +
      `RSS ${signed(last.rssMB - middle.rssMB)} MB from step ${middle.step} to ${last.step} (${signed(last.rssMB - first.rssMB)} MB from step 0)` };
}

interface TrainingLoop { step: () => Promise<void>; dispose: () => void }

/** The model, optimizer and one step, warmed up (pipelines, pool buckets, staging, bind groups). */
async function warmLoop(): Promise<TrainingLoop> {
  const model = new nn.ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 8, planes: [8, 12, 16, 24], numClasses: 40, seed: 1 });
  const opt = new optim.SGD(optim.splitWeightDecayGroups(model.parameters(), 1e-4), { lr: 0.05, momentum: 0.9 });
  const rng = new Rng(2);
  const alpha = Float32Array.from({ length: 40 }, (_, j) => (j % 3 === 2 ? -1 : 0.25));
  const step = async () => {
    const x = Tensor.fromArray(Float32Array.from({ length: BATCH * 3 * SIZE * SIZE }, () => rng.normal()), [BATCH, 3, SIZE, SIZE]);
    opt.zeroGrad();
    const logits = tidy(() => model.forward(x));
    const y = Tensor.fromArray(Float32Array.from({ length: BATCH * 40 }, () => (rng.uniform() < 0.3 ? 0.95 : 0.05)), [BATCH, 40]);
    const loss = tidy(() => F.sigmoidFocalLoss(logits, y, { alpha, gamma: 2 }));
    loss.backward();
    opt.step();
    const { value, nonFinite } = await F.readLoss(loss);
    for (const t of [x, y, logits, loss]) t.dispose();
    if (nonFinite || !Number.isFinite(value)) throw new Error(`memory bench: non-finite loss ${value}`);
  };
  for (let i = 0; i < WARMUP_STEPS; i++) await step();
  await gpu().recorder.sync();
  return { step, dispose: () => model.dispose() };
}

/** Trains a warmed-up loop for `steps` steps, sampling SAMPLES times. */
async function trace(loop: TrainingLoop, steps: number): Promise<MemoryTrace> {
  const samples = [sample(0)];
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    await loop.step();
    if (i % Math.floor(steps / SAMPLES) === 0 || i === steps) samples.push(sample(i));
  }
  const msPerStep = (performance.now() - t0) / steps;
  return { steps, samples, msPerStep, ...judge(samples) };
}

/** Warm-up, then `steps` steps sampled SAMPLES times. */
export async function traceMemory(steps: number): Promise<MemoryTrace> {
  checkSteps(steps, 'steps');
  const loop = await warmLoop();
  try { return await trace(loop, steps); } finally { loop.dispose(); }
}

export function formatTrace(t: MemoryTrace): string {
  const head = ['step', 'buffers created', 'live', 'GPU MB', 'textures created', 'live', 'bind groups created', 'cached', 'RSS MB', 'heap MB'];
  const rows = t.samples.map((s) => [s.step, s.buffersCreated, s.liveBuffers, s.gpuMB.toFixed(2), s.texturesCreated, s.liveTextures,
    s.bindGroupsCreated, s.bindGroupCache, s.rssMB.toFixed(1), s.heapMB.toFixed(1)].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  return [`${MODEL}, batch ${BATCH}, ${SIZE}x${SIZE}; ${t.steps} steps after ${WARMUP_STEPS} warm-up, ${t.msPerStep.toFixed(1)} ms/step`,
    line(head), ...rows.map(line), t.verdict].join('\n');
}

function checkSteps(n: number, what: string): number {
  if (!Number.isInteger(n) || n < SAMPLES) throw new Error(`memory bench: ${what} must be an integer >= ${SAMPLES}, got ${n}`);
  return n;
}

function stepsFlag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const raw = process.argv[i + 1];
  if (!/^\d+$/.test(raw ?? '')) throw new Error(`memory bench: ${name} needs a whole number of steps, got ${raw ?? 'nothing'}`);
  return checkSteps(Number(raw), name);
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const steps = stepsFlag('--memory-steps', opts.quick ? 200 : 1000);
  // built and warmed up here, so the case's per-repetition counts are those of the steady loop
  const loop = await warmLoop();
  let result: MemoryTrace | null = null;
  return [{
    family: 'memory',
    name: `memory over ${steps} training steps (${MODEL}, batch ${BATCH}, ${SIZE}x${SIZE})`,
    warmup: 0,
    repeats: 1,
    runWall: async () => {
      result = await trace(loop, steps);
      console.log(formatTrace(result).replace(/^/gm, '  '));
    },
    details: () => (result ? { memory: result } : {}),
    dispose: () => loop.dispose(),
  }];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await initGpu();
  const trace = await traceMemory(stepsFlag('--steps', 1000));
  console.log(formatTrace(trace));
  await releaseDevice();
  process.exit(trace.flat ? 0 : 1);
}
