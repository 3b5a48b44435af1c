// tfjs-webgpu peer for the conv2d benchmark, on the same Dawn adapter as the library. tfjs
// has no grouped convolution, so groups are emulated the usual way: split the channels,
// one conv2d per group, concat. Layouts are tfjs's own (NHWC, filters [kh, kw, in, out]).
// Timing: best wall clock of a few runs after warm-up, each ending in an awaited data()
// readback of every result, the waits going through the library's polite polling so that
// tfjs gets the same second core as our kernels.
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { dawnGpu, libraryWait } from '../../src/node.ts';

type Tf = typeof import('@tensorflow/tfjs-core');
let tfPromise: Promise<Tf> | null = null;

/** tfjs-core with the webgpu backend on Dawn's GPU object (navigator.gpu polyfilled for it). */
export function tfjsWebgpu(): Promise<Tf> {
  tfPromise ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (!g.navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawnGpu() }, configurable: true });
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    registerConvGradients(tf);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend did not initialise');
    await tf.ready();
    return tf;
  })();
  return tfPromise;
}

/**
 * tfjs-core's Node build registers no gradients (the @tensorflow/tfjs union package does, and
 * it is not installed); these are tfjs's own Conv2D, Concat and SplitV gradients, restated
 * with public API (engine().runKernel for the backprop kernels the webgpu backend provides).
 */
function registerConvGradients(tf: Tf): void {
  type T = import('@tensorflow/tfjs-core').Tensor;
  type Attrs = Record<string, unknown>;
  const run = (kernel: string, inputs: Record<string, T>, attrs: Attrs) =>
    tf.engine().runKernel(kernel, inputs as never, attrs as never) as T;
  tf.registerGradient({
    kernelName: 'Conv2D', inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const a = attrs as Attrs;
      const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
      return {
        x: () => run('Conv2DBackpropInput', { dy: dy as T, filter }, { ...common, inputShape: x.shape }),
        filter: () => run('Conv2DBackpropFilter', { x, dy: dy as T }, { ...common, filterShape: filter.shape }),
      };
    },
  });
  tf.registerGradient({
    kernelName: 'Concat', saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const axis = (attrs as { axis: number }).axis;
      const parts = tf.split(dy as T, saved.map((t) => t.shape[axis]), axis);
      return Object.fromEntries(parts.map((t, i) => [i, () => t]));
    },
  });
  tf.registerGradient({
    kernelName: 'SplitV',
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.concat(dy as T[], (attrs as { axis: number }).axis) }),
  });
}

export interface TfConvShape { n: number; c: number; h: number; w: number; co: number; kh: number; kw: number;
  stride: number; padding: number; dilation: number; groups: number }

export interface TfConvPeer { fwd: () => Promise<number>; train: () => Promise<number>; dispose: () => void }

/** Best wall-clock ms of `repeats` runs after one warm-up run. */
export async function bestMs(run: () => Promise<void>, repeats: number): Promise<number> {
  await run(); // warm-up: shader compilation
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** fwd: y = conv(x, w); train: y with dx and dw for a given dy (tf.valueAndGrads: one forward, one backward). */
export async function tfjsConvPeer(s: TfConvShape, repeats = 2): Promise<TfConvPeer> {
  const tf = await tfjsWebgpu();
  const cg = s.c / s.groups;
  const ho = Math.floor((s.h + 2 * s.padding - s.dilation * (s.kh - 1) - 1) / s.stride) + 1;
  const wo = Math.floor((s.w + 2 * s.padding - s.dilation * (s.kw - 1) - 1) / s.stride) + 1;
  const x = tf.randomNormal([s.n, s.h, s.w, s.c]) as Tensor4D;
  const w = tf.randomNormal([s.kh, s.kw, cg, s.co]) as Tensor4D;
  const dy = tf.randomNormal([s.n, ho, wo, s.co]) as Tensor4D;
  const pad: [[number, number], [number, number], [number, number], [number, number]] =
    [[0, 0], [s.padding, s.padding], [s.padding, s.padding], [0, 0]];
  const conv = (xi: Tensor4D, wi: Tensor4D) => {
    if (s.groups === 1) return tf.conv2d(xi, wi, s.stride, pad, 'NHWC', s.dilation);
    const xs = tf.split(xi, s.groups, 3), ws = tf.split(wi, s.groups, 3);
    return tf.concat(xs.map((xg, k) => tf.conv2d(xg as Tensor4D,
      ws[k] as Tensor4D, s.stride, pad, 'NHWC', s.dilation)), 3);
  };
  const valueAndGrads = tf.valueAndGrads((xi, wi) => conv(xi as Tensor4D, wi as Tensor4D));
  return {
    fwd: () => bestMs(async () => {
      const y = conv(x, w);
      await libraryWait(y.data());
      y.dispose();
    }, repeats),
    train: () => bestMs(async () => {
      const outs = tf.tidy(() => {
        const { value, grads } = valueAndGrads([x, w], dy);
        return [value, ...grads];
      });
      await libraryWait(Promise.all(outs.map((t) => t.data())));
      for (const t of outs) t.dispose();
    }, repeats),
    dispose: () => { for (const t of [x, w, dy]) t.dispose(); },
  };
}
