// tfjs-webgpu peer for bench/bottleneck.bench.ts: the ResNeSt-50 layer1 split-attention
// bottleneck built from tfjs ops on the same Dawn adapter as the library, forward and
// backward (tf.grads w.r.t. the input and every parameter). tfjs layouts: NHWC activations,
// [kh, kw, in, out] filters, [in, out] matrices for the attention MLP.
//
//   conv1 1x1 (tf.conv2d) -> BN (tf.moments + tf.batchNorm, batch statistics) -> ReLU
//   grouped 3x3 conv, groups = radix: split + one tf.conv2d per group + concat -> BN -> ReLU
//   radix sum (reshape + sum) -> global average (mean) -> fc1 (matMul + bias) -> BN -> ReLU
//   -> fc2 (matMul + bias) -> rSoftmax (softmax across the radix) -> attention-weighted sum
//   conv3 1x1 -> BN -> + input -> ReLU
//
// Running statistics are not updated (tfjs has no in-place update inside a gradient tape);
// that is 5 small vectors per block. Gradients: tfjs-core's Node build registers none, so
// every tfjs-core gradient that bench/peers/tfjs.ts has not registered is taken from
// tfjs-core's own gradient sources (dist/gradients/*.js, bundled here once with esbuild,
// since Node cannot import those extensionless ESM files directly).
// Timing: best wall clock after a warm-up; each run ends by reading back one scalar that
// depends on every output (a sum of sums), so that the readback of large gradients is not
// counted, as the library's timing ends at the queue drain; waits use the library's polite
// polling so that tfjs gets the second core too.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import { libraryWait } from '../../src/node.ts';
import { bestMs, tfjsWebgpu } from './tfjs.ts';

type Tf = typeof import('@tensorflow/tfjs-core');

let gradientsDone: Promise<number> | null = null;

/** Registers tfjs-core's own gradient for every kernel that has none yet; resolves to how many. */
export function registerTfjsGradients(tf: Tf): Promise<number> {
  gradientsDone ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = join(require.resolve('@tensorflow/tfjs-core/package.json'), '..', 'dist', 'gradients');
    const files = readdirSync(dir).filter((f) => f.endsWith('_grad.js'));
    const entry = files.map((f, i) => `export * as g${i} from ${JSON.stringify(join(dir, f))};`).join('\n');
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      stdin: { contents: entry, resolveDir: dir, loader: 'js' }, bundle: true, format: 'esm', platform: 'node',
      write: false, logLevel: 'silent',
    });
    const dirTmp = mkdtempSync(join(tmpdir(), 'tfjs-grads-'));
    const file = join(dirTmp, 'gradients.mjs');
    writeFileSync(file, out.outputFiles[0].contents);
    // The bundle carries its own copy of tfjs-core's ops; they run on the one engine that
    // tfjs-core keeps on the global object, and tensors cross copies (Symbol.hasInstance).
    let mod: Record<string, Record<string, unknown>>;
    try { mod = (await import(pathToFileURL(file).href)) as typeof mod; } finally { rmSync(dirTmp, { recursive: true, force: true }); }
    let n = 0;
    for (const ns of Object.values(mod)) {
      for (const cfg of Object.values(ns)) {
        const c = cfg as { kernelName?: string; gradFunc?: unknown };
        if (c && typeof c === 'object' && typeof c.kernelName === 'string' && typeof c.gradFunc === 'function' && !tf.getGradient(c.kernelName)) {
          tf.registerGradient(c as Parameters<Tf['registerGradient']>[0]);
          n++;
        }
      }
    }
    return n;
  })();
  return gradientsDone;
}

export interface TfBlockSpec { n: number; inplanes: number; planes: number; h: number; radix?: number }

/** A parameter in PyTorch's layout under its state_dict name (conv1.weight, conv2.fc1.bias, ...). */
export interface TorchParam { data: Float32Array; shape: readonly number[] }

export interface TfBlockPeer {
  /** y, dx (NCHW) and the parameter gradients (PyTorch layouts and names) for x, dy in NCHW. */
  check(x: Float32Array, dy: Float32Array): Promise<{ y: Float32Array; dx: Float32Array; grads: Map<string, Float32Array> }>;
  fwd(repeats?: number): Promise<number>;
  train(repeats?: number): Promise<number>;
  dispose(): void;
}

const WEIGHT_KEYS = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.conv.weight', 'conv2.bn0.weight', 'conv2.bn0.bias',
  'conv2.fc1.weight', 'conv2.fc1.bias', 'conv2.bn1.weight', 'conv2.bn1.bias', 'conv2.fc2.weight', 'conv2.fc2.bias',
  'conv3.weight', 'bn3.weight', 'bn3.bias'] as const;

export async function tfjsBlockPeer(s: TfBlockSpec, weights?: ReadonlyMap<string, TorchParam>): Promise<TfBlockPeer> {
  const tf = await tfjsWebgpu();
  await registerTfjsGradients(tf);
  const R = s.radix ?? 2, C = s.planes, width = s.planes, out = 4 * s.planes, N = s.n, H = s.h;
  const inter = Math.max(Math.floor((width * R) / 4), 32);
  if (out !== s.inplanes) throw new Error('tfjs block: the identity shortcut needs inplanes = 4 * planes');
  const shapes: Record<(typeof WEIGHT_KEYS)[number], number[]> = {
    'conv1.weight': [width, s.inplanes, 1, 1], 'bn1.weight': [width], 'bn1.bias': [width],
    'conv2.conv.weight': [width * R, width / R, 3, 3], 'conv2.bn0.weight': [width * R], 'conv2.bn0.bias': [width * R],
    'conv2.fc1.weight': [inter, width, 1, 1], 'conv2.fc1.bias': [inter], 'conv2.bn1.weight': [inter], 'conv2.bn1.bias': [inter],
    'conv2.fc2.weight': [width * R, inter, 1, 1], 'conv2.fc2.bias': [width * R],
    'conv3.weight': [out, width, 1, 1], 'bn3.weight': [out], 'bn3.bias': [out],
  };
  // PyTorch layout -> tfjs layout: conv [o, i, kh, kw] -> [kh, kw, i, o]; 1x1 fc [o, i, 1, 1] -> [i, o]
  const isFc = (key: string) => key.startsWith('conv2.fc') && key.endsWith('.weight');
  const toTf = (key: string, t: Tensor): Tensor => {
    if (isFc(key)) return tf.transpose(tf.reshape(t, t.shape.slice(0, 2)), [1, 0]);
    if (t.rank === 4) return tf.transpose(t, [2, 3, 1, 0]);
    return t;
  };
  const fromTf = (key: string, t: Tensor): Tensor => {
    if (isFc(key)) return tf.reshape(tf.transpose(t, [1, 0]), [...t.shape].reverse().concat([1, 1]));
    if (t.rank === 4) return tf.transpose(t, [3, 2, 0, 1]);
    return t;
  };
  const params = WEIGHT_KEYS.map((key) => tf.tidy(() => {
    const given = weights?.get(key);
    if (given && given.shape.join() !== shapes[key].join()) throw new Error(`tfjs block: ${key} has shape [${given.shape}], want [${shapes[key]}]`);
    const torchT = given ? tf.tensor(given.data, shapes[key]) : key.endsWith('.bias') && !key.startsWith('conv2.fc')
      ? tf.zeros(shapes[key]) : key.includes('bn') ? tf.ones(shapes[key]) : tf.mul(tf.randomNormal(shapes[key]), 0.05);
    return toTf(key, torchT);
  }));

  const bn = (t: Tensor, gamma: Tensor, beta: Tensor, axes: number[]) => {
    const { mean, variance } = tf.moments(t, axes);
    return tf.batchNorm(t, mean, variance, beta as Tensor1D, gamma as Tensor1D, 1e-5);
  };
  const block = (x: Tensor, p: Tensor[]): Tensor => {
    const [w1, g1, b1, w2, g0, b0, f1w, f1b, gb1, bb1, f2w, f2b, w3, g3, b3] = p;
    const a = tf.relu(bn(tf.conv2d(x as Tensor4D, w1 as Tensor4D, 1, 'valid'), g1, b1, [0, 1, 2]));
    const xs = tf.split(a, R, 3), ws = tf.split(w2, R, 3);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
    const u = tf.relu(bn(tf.concat(xs.map((xg, k) => tf.conv2d(xg as Tensor4D, ws[k] as Tensor4D, 1, pad)), 3), g0, b0, [0, 1, 2]));
    const u5 = tf.reshape(u, [N, H, H, R, C]);
    const gap = tf.mean(tf.sum(u5, 3), [1, 2]) as Tensor2D; // [N, C]
    const z = tf.relu(bn(tf.add(tf.matMul(gap, f1w as Tensor2D), f1b), gb1, bb1, [0]));
    const logits = tf.add(tf.matMul(z as Tensor2D, f2w as Tensor2D), f2b); // [N, R*C], radix-major
    const att = tf.transpose(tf.softmax(tf.transpose(tf.reshape(logits, [N, R, C]), [0, 2, 1])), [0, 2, 1]);
    const o = tf.sum(tf.mul(u5, tf.reshape(att, [N, 1, 1, R, C])), 3);
    return tf.relu(tf.add(bn(tf.conv2d(o as Tensor4D, w3 as Tensor4D, 1, 'valid'), g3, b3, [0, 1, 2]), x));
  };
  const gradsFn = tf.grads((...args: Tensor[]) => block(args[0], args.slice(1)));
  const x0 = tf.randomNormal([N, H, H, s.inplanes]), dy0 = tf.randomNormal([N, H, H, out]);

  return {
    check: async (xNchw, dyNchw) => {
      const res = tf.tidy(() => {
        const x = tf.transpose(tf.tensor(xNchw, [N, s.inplanes, H, H]), [0, 2, 3, 1]);
        const dy = tf.transpose(tf.tensor(dyNchw, [N, out, H, H]), [0, 2, 3, 1]);
        const y = tf.transpose(block(x, params), [0, 3, 1, 2]);
        const g = gradsFn([x, ...params], dy);
        return [y, tf.transpose(g[0], [0, 3, 1, 2]), ...WEIGHT_KEYS.map((k, i) => fromTf(k, g[i + 1]))];
      });
      const arrays = await libraryWait(Promise.all(res.map((t) => t.data() as Promise<Float32Array>)));
      for (const t of res) t.dispose();
      return { y: arrays[0], dx: arrays[1], grads: new Map(WEIGHT_KEYS.map((k, i) => [k, arrays[i + 2]])) };
    },
    fwd: (repeats = 2) => bestMs(async () => {
      const y = tf.tidy(() => tf.sum(block(x0, params)));
      await libraryWait(y.data());
      y.dispose();
    }, repeats),
    train: (repeats = 2) => bestMs(async () => {
      const total = tf.tidy(() => gradsFn([x0, ...params], dy0).map((g) => tf.sum(g)).reduce((acc, t) => tf.add(acc, t)));
      await libraryWait(total.data());
      total.dispose();
    }, repeats),
    dispose: () => { for (const t of [...params, x0, dy0]) t.dispose(); },
  };
}

// Standalone: node --import tsx bench/peers/tfjs_block.ts [side] -> {"fwd": ms, "train": ms}
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const side = Number(process.argv[2] ?? 28);
  const peer = await tfjsBlockPeer({ n: 8, inplanes: 256, planes: 64, h: side });
  const repeats = Number(process.argv[3] ?? 2);
  console.log(JSON.stringify({ side, fwd: await peer.fwd(repeats), train: await peer.train(repeats) }));
  peer.dispose();
  process.exit(0);
}
