// End-to-end training step (forward, focal loss, backward, SGD) of a ResNeSt on random data:
// img/s, model FLOPs / time as a fraction of the adapter's measured FMA peak, and per step the
// command submissions, dispatches (in all and per op kind) and new buffer allocations (steady
// state: 1 submission, 0 allocations); with --profile also each kernel's time,
// with --profile=shapes each kernel's at each shape.
// In `npm run bench` this is the 'end-to-end' section (endToEndCases): ResNeSt-50, batch 8,
// at 64 x 64 always and at 224 x 224 without --quick, and without --quick the training shape of
// the report, 320 x 320 at batch 32 (tensors over the binding limit, run in batch chunks), with
// PyTorch CPU (2 threads) running the same step (bench/peers/torch_step.py) as the peer. Each
// case also gives the peak RSS of this process (on a CPU adapter the GPU's memory is host memory)
// beside the peer's, and the GPU buffers and textures the library holds.
// Standalone: node --import tsx bench/train_step.ts [arch] [size] [batch] [steps] [--warmup N] [--profile[=shapes]]
// (defaults resnest-tiny 64 32 3, 2 warm-up steps)
import { execFileSync } from 'node:child_process';
import { F, gpu, initGpu, nn, optim, Rng, Tensor, tidy } from '../src/index.ts';

const { readLoss } = F;
const { SGD, splitWeightDecayGroups } = optim;
const { ResNeSt, resnest50, resnest14 } = nn;
type ResNeSt = nn.ResNeSt;
import type { BenchCase, Peer } from './harness.ts';
import { watchHostMemory, type HostMemory } from './host_memory.ts';

export interface StepResult {
  arch: string; size: number; batch: number; msPerStep: number; imagesPerSec: number; gflops: number;
  submissionsPerStep: number; dispatchesPerStep: number; dispatchesByKind: Record<string, number>;
  buffersCreatedPerStep: number;
  /** Pooled buffers handed out between steps (the batch and the loss; parameters, gradients and momenta live in the optimizer's arenas), MB. */
  liveMB: number;
  /** Every GPU buffer and texture the library holds after the steps (the pools keep each step's working set), MB. */
  gpuMB: number;
  /** This process's peak resident set size over building the model and the steps (bench/host_memory.ts). */
  host: HostMemory;
}

/** The op kind of a dispatch label: its first word ('batchnorm2d+relu', 'SGD'), conv2d with its pass ('conv2d bwd_input'). */
export function dispatchKind(label: string): string {
  const words = label.split(' ');
  return words[0] === 'conv2d' ? words.slice(0, 2).join(' ') : words[0];
}

/** Runs `body` counting the dispatches it records per op kind, divided by `per` (the recorder's observer must be free). */
export async function countDispatchKinds(body: () => Promise<unknown>, per = 1): Promise<Record<string, number>> {
  const recorder = gpu().recorder, counts: Record<string, number> = {};
  if (recorder.onDispatch) throw new Error('countDispatchKinds: the recorder already has a dispatch observer');
  recorder.onDispatch = (_pipeline, label) => { const k = dispatchKind(label); counts[k] = (counts[k] ?? 0) + 1; };
  try { await body(); } finally { recorder.onDispatch = null; }
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, n / per]));
}

export const ARCHS: Record<string, () => ResNeSt> = {
  resnest50: () => resnest50({ numClasses: 40 }),
  resnest14: () => resnest14({ numClasses: 40 }),
  'resnest-tiny': () => new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses: 40 }),
};

export type StepPhase = 'forward' | 'backward' | 'optimizer';

export interface TrainStep {
  /** One step; resolves to the loss once the GPU has finished it (one 4-byte readback). */
  step: () => Promise<number>;
  /** Records one step's commands into the open batch without submitting them; `phase` hears where each phase starts. */
  record: (phase?: (name: StepPhase) => void) => Tensor;
  /** Model FLOPs of one step: 3 x the forward's 2 x MACs (the backward counts twice the forward). */
  flops: number;
  dispose: () => void;
}

/** ResNeSt training step on fixed random images and 40 binary attributes, SGD momentum 0.9, weight decay 1e-4. */
export function makeTrainStep(arch: string, size: number, batch: number): TrainStep {
  const model = ARCHS[arch]();
  const opt = new SGD(splitWeightDecayGroups(model.parameters(), 1e-4), { lr: 0.01, momentum: 0.9 });
  const rng = new Rng(1);
  const x = Tensor.fromArray(Float32Array.from({ length: batch * 3 * size * size }, () => rng.normal()), [batch, 3, size, size]);
  const y = Tensor.fromArray(Float32Array.from({ length: batch * 40 }, () => (rng.uniform() < 0.3 ? 1 : 0)), [batch, 40]);
  const record = (phase?: (name: StepPhase) => void) => {
    phase?.('forward');
    opt.zeroGrad();
    const loss = tidy(() => F.sigmoidFocalLoss(model.forward(x), y, { alpha: 0.25, gamma: 2 }));
    phase?.('backward');
    loss.backward();
    phase?.('optimizer');
    opt.step();
    return loss;
  };
  const step = async () => {
    const loss = record();
    const { value, nonFinite } = await readLoss(loss);
    loss.dispose();
    return nonFinite ? NaN : value;
  };
  return {
    step,
    record,
    flops: 3 * 2 * model.macs(size, size) * batch,
    dispose: () => { x.dispose(); y.dispose(); opt.dispose(); model.dispose(); },
  };
}

export async function benchTrainStep(arch: string, size: number, batch: number, steps: number, profile: false | 'kernels' | 'shapes' = false, warmup = 2): Promise<StepResult> {
  await initGpu();
  const g = gpu();
  const memory = watchHostMemory();
  const t = makeTrainStep(arch, size, batch);
  for (let i = 0; i < warmup; i++) await t.step(); // pipelines, pool buckets, bind groups
  const profiler = profile ? g.recorder.startProfiling() : null;
  const created = () => { const r = g.resources.stats(); return r.buffers.created + r.textures.created; };
  const subs0 = g.recorder.stats.submissions, dispatches0 = g.recorder.stats.dispatches, created0 = created();
  const t0 = performance.now();
  const dispatchesByKind = await countDispatchKinds(async () => { for (let i = 0; i < steps; i++) await t.step(); }, steps);
  const ms = (performance.now() - t0) / steps;
  const result: StepResult = {
    arch, size, batch, msPerStep: ms, imagesPerSec: (1000 * batch) / ms,
    gflops: t.flops / (ms * 1e6),
    submissionsPerStep: (g.recorder.stats.submissions - subs0) / steps,
    dispatchesPerStep: (g.recorder.stats.dispatches - dispatches0) / steps,
    dispatchesByKind,
    buffersCreatedPerStep: (created() - created0) / steps,
    liveMB: g.pool.stats.liveBytes / 2 ** 20,
    gpuMB: gpuHeldMB(),
    host: memory.stop(),
  };
  if (profiler) {
    const entries = await profiler.collect(profile === 'shapes');
    const total = entries.reduce((s, e) => s + e.ms, 0);
    for (const e of entries.slice(0, profile === 'shapes' ? 120 : 40)) console.log(`${e.name.padEnd(36)} ${(e.ms / steps).toFixed(2).padStart(9)} ms/step ${(100 * e.ms / total).toFixed(1).padStart(5)}%  ${e.count / steps} dispatches/step`);
  }
  t.dispose();
  return result;
}

/** Every GPU buffer and texture the library holds now, MB. */
export function gpuHeldMB(): number {
  const r = gpu().resources.stats();
  return (r.buffers.liveBytes + r.textures.liveBytes) / 2 ** 20;
}

const TORCH = '/usr/bin/python3';

/** PyTorch CPU's time and host memory for the same step (bench/peers/torch_step.py), when /usr/bin/python3 has torch. */
function torchStepPeer(size: number, batch: number, steps: number, first: boolean): Peer | null {
  try { execFileSync(TORCH, ['-c', 'import torch'], { stdio: 'ignore' }); } catch { return null; }
  const measure = () => {
    const script = new URL('./peers/torch_step.py', import.meta.url).pathname;
    const out = execFileSync(TORCH, [script, JSON.stringify({ batch, sizes: [size], steps: [steps], warmup: 1 })], { encoding: 'utf8' });
    const r = (JSON.parse(out) as { results: { ms: number; peak_rss_mb: number | null; start_rss_mb: number | null }[] }).results[0];
    return r.peak_rss_mb !== null && r.start_rss_mb !== null
      ? { ms: r.ms, host: { peakRssMB: r.peak_rss_mb, startRssMB: r.start_rss_mb } } : r.ms;
  };
  // The report's shape needs about 9 GB in PyTorch and 15 GB in our process, whose freed GPU
  // memory lavapipe does not hand back to the system: run PyTorch before ours ever allocates.
  const early = first ? measure() : null;
  return { name: 'torch-cpu (2 threads)', run: async () => early ?? measure() };
}

/** The shapes of the 'end-to-end' section: size, batch, and the whole steps run before and in the timing. */
export function endToEndShapes(quick: boolean): { size: number; batch: number; warmup: number; repeats: number }[] {
  return [
    { size: 64, batch: 8, warmup: 2, repeats: quick ? 2 : 3 },
    // tens of seconds per step on a CPU adapter
    ...(quick ? [] : [{ size: 224, batch: 8, warmup: 1, repeats: 2 }]),
    // the report's training shape: 8 times the 224 x 224 batch-8 step's FLOPs, several minutes a step
    // on a CPU adapter, so one warm-up (after the validation step, itself a whole step) and one timed
    ...(quick ? [] : [{ size: 320, batch: 32, warmup: 1, repeats: 1 }]),
  ];
}

/** The 'end-to-end' section of `npm run bench`: ResNeSt-50 training steps (endToEndShapes). */
export function endToEndCases(opts: { quick: boolean }): BenchCase[] {
  const arch = 'resnest50', shapes = endToEndShapes(opts.quick);
  const counter = ARCHS[arch]();
  const macs = new Map(shapes.map(({ size }) => [size, counter.macs(size, size)]));
  counter.dispose();
  return shapes.map(({ size, batch, warmup, repeats }) => {
    const peer = torchStepPeer(size, batch, repeats + 1, batch * size * size > 2 ** 21);
    return trainStepCase(arch, size, batch, { repeats, warmup, flops: 3 * 2 * macs.get(size)! * batch, peers: peer ? [peer] : [], hostMemory: true });
  });
}

/** One training step as a wall-clock benchmark case; the step is built on first use (flops, when not given, build it). */
export function trainStepCase(arch: string, size: number, batch: number,
  o: { repeats: number; warmup: number; flops?: number; peers?: BenchCase['peers']; hostMemory?: boolean }): BenchCase {
  let t: TrainStep | null = null;
  const get = () => (t ??= makeTrainStep(arch, size, batch));
  let dispatchesByKind: Record<string, number> | null = null;
  return {
    family: 'end-to-end',
    name: `${arch === 'resnest50' ? 'ResNeSt-50' : arch} train step, batch ${batch}, ${size}x${size}`,
    flops: o.flops ?? get().flops,
    items: batch,
    warmup: o.warmup,
    repeats: o.repeats,
    validate: async () => {
      let loss = NaN;
      const step = get(); // the model's initialisation (its 'full' fills) is not a step's work
      await gpu().recorder.sync();
      dispatchesByKind = await countDispatchKinds(async () => { loss = await step.step(); });
      if (!Number.isFinite(loss) || loss <= 0) throw new Error(`loss ${loss}`);
    },
    // gpuMB: every buffer and texture the library holds after the timed steps (the pools keep the step's working set)
    details: () => ({ ...(dispatchesByKind ? { dispatchesByKind } : {}), gpuMB: gpuHeldMB(), liveMB: gpu().pool.stats.liveBytes / 2 ** 20 }),
    runWall: async () => { await get().step(); },
    dispose: () => { t?.dispose(); t = null; },
    ...(o.peers ? { peers: o.peers } : {}),
    ...(o.hostMemory ? { hostMemory: true } : {}),
  };
}

if (process.argv[1]?.endsWith('train_step.ts')) {
  const args = process.argv.slice(2), at = args.indexOf('--warmup');
  const warmup = at >= 0 ? Number(args[at + 1]) : 2;
  if (!(warmup >= 0)) throw new Error(`--warmup takes a number of steps, not ${args[at + 1]}`);
  const [arch = 'resnest-tiny', size = '64', batch = '32', steps = '3'] = args.filter((a, i) => !a.startsWith('--') && !(at >= 0 && i === at + 1));
  const profile = args.includes('--profile=shapes') ? 'shapes' : args.includes('--profile') ? 'kernels' : false;
  const bad = args.find((a) => a.startsWith('--') && !['--warmup', '--profile', '--profile=shapes'].includes(a));
  if (bad) throw new Error(`unknown option ${bad}: takes --warmup N, --profile, --profile=shapes`);
  const r = await benchTrainStep(arch, Number(size), Number(batch), Number(steps), profile, warmup);
  console.log(JSON.stringify(r));
  process.exit(0);
}
