// Chunking (kernels/chunking.ts), the one mechanism for tensors over one binding: with the
// chunk limit forced down through the one knob to 1-2 samples, every op of batchnorm2d, pool2d
// and split_attention (forward and backward) must give what the one-pass path gives: per-sample
// passes exactly, batch norm's batch reductions (merged from per-chunk partials) within 1e-6
// relative; the optimizer's arenas split at the same knob; and a whole training step of a small
// ResNeSt, chunked as the report's 320 x 320 batch-32 step is, matches its one-pass step. (conv2d,
// elementwise and the full reduction are forced through the same knob in their own tests.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gpu } from '../../src/gpu/index.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { batchChunks, setChunkBytesForTests } from '../../kernels/chunking.ts';
import { SGD } from '../../src/optim/sgd.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { ResNeSt } from '../../src/nn/resnest.ts';
import { sgdStepCpu } from '../../kernels/sgd.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

const s = suite('kernels: batch chunking (batchnorm2d, pool2d, split_attention)');
s.before(setupGpu);
s.after.each(() => { setChunkBytesForTests(null); setKernelVersion('batchnorm2d_reduce', null); });

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Runs `body` unchunked and with chunks capped at `chunkBytes`; returns both sets of outputs
 * and checks that the capped run did split (it records more dispatches).
 */
async function both(chunkBytes: number, body: () => Promise<Float32Array[]>): Promise<[Float32Array[], Float32Array[]]> {
  const stats = gpu().recorder.stats;
  setChunkBytesForTests(null);
  let d0 = stats.dispatches;
  const whole = await body();
  const wholeDispatches = stats.dispatches - d0;
  setChunkBytesForTests(chunkBytes);
  d0 = stats.dispatches;
  const chunked = await body();
  const chunkedDispatches = stats.dispatches - d0;
  setChunkBytesForTests(null);
  assert.ok(chunkedDispatches > wholeDispatches, `chunked run recorded ${chunkedDispatches} dispatches, unchunked ${wholeDispatches}`);
  return [whole, chunked];
}

function assertSame(a: Float32Array[], b: Float32Array[], names: string[]): void {
  assert.is(a.length, b.length);
  a.forEach((v, i) => assertClose(b[i], v, { atol: 0, rtol: 0 }, names[i]));
}

/** |chunked - whole| <= 1e-6 (|whole| + max |whole|): relative to each value and to the tensor's scale (values near 0). */
function assertNear(a: Float32Array[], b: Float32Array[], names: string[]): void {
  a.forEach((v, i) => {
    const scale = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assertClose(b[i], v, { atol: 1e-6 * scale, rtol: 1e-6 }, names[i]);
  });
}

s('batchChunks: one whole chunk when everything fits; aligned chunks of the step otherwise; clear errors', () => {
  const buf = gpu().pool.acquire(8 * 1024, 'chunking test');
  const x = { buffer: buf, offset: 0, size: 5 * 1024 };
  assert.equal(batchChunks('t', 5, [[x, 256]]).map((c) => [c.n0, c.count]), [[0, 5]]);
  assert.is(batchChunks('t', 5, [[x, 256]])[0].of(x, 256), x);
  setChunkBytesForTests(2048);
  const chunks = batchChunks('t', 5, [[x, 256]]);
  assert.equal(chunks.map((c) => [c.n0, c.count]), [[0, 2], [2, 2], [4, 1]]);
  assert.equal(chunks.map((c) => { const b = c.of(x, 256) as { offset: number; size: number }; return [b.offset, b.size]; }),
    [[0, 2048], [2048, 2048], [4096, 1024]]);
  // 32 floats (128 bytes) per sample: chunks start every 2 samples
  assert.equal(batchChunks('t', 5, [[x, 256], [{ buffer: buf, offset: 0, size: 640 }, 32]]).map((c) => c.count), [2, 2, 1]);
  setChunkBytesForTests(1024);
  assertThrowsWith(() => batchChunks('bn x[5,...]', 5, [[x, 256], [{ buffer: buf, offset: 0, size: 640 }, 32]]), /bn x\[5/, /multiples of 2 samples/);
  assertThrowsWith(() => batchChunks('op x[5,...]', 5, [[x, 512]]), /op x\[5/, /a binding of 2048 bytes \(one sample\) exceeds/);
  assertThrowsWith(() => batchChunks('op', 4, [[{ buffer: buf, offset: 16, size: 4096 }, 256]]), /offset 16/);
  setChunkBytesForTests(null);
  gpu().pool.release(buf);
});

s('batchChunks offset mode: chunks start at any sample, bound from the aligned boundary below with the element offset; maxCount caps them', () => {
  const buf = gpu().pool.acquire(8 * 1024, 'chunking test');
  const x = { buffer: buf, offset: 0, size: 3 * 2016 }; // 504 floats per sample: samples 1 and 2 start off the 256-byte grid
  setChunkBytesForTests(2016 + 256 + 16);
  const chunks = batchChunks('t', 3, [[x, 504]], { offsets: true });
  assert.equal(chunks.map((c) => [c.n0, c.count]), [[0, 1], [1, 1], [2, 1]]);
  assert.equal(chunks.map((c) => { const a = c.at(x, 504); return [a.binding.offset, a.binding.size, a.base]; }),
    [[0, 2016, 0], [1792, 2240, 56], [3840, 2208, 48]]); // 2016 = 1792 + 224 bytes: base 56 floats; 4032 = 3840 + 192: base 48
  setChunkBytesForTests(null);
  assert.equal(batchChunks('t', 3, [[x, 504]], { offsets: true, maxCount: 2 }).map((c) => c.count), [2, 1]);
  setChunkBytesForTests(1024);
  assertThrowsWith(() => batchChunks('conv x[3,...]', 3, [[x, 504]], { offsets: true }), /conv x\[3/, /one sample needs 2016 bytes, over the binding limit of 1024 bytes/);
  setChunkBytesForTests(null);
  gpu().pool.release(buf);
});

interface BnCase { shape: number[]; version: string; training: boolean; relu: boolean; residual: boolean; affine: boolean; samples: number }

const bnCases: BnCase[] = [
  { shape: [5, 16, 4, 4], version: 'v2', training: true, relu: false, residual: false, affine: true, samples: 1 },
  { shape: [5, 16, 4, 4], version: 'v2(reductionThreads=32768)', training: true, relu: true, residual: true, affine: true, samples: 2 },
  { shape: [4, 64, 3, 3], version: 'v1', training: true, relu: true, residual: false, affine: false, samples: 1 },
  { shape: [3, 8, 8, 8], version: 'v2', training: true, relu: false, residual: true, affine: true, samples: 2 },
  { shape: [5, 16, 4, 4], version: 'v2', training: false, relu: true, residual: true, affine: true, samples: 2 },
  { shape: [4, 64, 3, 3], version: 'v1', training: false, relu: false, residual: false, affine: true, samples: 1 },
];

bnCases.forEach((c, i) => {
  s(`batchNorm2d ${c.training ? 'train' : 'eval'}${c.relu ? '+relu' : ''}${c.residual ? '+residual' : ''} ${c.version} x[${c.shape}] ` +
    `in chunks of ${c.samples}: forward, running stats and gradients match one pass`, async () => {
    setKernelVersion('batchnorm2d_reduce', c.version);
    const C = c.shape[1], n = numel(c.shape);
    const x = randomArray(n, 10 + i, -2, 3).map((v, j) => v + (j % 7) * 0.25 + 2); // off 0: the shifted sums matter
    const dy = randomArray(n, 20 + i), res = randomArray(n, 30 + i);
    const w = randomArray(C, 40 + i, 0.5, 1.5), b = randomArray(C, 50 + i);
    const rm = randomArray(C, 60 + i, 1.5, 2.5), rv = randomArray(C, 70 + i, 0.5, 1.5);
    const run = async (): Promise<Float32Array[]> => {
      const tx = Tensor.fromArray(x, c.shape, { requiresGrad: true });
      const tw = c.affine ? Tensor.fromArray(w, [C], { requiresGrad: true }) : null;
      const tb = c.affine ? Tensor.fromArray(b, [C], { requiresGrad: true }) : null;
      const tres = c.residual ? Tensor.fromArray(res, c.shape, { requiresGrad: true }) : null;
      const trm = Tensor.fromArray(rm, [C]), trv = Tensor.fromArray(rv, [C]);
      const y = F.batchNorm2d(tx, trm, trv, tw, tb, { training: c.training, relu: c.relu, residual: tres });
      y.backward(Tensor.fromArray(dy, c.shape));
      const out = [await y.toArray(), await trm.toArray(), await trv.toArray(), await tx.grad!.toArray()];
      if (tw && tb) out.push(await tw.grad!.toArray(), await tb.grad!.toArray());
      if (tres) out.push(await tres.grad!.toArray());
      for (const t of [tx, tw, tb, tres, trm, trv, y]) { t?.grad?.dispose(); t?.dispose(); }
      return out;
    };
    const [whole, chunked] = await both(c.samples * C * c.shape[2] * c.shape[3] * 4, run);
    const names = ['y', 'runningMean', 'runningVar', 'dx', ...(c.affine ? ['dweight', 'dbias'] : []), ...(c.residual ? ['dresidual'] : [])];
    // eval: only dweight and dbias reduce over the batch; training: the statistics feed everything
    const reduced = (name: string) => c.training || name === 'dweight' || name === 'dbias';
    names.forEach((name, k) => (reduced(name) ? assertNear : assertSame)([whole[k]], [chunked[k]], [name]));
  });
});

s('batchNorm2d: one sample over the limit throws the binding error with the op and shape', () => {
  const x = Tensor.fromArray(randomArray(2 * 16 * 16, 1), [2, 16, 4, 4]);
  setChunkBytesForTests(512);
  assertThrowsWith(() => F.batchNorm2d(x, null, null, null, null, { training: true }),
    /batchnorm2d train x\[2,16,4,4\] fwd \(statistics\)/, /a binding of 1024 bytes \(one sample\) exceeds/);
  setChunkBytesForTests(null);
  x.dispose();
});

type Pool = { op: 'max' | 'avg' | 'adaptive'; shape: number[]; k?: number; s?: number; p?: number; ceil?: boolean; out?: [number, number]; samples: number };
const poolCases: Pool[] = [
  { op: 'max', shape: [5, 64, 9, 12], k: 3, s: 2, p: 1, ceil: true, samples: 2 },   // v2 forward, OW % 4 != 0
  { op: 'max', shape: [3, 16, 8, 8], k: 3, s: 2, p: 1, samples: 1 },
  { op: 'max', shape: [4, 64, 7, 9], k: 2, s: 2, p: 0, ceil: true, samples: 1 },    // v1
  { op: 'avg', shape: [5, 64, 9, 12], k: 3, s: 2, p: 1, ceil: true, samples: 2 },
  { op: 'avg', shape: [3, 64, 7, 9], k: 2, s: 2, p: 1, samples: 1 },
  { op: 'adaptive', shape: [3, 64, 4, 4], out: [1, 1], samples: 1 },
  { op: 'adaptive', shape: [3, 64, 7, 5], out: [1, 1], samples: 2 },
  { op: 'adaptive', shape: [3, 64, 9, 10], out: [2, 3], samples: 1 },
];

poolCases.forEach((c, i) => {
  s(`${c.op} pool x[${c.shape}] ${c.k ? `k${c.k} s${c.s} p${c.p}${c.ceil ? ' ceil' : ''}` : `to [${c.out}]`} in chunks of ${c.samples}: ` +
    'forward and backward match one pass exactly', async () => {
    const x = Float32Array.from(randomArray(numel(c.shape), 80 + i, -3, 3), (v) => Math.round(v * 4) / 4); // ties
    const run = async (): Promise<Float32Array[]> => {
      const tx = Tensor.fromArray(x, c.shape, { requiresGrad: true });
      const y = c.op === 'max' ? F.maxPool2d(tx, { kernelSize: c.k!, stride: c.s, padding: c.p, ceilMode: c.ceil })
        : c.op === 'avg' ? F.avgPool2d(tx, { kernelSize: c.k!, stride: c.s, padding: c.p, ceilMode: c.ceil, countIncludePad: i % 2 === 0 })
          : F.adaptiveAvgPool2d(tx, c.out!);
      y.backward(Tensor.fromArray(randomArray(y.size, 90 + i), y.shape));
      const out = [await y.toArray(), await tx.grad!.toArray()];
      tx.grad!.dispose(); tx.dispose(); y.dispose();
      return out;
    };
    const [whole, chunked] = await both(c.samples * numel(c.shape.slice(1)) * 4, run);
    assertSame(whole, chunked, ['y', 'dx']);
  });
});

s('maxPool2d: one sample over the limit throws the binding error', () => {
  const x = Tensor.fromArray(randomArray(2 * 64 * 16, 1), [2, 64, 4, 4]);
  setChunkBytesForTests(2048);
  assertThrowsWith(() => F.maxPool2d(x, { kernelSize: 2 }), /maxpool2d k2x2 s2x2 p0x0 x\[2,64,4,4\] fwd/, /a binding of 4096 bytes \(one sample\) exceeds/);
  setChunkBytesForTests(null);
  x.dispose();
});

const saCases = [
  { N: 5, R: 2, C: 64, H: 4, W: 4, K: 2, samples: 1 },   // v2
  { N: 4, R: 2, C: 64, H: 3, W: 3, K: 1, samples: 2 },   // v1
  { N: 3, R: 1, C: 64, H: 4, W: 2, K: 1, samples: 1 },   // radix 1: sigmoid
];

saCases.forEach((c, i) => {
  s(`split attention R${c.R} x[${c.N},${c.R * c.C},${c.H},${c.W}] in chunks of ${c.samples}: radix sum, pool, rSoftmax, combine ` +
    'and their backwards match one pass exactly', async () => {
    const shape = [c.N, c.R * c.C, c.H, c.W];
    const x = randomArray(numel(shape), 100 + i, -2, 2), z = randomArray(c.N * c.R * c.C, 110 + i, -2, 2);
    const dsum = randomArray(c.N * c.C * c.H * c.W, 120 + i), dg = randomArray(c.N * c.C, 130 + i), dy = randomArray(c.N * c.C * c.H * c.W, 140 + i);
    const run = async (): Promise<Float32Array[]> => {
      const tx = Tensor.fromArray(x, shape, { requiresGrad: true });
      const tz = Tensor.fromArray(z, [c.N, c.R * c.C], { requiresGrad: true });
      const sum = F.radixSum(tx, c.R), g = F.splitAttentionPool(tx, c.R);
      const a = F.rSoftmax(tz, c.R, c.K), y = F.splitAttentionCombine(tx, a, c.R);
      const loss = [F.mul(sum, Tensor.fromArray(dsum, sum.shape)), F.mul(g, Tensor.fromArray(dg, g.shape)), F.mul(y, Tensor.fromArray(dy, y.shape))]
        .map((t) => F.sum(t)).reduce((p, q) => F.add(p, q));
      loss.backward();
      const out = [await sum.toArray(), await g.toArray(), await a.toArray(), await y.toArray(), await tx.grad!.toArray(), await tz.grad!.toArray()];
      for (const t of [tx, tz, sum, g, a, y, loss]) { t.grad?.dispose(); t.dispose(); }
      return out;
    };
    const [whole, chunked] = await both(c.samples * c.R * c.C * c.H * c.W * 4, run);
    assertSame(whole, chunked, ['radix sum', 'pool', 'attention', 'combine', 'dx', 'dz']);
  });
});

s('split attention: rSoftmax alone in chunks of 2 samples matches one pass exactly', async () => {
  const z = randomArray(6 * 128, 7, -3, 3), da = randomArray(6 * 128, 8);
  const run = async (): Promise<Float32Array[]> => {
    const tz = Tensor.fromArray(z, [6, 128], { requiresGrad: true });
    const a = F.rSoftmax(tz, 4, 2);
    a.backward(Tensor.fromArray(da, a.shape));
    const out = [await a.toArray(), await tz.grad!.toArray()];
    tz.grad!.dispose(); tz.dispose(); a.dispose();
    return out;
  };
  const [whole, chunked] = await both(2 * 128 * 4, run);
  assertSame(whole, chunked, ['attention', 'dz']);
});

s('a small ResNeSt step (focal loss, backward, SGD) with its activations in chunks of 2-4 samples gives the one-pass loss, running statistics, gradients and parameters', async () => {
  // the path of the report's shape (320 x 320, batch 32, tensors over the binding limit) at a test's size: at
  // 80 KB a binding, the stem's widest activations (36 KB a sample) go two samples a chunk, layer1's (18 KB) four
  // (the attention's pooled sums, 64 bytes a sample, need chunks of 4 to start on 256-byte offsets); the largest
  // parameter (48 KB) fits one arena chunk.
  // Training mode's batch statistics are summed in another float32 order in chunks, and a network's gradients
  // are not continuous in its activations: a ReLU mask flips where a pre-activation crosses 0 (a relative
  // perturbation of 1e-7 of the input alone moved 62 of this model's gradient tensors past the tolerance
  // below). So training mode is compared where it is continuous, the loss and the running statistics, and the
  // gradients and the step in eval mode, where every activation is computed per sample, the same in chunks,
  // and only the weight gradients' sums over the batch change order (the chunked training-mode backward of
  // each op is compared in its own tests above and in the ops' test files).
  const N = 8, size = 48, chunkBytes = 80 * 1024;
  const x = randomArray(N * 3 * size * size, 200, -2, 2);
  const y = Float32Array.from(randomArray(N * 40, 201, 0, 1), (v) => (v < 0.3 ? 1 : 0));
  const names: string[] = [];
  const run = async (): Promise<Float32Array[]> => {
    const model = new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 8, planes: [8, 16, 24, 32], numClasses: 40 });
    const params = model.namedParameters();
    const opt = new SGD(params.map(([, p]) => p), { lr: 0.1, momentum: 0.9 });
    const tx = Tensor.fromArray(x, [N, 3, size, size]), ty = Tensor.fromArray(y, [N, 40]);
    const step = (): Tensor => tidy(() => F.sigmoidFocalLoss(model.forward(tx), ty, { alpha: 0.25, gamma: 2 }));
    const trainLoss = step();
    const stats = [...model.stateDict()].filter((e): e is [string, Tensor] => e[1] instanceof Tensor && /running_(mean|var)$/.test(e[0]));
    const out = [await trainLoss.toArray(), ...(await Promise.all(stats.map(([, t]) => t.toArray())))];
    trainLoss.backward();
    opt.zeroGrad();
    model.eval();
    const loss = step();
    loss.backward();
    out.push(await loss.toArray(), ...(await Promise.all(params.map(([, p]) => p.grad!.toArray()))));
    opt.step();
    out.push(...(await Promise.all(params.map(([, p]) => p.toArray()))));
    names.splice(0, names.length, 'training loss', ...stats.map(([k]) => k), 'eval loss',
      ...params.map(([k]) => `${k} gradient (eval)`), ...params.map(([k]) => `${k} after the step`));
    for (const t of [trainLoss, loss, tx, ty]) t.dispose();
    opt.dispose(); model.dispose();
    return out;
  };
  const [whole, chunked] = await both(chunkBytes, run);
  assert.is(names.length, whole.length);
  // statistics, the attention's pooled sums and weight gradients add per-chunk partials in another float32
  // order: measured within 2.5e-5 of each tensor's largest value. The attention fc1 biases' gradients are 0 in
  // exact arithmetic (a batch norm follows), float noise under 2e-8 here: the absolute floor.
  whole.forEach((v, i) => {
    const scale = v.reduce((m, q) => Math.max(m, Math.abs(q)), 0);
    assertClose(chunked[i], v, { atol: 1e-4 * scale + 1e-7, rtol: 1e-4 }, names[i]);
  });
});

s('SGD: arenas split at the chunk knob; a step over per-parameter chunks matches the f64 reference', async () => {
  const shapes = [[40], [3, 5], [70]]; // 160, 60 and 280 bytes, each slot 256-byte aligned: 512-byte chunks hold the first two, then the third
  setChunkBytesForTests(512);
  try {
    const init = shapes.map((sh, i) => randomArray(sh.reduce((a, b) => a * b, 1), 40 + i));
    const grads = shapes.map((sh, i) => randomArray(sh.reduce((a, b) => a * b, 1), 50 + i));
    const ps = shapes.map((sh, i) => Tensor.fromArray(init[i], sh, { requiresGrad: true }));
    const h = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: false };
    const opt = new SGD(ps, h);
    for (const [i, p] of ps.entries()) { // d(sum(p * G))/dp = G
      const G = Tensor.fromArray(grads[i], p.shape);
      const loss = tidy(() => F.sum(F.mul(p, G)));
      loss.backward();
      loss.dispose(); G.dispose();
    }
    const before = gpu().recorder.stats.dispatches;
    opt.step();
    assert.is(gpu().recorder.stats.dispatches - before, 2, 'two arena chunks (160+60 bytes aligned to 256 each, then 280): one dispatch each');
    for (const [i, p] of ps.entries()) {
      const want = Float64Array.from(init[i]);
      sgdStepCpu(want, grads[i], null, h);
      assertClose(await p.toArray(), want, { atol: 1e-7, rtol: 1e-6 }, `param ${i}`);
    }
    for (const p of ps) p.dispose();
  } finally {
    setChunkBytesForTests(null);
  }
});

s.run();
