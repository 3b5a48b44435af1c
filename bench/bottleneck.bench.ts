// One ResNeSt-50 split-attention bottleneck (layer1.1: 256 -> 64 -> grouped 3x3 2x64 with split
// attention -> 256, identity shortcut, training-mode batch norm), batch 8, the library's
// `Bottleneck` module through the autograd tape: forward, and forward + backward w.r.t. the
// input and every parameter. Scale: 56 x 56 (layer1 at ResNeSt-50's 224 input); --quick: 28 x 28.
// Each repetition is timed as a whole (submit + queue drain), since the tape's backward also
// records copies and clears. Peers: the same block from tfjs ops on the same Dawn adapter
// (bench/peers/tfjs_block.ts) and PyTorch CPU with 2 threads (bench/peers/torch_block.py).
// Validation: with the same weights, input and output gradient, our y, dx and parameter
// gradients are compared (relative L2 at up to 1024 sampled positions each) with both peers'
// (whichever are available).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from './harness.ts';
import { gpu, nn, noGrad, Rng, Tensor, tidy } from '../src/index.ts';

const { Bottleneck } = nn;
type ResNeStConfig = nn.ResNeStConfig;
import { tfjsBlockPeer, type TfBlockPeer } from './peers/tfjs_block.ts';

const TORCH = '/usr/bin/python3';
let torchOk: boolean | null = null;
function hasTorch(): boolean {
  if (torchOk === null) {
    try { execFileSync(TORCH, ['-c', 'import torch'], { stdio: 'ignore' }); torchOk = true; } catch { torchOk = false; }
  }
  return torchOk;
}

interface TorchOut { fwd: number; train: number; train_median: number; check?: Record<string, number[]> }

/** Runs bench/peers/torch_block.py; with `check`, first on our weights and data from a temp file. */
function runTorch(spec: object): TorchOut {
  const script = new URL('./peers/torch_block.py', import.meta.url).pathname;
  return JSON.parse(execFileSync(TORCH, [script, JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 26 })) as TorchOut;
}

/** 1024 positions spread over a tensor of n values (all of them when n is smaller). */
const sampleIdx = (n: number) => n <= 1024 ? Array.from({ length: n }, (_, i) => i)
  : Array.from({ length: 1024 }, (_, s) => Math.floor(((s * 2654435761) % 4294967296) / 4294967296 * n));

/**
 * Relative L2 difference over the sampled positions. Elementwise tolerances do not work here:
 * in float32 a few pre-activations land on the other side of a ReLU than in exact arithmetic,
 * and the batch-norm backwards subtract large means; PyTorch's own float32 gradients of this
 * block differ from its float64 ones by up to 11% of the largest |dx| at single elements, but by
 * 1e-3 in relative L2 (measured at 56 x 56). A wrong layout, statistic or attention gives O(1).
 */
function relL2(ours: Float32Array, idx: number[], theirs: ArrayLike<number>): number {
  let num = 0, den = 0;
  idx.forEach((i, k) => { num += (ours[i] - theirs[k]) ** 2; den += theirs[k] ** 2; });
  return Math.sqrt(num / Math.max(den, 1e-30));
}
const TOLERANCE = 2e-2;

function compare(keys: string[], ours: Map<string, Float32Array>, samples: Record<string, number[]>,
  theirs: (k: string) => ArrayLike<number>, peer: string): string {
  const errs = keys.map((k) => [k, relL2(ours.get(k)!, samples[k], theirs(k))] as const);
  const bad = errs.find(([, e]) => !(e <= TOLERANCE));
  if (bad) throw new Error(`${bad[0]} differs from ${peer}'s by ${bad[1].toExponential(2)} in relative L2 (tolerance ${TOLERANCE})`);
  return `${peer} (max relative L2 ${Math.max(...errs.map(([, e]) => e)).toExponential(1)})`;
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const side = opts.quick ? 28 : 56, N = 8, inplanes = 256, planes = 64;
  const cfg: Required<ResNeStConfig> = {
    layers: [3, 4, 6, 3], radix: 2, cardinality: 1, bottleneckWidth: 64, numClasses: 1000, deepStem: true, stemWidth: 32,
    avgDown: true, avd: true, avdFirst: false, planes: [64, 128, 256, 512], seed: 0,
  };
  const block = new Bottleneck(inplanes, planes, 1, null, cfg, false, new Rng(7));
  const rng = new Rng(3);
  const xData = Float32Array.from({ length: N * inplanes * side * side }, () => rng.normal());
  const dyData = Float32Array.from({ length: N * 4 * planes * side * side }, () => rng.normal());
  const x = Tensor.fromArray(xData, [N, inplanes, side, side], { requiresGrad: true });
  const dy = Tensor.fromArray(dyData, [N, 4 * planes, side, side]);
  const g = gpu();
  const leaves = () => [x, ...block.parameters()];
  const clearGrads = () => { for (const t of leaves()) { t.grad?.dispose(); t.grad = null; } };
  const forward = async () => {
    const y = tidy(() => noGrad(() => block.forward(x)));
    y.dispose();
    await g.recorder.sync();
  };
  const train = async () => {
    const y = tidy(() => block.forward(x));
    y.backward(dy);
    y.dispose();
    clearGrads();
    await g.recorder.sync();
  };
  const macs = block.macs(side, side).macs * N;
  const tag = `layer1 block [${N},${inplanes},${side},${side}]`;
  const spec = { n: N, inplanes, planes, h: side };

  // Peers, each set up once for both cases.
  let tfjs: Promise<TfBlockPeer> | null = null;
  const weights = async () => new Map(await Promise.all(block.namedParameters().map(async ([k, t]) =>
    [k, { data: await t.toArray(), shape: t.shape }] as const)));
  const tfjsPeer = () => (tfjs ??= (async () => tfjsBlockPeer(spec, await weights()))());
  let torchTimes: TorchOut | null = null;
  const torchPeer = () => (torchTimes ??= runTorch({ ...spec, repeats: opts.quick ? 3 : 5 }));

  const validate = async () => {
    const y = tidy(() => block.forward(x));
    y.backward(dy);
    const ours = new Map<string, Float32Array>([['y', await y.toArray()], ['dx', await x.grad!.toArray()]]);
    for (const [k, t] of block.namedParameters()) ours.set(`${k}.grad`, await t.grad!.toArray());
    y.dispose();
    clearGrads();
    for (const v of ours.values()) if (v.some((e) => !Number.isFinite(e))) throw new Error('non-finite values');
    const keys = ['y', 'dx', 'conv1.weight.grad', 'conv2.conv.weight.grad', 'conv2.fc1.weight.grad', 'conv2.fc2.bias.grad', 'bn3.weight.grad'];
    const samples = Object.fromEntries(keys.map((k) => [k, sampleIdx(ours.get(k)!.length)]));
    const checked: string[] = [];
    try {
      const peer = await tfjsPeer();
      const r = await peer.check(xData, dyData);
      const theirs = new Map<string, Float32Array>([['y', r.y], ['dx', r.dx], ...[...r.grads].map(([k, v]) => [`${k}.grad`, v] as [string, Float32Array])]);
      checked.push(compare(keys, ours, samples, (k) => samples[k].map((i) => theirs.get(k)![i]), 'tfjs'));
    } catch (e) {
      if ((e as Error).message.includes('relative L2')) throw e;
      console.error(`  (tfjs check skipped: ${(e as Error).message.split('\n')[0]})`);
    }
    if (hasTorch()) {
      const dir = mkdtempSync(join(tmpdir(), 'block-check-'));
      try {
        const named = [...block.namedParameters().map(([k, t]) => [k, t.shape] as const), ['x', x.shape] as const, ['dy', dy.shape] as const];
        const parts = [...(await weights()).values()].map((w) => w.data).concat([xData, dyData]);
        const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
        let at = 0;
        for (const p of parts) { bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at); at += p.byteLength; }
        writeFileSync(join(dir, 'block.bin'), bytes);
        const out = runTorch({ ...spec, repeats: opts.quick ? 3 : 5, check: { file: join(dir, 'block.bin'), tensors: named, samples } });
        torchTimes = out; // the timing of the same run serves as the peer's
        checked.push(compare(keys, ours, samples, (k) => out.check![k], 'torch'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.error(checked.length ? `  validated against ${checked.join(', ')}` : '  (no peer to validate against: only finiteness checked)');
  };

  let users = 2;
  const dispose = () => {
    if (--users > 0) return;
    x.dispose(); dy.dispose(); block.dispose();
    void tfjs?.then((p) => p.dispose()).catch(() => {});
  };
  const torchName = 'torch-cpu (2 threads)';
  const peersFor = (which: 'fwd' | 'train') => [
    { name: 'tfjs-webgpu', run: async () => (await tfjsPeer())[which](opts.quick ? 2 : 3) },
    ...(hasTorch() ? [{ name: torchName, run: async () => torchPeer()[which] }] : []),
  ];
  return [
    { family: 'bottleneck', name: `${tag} fwd+bwd`, flops: 3 * 2 * macs, items: N, runWall: train, validate,
      repeats: opts.quick ? 3 : 5, dispose, peers: peersFor('train') },
    { family: 'bottleneck', name: `${tag} fwd (training-mode BN)`, flops: 2 * macs, items: N, runWall: forward,
      repeats: opts.quick ? 3 : 5, dispose, peers: peersFor('fwd') },
  ];
}
