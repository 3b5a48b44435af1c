import { gpu } from '../../src/gpu/index.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { clearTape } from '../../src/autograd/tape.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import { conv2dGeometry, type Conv2dOptions } from '../../src/ops/conv2d.ts';
import {
  conv2dBackward, conv2dBackwardBias, conv2dBackwardInput, conv2dBackwardWeight, conv2dBwdBiasCpu, conv2dBwdInputCpu,
  conv2dBwdWeightCpu, conv2dForward, conv2dFwdCpu, conv2dFwdAt, conv2dBwdInputAt, conv2dBwdWeightAt, versions, type Conv2dGeometry,
} from '../../kernels/conv2d.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { runs } from '../../kernels/versions.ts';
import { setChunkBytesForTests } from '../../kernels/chunking.ts';
import { assertClose, assertThrowsWith, randomArray, setupGpu } from '../helpers.ts';

// f32 sums of up to a few hundred products of values in [-1, 1] against f64: 1e-4 absolute
// plus 1e-4 relative covers the rounding with margin; dW sums over batch x plane, so twice that.
const TOL = { atol: 1e-4, rtol: 1e-4 };
const TOL_DW = { atol: 2e-4, rtol: 2e-4 };

interface Case { name: string; x: [number, number, number, number]; w: [number, number, number, number]; opts: Conv2dOptions }
// Covers kernel 1/3/7, stride 1/2, padding 0/1/3, dilation 1/2, groups 1/2/4/depthwise,
// odd and rectangular planes, batch 1 and 3, padding wider than the kernel's reach, and
// groups of 1 to 40 input and 1 to 72 output channels.
export const CASES: Case[] = [
  { name: '3x3 p1 plain', x: [1, 3, 9, 11], w: [4, 3, 3, 3], opts: { padding: 1 } },
  { name: '1x1 g2 batch 3', x: [3, 4, 7, 9], w: [6, 2, 1, 1], opts: { groups: 2 } },
  { name: '3x3 s2 p1 g4', x: [2, 8, 11, 13], w: [8, 2, 3, 3], opts: { stride: 2, padding: 1, groups: 4 } },
  { name: 'depthwise 3x3', x: [1, 6, 13, 9], w: [6, 1, 3, 3], opts: { padding: 1, groups: 6 } },
  { name: 'depthwise x2 s2 d2', x: [1, 4, 9, 9], w: [8, 1, 3, 3], opts: { stride: 2, dilation: 2, groups: 4 } },
  { name: '7x7 s2 p3 (stem)', x: [3, 3, 15, 15], w: [5, 3, 7, 7], opts: { stride: 2, padding: 3 } },
  { name: '3x3 d2 p2 g2', x: [1, 4, 11, 9], w: [4, 2, 3, 3], opts: { padding: 2, dilation: 2, groups: 2 } },
  { name: 'resnest-like 3x3 g2', x: [3, 8, 7, 7], w: [16, 4, 3, 3], opts: { padding: 1, groups: 2 } },
  { name: 'mixed pairs', x: [1, 5, 10, 12], w: [3, 5, 3, 2], opts: { stride: [2, 1], padding: [0, 1], dilation: [1, 2] } },
  { name: '7x7 p3 on 5x5 g2', x: [1, 2, 5, 5], w: [4, 1, 7, 7], opts: { padding: 3, groups: 2 } },
  { name: '1x1 s2', x: [1, 6, 9, 7], w: [6, 6, 1, 1], opts: { stride: 2 } },
  { name: '3x3 p3 (pad past reach)', x: [1, 2, 6, 5], w: [2, 2, 3, 3], opts: { padding: 3 } },
  { name: '3x3 s2 p0 odd', x: [3, 4, 9, 7], w: [8, 4, 3, 3], opts: { stride: 2 } },
  { name: '1x1 on 1x1 maps (attention fc)', x: [3, 8, 1, 1], w: [5, 8, 1, 1], opts: {} },
  { name: '1x1 on 1x1 maps, 6->12', x: [2, 6, 1, 1], w: [12, 6, 1, 1], opts: {} },
  // groups of more than 16 input channels: v7's weight gradient takes them 32 at a time,
  // here one partial block per group, then a whole block and a partial one
  { name: '3x3 g2, 22 channels a group', x: [2, 44, 6, 5], w: [8, 22, 3, 3], opts: { padding: 1, groups: 2 } },
  { name: '1x1, 40 channels', x: [1, 40, 5, 6], w: [12, 40, 1, 1], opts: {} },
  // 64 and more output channels: v7's weight gradient gives each lane 8 of them, here a whole
  // block of 64 and one of 8
  { name: '1x1, 12 -> 72 channels', x: [2, 12, 5, 4], w: [72, 12, 1, 1], opts: {} },
  // v8's weight gradient: planes padded to whole texels of 4 pixels, ranges across samples
  { name: '1x1 on 7x7 planes, batch 3', x: [3, 16, 7, 7], w: [40, 16, 1, 1], opts: {} },
  // v9's Winograd tiles: no padding (dX's input origin 2 before dY's), odd planes (partial
  // 2 x 2 tiles), 34 channels (a partial texel), 40 written (a partial block of 32)
  { name: '3x3 p0, 34 -> 40 channels', x: [2, 34, 8, 7], w: [40, 34, 3, 3], opts: {} },
];

const supported = (version: string, c: Case): boolean =>
  runs(versions[version], conv2dGeometry(c.x, c.w, null, c.opts), gpu().adapter, 'fwd');

interface Data { g: Conv2dGeometry; x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array }

function makeData(c: Case, seed: number): Data {
  const g = conv2dGeometry(c.x, c.w, [c.w[0]], c.opts);
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { g, x: randomArray(n(c.x), seed), w: randomArray(n(c.w), seed + 1), b: randomArray(c.w[0], seed + 2),
    dy: randomArray(g.n * g.co * g.ho * g.wo, seed + 3) };
}

async function checkVersion(version: string, c: Case, d: Data): Promise<void> {
  const { g } = d;
  const x = Tensor.fromArray(d.x, c.x), w = Tensor.fromArray(d.w, c.w), b = Tensor.fromArray(d.b, [g.co]);
  const dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]);
  const y = Tensor.empty(dy.shape, 'y'), dx = Tensor.empty(x.shape, 'dx'), dw = Tensor.empty(w.shape, 'dw');
  const db = Tensor.empty([g.co], 'db');
  conv2dForward(g, x.binding, w.binding, b.binding, y.binding, { version });
  conv2dBackwardInput(g, dy.binding, w.binding, dx.binding, { version });
  conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version });
  conv2dBackwardBias(g, dy.binding, db.binding);
  const what = `${version} ${c.name}`;
  assertClose(await y.toArray(), conv2dFwdCpu(g, d.x, d.w, d.b), TOL, `${what} fwd`);
  assertClose(await dx.toArray(), conv2dBwdInputCpu(g, d.dy, d.w), TOL, `${what} dX`);
  assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, d.x, d.dy), TOL_DW, `${what} dW`);
  assertClose(await db.toArray(), conv2dBwdBiasCpu(g, d.dy), TOL_DW, `${what} db`);
  // dX and dW together, as the op runs them (v3 shares one packing of dY where it can)
  conv2dBackward(g, x.binding, w.binding, dy.binding, dx.binding, dw.binding, { inputVersion: version, weightVersion: version });
  assertClose(await dx.toArray(), conv2dBwdInputCpu(g, d.dy, d.w), TOL, `${what} dX with dW`);
  assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, d.x, d.dy), TOL_DW, `${what} dW with dX`);
  for (const t of [x, w, b, dy, y, dx, dw, db]) t.dispose();
}

const s = suite('kernels: conv2d');
s.before(setupGpu);

for (const version of Object.keys(versions)) {
  s(`${version}: fwd, dX, dW, db match the f64 reference on every shape it runs`, async () => {
    const cases = CASES.filter((c) => supported(version, c));
    assert.ok(cases.length >= 2, `${version} runs ${cases.length} of the shapes`);
    for (const [i, c] of cases.entries()) await checkVersion(version, c, makeData(c, 100 * i));
  });
  s(`${version}: batch chunks over small bindings give the same results`, async () => {
    // 3 samples; y holds 8x9x7 floats (2016 bytes) per sample: one sample per chunk, at offsets not 256-aligned
    setChunkBytesForTests(2016 + 256 + 16);
    try {
      const c: Case = { name: 'chunked', x: [3, 4, 9, 7], w: [8, 2, 3, 3], opts: { padding: 1, groups: 2 } };
      if (supported(version, c)) {
        await checkVersion(version, c, makeData(c, 7));
        // 4x5 planes (whole runs of 4 output pixels: v7's vec4 stores); y's second sample starts
        // 640 bytes in, 128 bytes past its binding's 256-aligned offset
        setChunkBytesForTests(640 + 256 + 16);
        const a: Case = { name: 'chunked, 4-aligned planes', x: [3, 4, 4, 5], w: [8, 2, 3, 3], opts: { padding: 1, groups: 2 } };
        await checkVersion(version, a, makeData(a, 9));
      } else if (version === 'v10') { // one group, stride 2: 1440 bytes of patches a sample, one sample a chunk
        const one: Case = { name: 'chunked, one group, stride 2', x: [3, 2, 9, 8], w: [8, 2, 3, 3], opts: { stride: 2, padding: 1 } };
        await checkVersion(version, one, makeData(one, 7));
      } else { // 1-sample chunks of 16 output floats: the second starts 64 bytes into a 256-byte block
        setChunkBytesForTests(64 + 256 + 16);
        const fc: Case = { name: 'chunked fc', x: [3, 8, 1, 1], w: [16, 8, 1, 1], opts: {} };
        await checkVersion(version, fc, makeData(fc, 8));
      }
    } finally { setChunkBytesForTests(null); }
  });
}

s('v7: the weight gradient keeps its partial sums within one binding (as layer3\'s 3x3 convolution at 320 x 320, batch 32)', async () => {
  // 7 samples; x (917 KB) and dY fit the 900 KB limit whole, but 512-pixel ranges would want 4
  // weight-sized slices of partial sums (288 KB each, 1152 KB): 3 longer ranges instead, one chunk
  const c: Case = { name: 'dW over partial sums', x: [7, 128, 16, 16], w: [64, 128, 3, 3], opts: { padding: 1 } };
  const d = makeData(c, 11), g = d.g, limit = 900 * 1024;
  if (!runs(versions.v7, g, gpu().adapter, 'bwd_weight')) { console.log('  v7 not run: this adapter lacks 8-lane subgroups'); return; }
  const x = Tensor.fromArray(d.x, c.x), dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]), dw = Tensor.empty(c.w, 'dw');
  const pool = gpu().pool, acquire = pool.acquire.bind(pool), partials: number[] = [];
  let chunks = 0;
  pool.acquire = (bytes: number, label?: string) => { if (label === 'conv2d dw partials') partials.push(bytes); return acquire(bytes, label); };
  gpu().recorder.onDispatch = (_p, label) => { if (label.endsWith(' g1') && label.startsWith('conv2d bwd_weight v7')) chunks++; };
  setChunkBytesForTests(limit);
  try {
    conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version: 'v7' });
  } finally { setChunkBytesForTests(null); pool.acquire = acquire; gpu().recorder.onDispatch = null; }
  assert.is(chunks, 1, 'the batch in one chunk');
  assert.equal(partials, [3 * 64 * 128 * 9 * 4], `3 slices of partial sums (${partials.join(', ')} bytes) within ${limit}`);
  assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, d.x, d.dy), TOL_DW, 'dW summed over the ranges');
  for (const t of [x, dy, dw]) t.dispose();
});

s('v8: pointwise weight gradients with planes as ranges (x copied, not laid out; dY too where its channels fill blocks of 32), whole and in batch chunks', async () => {
  // planes of 512 pixels (128 texels): each sample's plane is a range and x's NCHW buffer its grid;
  // 40 output channels: dY laid out as v7's weight blocks; 64: dY's NCHW buffer read as it lies
  for (const co of [40, 64]) {
    const c: Case = { name: 'planes as ranges', x: [3, 8, 32, 16], w: [co, 8, 1, 1], opts: {} };
    const d = makeData(c, 13), g = d.g;
    if (!runs(versions.v8, g, gpu().adapter, 'bwd_weight')) { console.log('  v8 not run: this adapter lacks 8-lane subgroups'); return; }
    const x = Tensor.fromArray(d.x, c.x), dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]), dw = Tensor.empty(c.w, 'dw');
    const pool = gpu().pool, acquire = pool.acquire.bind(pool), labels: string[] = [];
    pool.acquire = (bytes: number, label?: string) => { labels.push(label ?? ''); return acquire(bytes, label); };
    try {
      conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version: 'v8' });
      assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, d.x, d.dy), TOL_DW, `v8 dW, planes as ranges, ${co} channels`);
      // one sample per chunk (dY: co x 512 floats a sample): the later chunks add into dW
      setChunkBytesForTests(co * 512 * 4 + 256 + 16);
      conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version: 'v8' });
      assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, d.x, d.dy), TOL_DW, `v8 dW, planes as ranges, ${co} channels, chunks of one sample`);
    } finally { setChunkBytesForTests(null); pool.acquire = acquire; }
    assert.is(labels.some((l) => l.endsWith('dy texels staging')), co === 40, `dY laid out only where its channels do not fill blocks (${co})`);
    assert.not.ok(labels.some((l) => l.endsWith('x grid staging')), `x copied, not laid out (${labels.join(', ')})`);
    for (const t of [x, dy, dw]) t.dispose();
  }
});

s('v7: dX of a 1x1 with a weight matrix of 4 MB or more reads it transposed (layer4\'s 512 -> 2048), on a grid and as laid', async () => {
  // a 7 x 7 plane takes the packed grid, a 4 x 4 one dY as it lies; both read wT[C, Co]
  for (const side of [7, 4]) {
    const c: Case = { name: `1x1 512 -> 2048 at ${side}x${side}`, x: [1, 512, side, side], w: [2048, 512, 1, 1], opts: {} };
    const d = makeData(c, 17), g = d.g;
    if (!runs(versions.v7, g, gpu().adapter, 'bwd_input')) { console.log('  v7 not run: this adapter lacks 8-lane subgroups'); return; }
    const dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]), w = Tensor.fromArray(d.w, c.w), dx = Tensor.empty(c.x, 'dx');
    const pool = gpu().pool, acquire = pool.acquire.bind(pool), labels: string[] = [];
    pool.acquire = (bytes: number, label?: string) => { labels.push(label ?? ''); return acquire(bytes, label); };
    try {
      conv2dBackwardInput(g, dy.binding, w.binding, dx.binding, { version: 'v7' });
    } finally { pool.acquire = acquire; }
    // sums of 2048 products of values in [-1, 1]: |dX| up to about 60, f32 rounding of such a
    // chain under 1e-4 relative (measured 2e-5)
    assertClose(await dx.toArray(), conv2dBwdInputCpu(g, d.dy, d.w), { atol: 2e-4, rtol: 1e-4 }, c.name);
    assert.ok(labels.some((l) => l.endsWith('transposed weights staging')), `the weights transposed (${labels.join(', ')})`);
    for (const t of [dy, w, dx]) t.dispose();
  }
});

const relativeL2 = (got: Float32Array, ref: ArrayLike<number>): number => {
  let e = 0, r = 0;
  for (let i = 0; i < got.length; i++) { e += (got[i] - ref[i]) ** 2; r += ref[i] ** 2; }
  return Math.sqrt(e / r);
};

s('v9: Winograd F(2x2, 3x3) is as accurate as v7\'s direct sums over a 2304-term reduction (forward and dX)', async () => {
  // 256 input channels x 9 taps: the direct sum is one float32 chain of 2304 products, Winograd's
  // 16 chains of 256 transformed ones; its transforms add a few roundings and no cancellation
  // beyond the factor 2 of G's halves (measured: relative L2 2.1-5.0e-7 against v7's 2.9-8.1e-7)
  const c: Case = { name: 'layer4-like', x: [2, 256, 7, 7], w: [64, 256, 3, 3], opts: { padding: 1 } };
  const d = makeData(c, 17), g = d.g;
  if (!runs(versions.v9, g, gpu().adapter, 'fwd')) { console.log('  v9 not run: this adapter lacks 8-lane subgroups'); return; }
  const x = Tensor.fromArray(d.x, c.x), w = Tensor.fromArray(d.w, c.w), dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]);
  const y = Tensor.empty(dy.shape, 'y'), dx = Tensor.empty(x.shape, 'dx');
  const refY = conv2dFwdCpu(g, d.x, d.w), refDx = conv2dBwdInputCpu(g, d.dy, d.w);
  const errors: Record<string, [number, number]> = {};
  for (const version of ['v7', 'v9']) {
    conv2dForward(g, x.binding, w.binding, null, y.binding, { version });
    conv2dBackwardInput(g, dy.binding, w.binding, dx.binding, { version });
    const [yv, dxv] = [await y.toArray(), await dx.toArray()];
    // 2304 products of values in [-1, 1]: sums up to ~70, float32 rounding ~1e-5 each, 4e-4 with margin
    assertClose(yv, refY, { atol: 4e-4, rtol: 1e-5 }, `${version} fwd`);
    assertClose(dxv, refDx, { atol: 4e-4, rtol: 1e-5 }, `${version} dX`);
    errors[version] = [relativeL2(yv, refY), relativeL2(dxv, refDx)];
  }
  for (const [i, pass] of ['fwd', 'dX'].entries()) {
    assert.ok(errors.v9[i] < 1e-6, `v9 ${pass}: relative L2 ${errors.v9[i]} (float32 reaches ~5e-7 here)`);
    assert.ok(errors.v9[i] <= 1.25 * errors.v7[i], `v9 ${pass}: relative L2 ${errors.v9[i]} against v7's ${errors.v7[i]}`);
  }
  for (const t of [x, w, dy, y, dx]) t.dispose();
});

s('v9: Winograd\'s weight gradient over 6272 pixels stays within 2x of v7\'s error', async () => {
  // dW sums over the batch's pixels: v7 in ranges of 512 pixels, v9 over 2 x 2 tiles (ranges of
  // 512) of transformed operands up to 4x their size, then G^T dU G with halves; measured
  // relative L2 against f64 1.2-1.8x v7's (2-6e-7)
  const c: Case = { name: 'layer2-like dW', x: [8, 16, 28, 28], w: [32, 8, 3, 3], opts: { padding: 1, groups: 2 } };
  const d = makeData(c, 19), g = d.g;
  if (!runs(versions.v9, g, gpu().adapter, 'bwd_weight')) { console.log('  v9 not run: this adapter lacks 8-lane subgroups'); return; }
  const x = Tensor.fromArray(d.x, c.x), dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]), dw = Tensor.empty(c.w, 'dw');
  const ref = conv2dBwdWeightCpu(g, d.x, d.dy), errors: Record<string, number> = {};
  for (const version of ['v7', 'v9']) {
    conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version });
    const got = await dw.toArray();
    assertClose(got, ref, TOL_DW, `${version} dW`);
    errors[version] = relativeL2(got, ref);
  }
  assert.ok(errors.v9 < 1e-6, `v9 dW: relative L2 ${errors.v9}`);
  assert.ok(errors.v9 <= 2 * errors.v7, `v9 dW: relative L2 ${errors.v9} against v7's ${errors.v7}`);
  for (const t of [x, dy, dw]) t.dispose();
});

s('v9: transforms read x and dY as they lie from textures where their rows allow (forward, dX, dW)', async () => {
  // rows of 16 (x's texels hold whole rows, tile rows whole quads: both of dW's operands from
  // textures); rows of 6 on 7 rows (rows straddle texels, a partial last row of tiles); no padding
  // (a patch row's first element at even offsets, dX's at offset -2); rows of 7 (buffers only);
  // rows of 8 in batch chunks
  const cases: [Case, string[]][] = [
    [{ name: 'rows of 16, g2', x: [2, 8, 8, 16], w: [16, 4, 3, 3], opts: { padding: 1, groups: 2 } }, ['source', 'x', 'dy']],
    [{ name: 'rows of 6, 7 rows', x: [3, 6, 7, 6], w: [8, 6, 3, 3], opts: { padding: 1 } }, ['source', 'dy']],
    [{ name: 'rows of 14, no padding', x: [2, 4, 10, 14], w: [8, 4, 3, 3], opts: {} }, ['source', 'dy']],
    [{ name: 'rows of 7', x: [2, 4, 7, 7], w: [8, 4, 3, 3], opts: { padding: 1 } }, []],
    [{ name: 'rows of 8, chunks of one sample', x: [3, 5, 6, 8], w: [6, 5, 3, 3], opts: { padding: 1 } }, ['source', 'x', 'dy']],
  ];
  for (const [c, laid] of cases) {
    const chunks = c.x[0] === 3 && c.x[3] === 8 ? 3 : 1, chunkBytes = chunks > 1 ? 1152 + 256 + 16 : 0;
    const d = makeData(c, 23), g = d.g;
    if (!runs(versions.v9, g, gpu().adapter, 'fwd')) { console.log('  v9 not run: this adapter lacks 8-lane subgroups'); return; }
    const x = Tensor.fromArray(d.x, c.x), w = Tensor.fromArray(d.w, c.w), dy = Tensor.fromArray(d.dy, [g.n, g.co, g.ho, g.wo]);
    const y = Tensor.empty(dy.shape, 'y'), dx = Tensor.empty(x.shape, 'dx'), dw = Tensor.empty(c.w, 'dw');
    const scratch = gpu().scratch, acquire = scratch.acquireTexture.bind(scratch), labels: string[] = [];
    scratch.acquireTexture = (width: number, rows: number, label: string) => { labels.push(label); return acquire(width, rows, label); };
    // one sample a chunk for the last case (1152 bytes of dY, 960 of x a sample): the later
    // chunks start 32 and 48 floats past a 256-byte binding offset, their textures at those floats
    if (chunkBytes) setChunkBytesForTests(chunkBytes);
    try {
      conv2dForward(g, x.binding, w.binding, null, y.binding, { version: 'v9' });
      conv2dBackwardInput(g, dy.binding, w.binding, dx.binding, { version: 'v9' });
      conv2dBackwardWeight(g, x.binding, dy.binding, dw.binding, { version: 'v9' });
    } finally { scratch.acquireTexture = acquire; setChunkBytesForTests(null); }
    assertClose(await y.toArray(), conv2dFwdCpu(g, d.x, d.w), TOL, `${c.name}: v9 fwd`);
    assertClose(await dx.toArray(), conv2dBwdInputCpu(g, d.dy, d.w), TOL, `${c.name}: v9 dX`);
    assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, d.x, d.dy), TOL_DW, `${c.name}: v9 dW`);
    const texels = (kind: string) => labels.filter((l) => l.endsWith(` ${kind} texels`)).length;
    assert.equal([texels('source'), texels('x'), texels('dy')], [laid.includes('source') ? 2 : 0, laid.includes('x') ? 1 : 0, laid.includes('dy') ? 1 : 0].map((k) => k * chunks),
      `${c.name}: textures read as laid (${labels.join(', ')})`);
    for (const t of [x, w, dy, y, dx, dw]) t.dispose();
  }
});

s('the reference backward matches f64 finite differences', () => {
  for (const c of [CASES[2], CASES[4], CASES[8]]) {
    const d = makeData(c, 3);
    const x = Float64Array.from(d.x), w = Float64Array.from(d.w);
    const [nx, nw] = numericGradCpu(([xi, wi]) => conv2dFwdCpu(d.g, xi, wi), [x, w], d.dy);
    assertClose(conv2dBwdInputCpu(d.g, d.dy, w), nx, { atol: 1e-7, rtol: 1e-6 }, `${c.name} dX reference`);
    assertClose(conv2dBwdWeightCpu(d.g, x, d.dy), nw, { atol: 1e-7, rtol: 1e-6 }, `${c.name} dW reference`);
  }
});

s('single values of the reference (sampled checks in the benchmark) equal the full sums', () => {
  for (const c of [CASES[2], CASES[6], CASES[8]]) {
    const d = makeData(c, 5), g = d.g;
    const y = conv2dFwdCpu(g, d.x, d.w), dx = conv2dBwdInputCpu(g, d.dy, d.w), dw = conv2dBwdWeightCpu(g, d.x, d.dy);
    assertClose(Float64Array.from(y, (_, i) => conv2dFwdAt(g, d.x, d.w, i)), y, { atol: 1e-12, rtol: 1e-12 }, 'y');
    assertClose(Float64Array.from(dx, (_, i) => conv2dBwdInputAt(g, d.dy, d.w, i)), dx, { atol: 1e-12, rtol: 1e-12 }, 'dx');
    assertClose(Float64Array.from(dw, (_, i) => conv2dBwdWeightAt(g, d.x, d.dy, i)), dw, { atol: 1e-12, rtol: 1e-12 }, 'dw');
  }
});

s('F.conv2d: forward and tape gradients of x, weight and bias', async () => {
  for (const version of Object.keys(versions)) {
    setKernelVersion('conv2d', version);
    try {
      const c = supported(version, CASES[7]) ? CASES[7] : CASES.find((k) => supported(version, k))!, d = makeData(c, 11);
      const x = Tensor.fromArray(d.x, c.x, { requiresGrad: true }), w = Tensor.fromArray(d.w, c.w, { requiresGrad: true });
      const b = Tensor.fromArray(d.b, [d.g.co], { requiresGrad: true });
      const y = F.conv2d(x, w, b, c.opts);
      assert.equal(y.shape, [d.g.n, d.g.co, d.g.ho, d.g.wo]);
      y.backward(Tensor.fromArray(d.dy, y.shape));
      assertClose(await y.toArray(), conv2dFwdCpu(d.g, d.x, d.w, d.b), TOL, `${version} y`);
      assertClose(await x.grad!.toArray(), conv2dBwdInputCpu(d.g, d.dy, d.w), TOL, `${version} x.grad`);
      assertClose(await w.grad!.toArray(), conv2dBwdWeightCpu(d.g, d.x, d.dy), TOL_DW, `${version} w.grad`);
      assertClose(await b.grad!.toArray(), conv2dBwdBiasCpu(d.g, d.dy), TOL_DW, `${version} b.grad`);
      // a second backward adds into the .grads: weight and bias straight from the kernels (the
      // tape hands them over), x's too where the version's dX kernel can add, else by an add pass
      const dy2 = d.dy.map((v, i) => v * ((i % 3) - 1));
      const y2 = F.conv2d(x, w, b, c.opts);
      const adds: string[] = [];
      gpu().recorder.onDispatch = (_p, label) => { if (label.startsWith('grad accumulate')) adds.push(label); };
      try { y2.backward(Tensor.fromArray(dy2, y2.shape)); } finally { gpu().recorder.onDispatch = null; }
      assert.equal(adds, versions[version].bwdInputAdds ? [] : [`grad accumulate [${c.x}]`], `${version}: the tape adds x's gradient only where dX cannot`);
      const sum = (a: Float64Array, b2: Float64Array) => a.map((v, i) => v + b2[i]);
      assertClose(await x.grad!.toArray(), sum(conv2dBwdInputCpu(d.g, d.dy, d.w), conv2dBwdInputCpu(d.g, dy2, d.w)), TOL, `${version} x.grad, twice`);
      assertClose(await w.grad!.toArray(), sum(conv2dBwdWeightCpu(d.g, d.x, d.dy), conv2dBwdWeightCpu(d.g, d.x, dy2)), TOL_DW, `${version} w.grad, twice`);
      assertClose(await b.grad!.toArray(), sum(conv2dBwdBiasCpu(d.g, d.dy), conv2dBwdBiasCpu(d.g, dy2)), TOL_DW, `${version} b.grad, twice`);
      for (const t of [x, w, b]) { t.grad!.dispose(); t.dispose(); }
      y.dispose(); y2.dispose();
    } finally { setKernelVersion('conv2d', null); }
  }
});

s('F.conv2d: dX added into the gradient an intermediate tensor gathered from its other consumers', async () => {
  // h = 2x feeds two convolutions: the second arrival of h's gradient is added by the first
  // convolution's dX kernel where it can add, else by the tape
  for (const [version, c] of [['v1', CASES[7]], ['v2', CASES[7]], ['v5', CASES[7]], ['v7', CASES[7]]] as const) {
    setKernelVersion('conv2d', version);
    try {
      const d = makeData(c, 13), g = d.g;
      const w2 = randomArray(d.w.length, 14);
      const x = Tensor.fromArray(d.x, c.x, { requiresGrad: true });
      const w = Tensor.fromArray(d.w, c.w), wb = Tensor.fromArray(w2, c.w);
      const h = F.scale(x, 2);
      const y = F.add(F.conv2d(h, w, null, c.opts), F.conv2d(h, wb, null, c.opts));
      const adds: string[] = [];
      gpu().recorder.onDispatch = (_p, label) => { if (label.startsWith('grad accumulate')) adds.push(label); };
      try { y.backward(Tensor.fromArray(d.dy, y.shape)); } finally { gpu().recorder.onDispatch = null; }
      assert.equal(adds.length, versions[version].bwdInputAdds ? 0 : 1, `${version}: tape adds ${adds}`);
      const dh = conv2dBwdInputCpu(g, d.dy, d.w), dh2 = conv2dBwdInputCpu(g, d.dy, w2);
      assertClose(await x.grad!.toArray(), dh.map((v, i) => 2 * (v + dh2[i])), { atol: 2 * TOL.atol, rtol: TOL.rtol }, `${version} x.grad`);
      for (const t of [x.grad!, x, w, wb, h, y]) t.dispose();
    } finally { setKernelVersion('conv2d', null); }
  }
});

s('F.conv2d passes GPU finite differences (x and weight, with bias)', async () => {
  setKernelVersion('conv2d', 'v1');
  try {
    const x = randomArray(2 * 4 * 5 * 6, 21), w = randomArray(4 * 2 * 3 * 3, 22), b = randomArray(4, 23);
    const r = await gradcheck(([xi, wi, bi]) => F.conv2d(xi, wi, bi, { padding: 1, stride: [1, 2], groups: 2 }),
      [x, w, b], [[2, 4, 5, 6], [4, 2, 3, 3], [4]], { samples: 8 });
    assert.ok(r.ok, r.failures.join('\n'));
  } finally { setKernelVersion('conv2d', null); }
});

s('F.conv2d computes no gradient for inputs that do not require one', async () => {
  const x = Tensor.randn([1, 2, 5, 5]), w = Tensor.randn([3, 2, 3, 3], { requiresGrad: true });
  const y = F.conv2d(x, w);
  y.backward(Tensor.ones(y.shape));
  assert.is(x.grad, null);
  assert.ok(w.grad);
  for (const t of [x, w, w.grad!, y]) t.dispose();
  clearTape();
});

s('bad arguments are refused with the argument and shapes named', () => {
  const made: Tensor[] = [];
  const mk = (shape: number[]) => { const t = Tensor.zeros(shape); made.push(t); return t; };
  const x = mk([2, 4, 8, 8]), w = mk([6, 2, 3, 3]), w3 = mk([6, 3, 3, 3]), b = mk([5]);
  assertThrowsWith(() => F.conv2d(x, w3, null, { groups: 2 }), /weight \[6,3,3,3\] with groups=2 expects 6 input channels/, /\[2,4,8,8\]/);
  assertThrowsWith(() => F.conv2d(x, w, null, { groups: 3 }), /input channels 4 .* not divisible by groups=3/);
  assertThrowsWith(() => F.conv2d(x, mk([5, 2, 3, 3]), null, { groups: 2 }), /output channels 5 .* not divisible by groups=2/);
  assertThrowsWith(() => F.conv2d(x, w, b, { groups: 2 }), /bias must have shape \[6\].*got \[5\]/);
  assertThrowsWith(() => F.conv2d(x, mk([6, 2, 9, 9]), null, { groups: 2 }), /output size 0x0 is not positive.*\[2,4,8,8\].*9x9/);
  assertThrowsWith(() => F.conv2d(x, w, null, { groups: 2, stride: 0 }), /stride must be an integer >= 1/);
  assertThrowsWith(() => F.conv2d(x, w, null, { groups: 2, padding: -1 }), /padding must be an integer >= 0/);
  assertThrowsWith(() => F.conv2d(mk([4, 8, 8]), w), /input must be 4-D/);
  assertThrowsWith(() => F.conv2d(x, w, null, { groups: 2.5 }), /groups must be a positive integer/);
  setKernelVersion('conv2d_fwd', 'v11');
  try { assertThrowsWith(() => F.conv2d(x, w, null, { groups: 2 }), /conv2d_fwd \(forced by setKernelVersion or WG_KERNEL_VERSION\): no version v11 \(have v1, v2, v3, v4, v5, v6, v7, v8, v9, v10\)/); }
  finally { setKernelVersion('conv2d_fwd', null); }
  // a single sample over the binding limit cannot be chunked
  setChunkBytesForTests(1024);
  try { assertThrowsWith(() => F.conv2d(x, w, null, { groups: 2 }), /one sample needs 1024 bytes, over the binding limit of 1024 bytes/); }
  finally { setChunkBytesForTests(null); }
  for (const t of made) t.dispose();
});

s.run();
