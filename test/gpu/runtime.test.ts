import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gpu, bucketSize, kernelName, timeGpu } from '../../src/gpu/index.ts';
import { launch } from '../../kernels/launch.ts';
import { assertThrowsWith, setupGpu } from '../helpers.ts';

const s = suite('gpu: runtime');
s.before(setupGpu);

s('adapter limits and features are the adapter\'s own', () => {
  const g = gpu();
  assert.ok(g.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  assert.ok(g.limits.maxBufferSize >= g.limits.maxStorageBufferBindingSize);
  for (const f of g.features) assert.ok(['timestamp-query', 'shader-f16', 'subgroups'].includes(f));
});

s('bucket sizes: powers of two and their 3/4 midpoints, never smaller than asked', () => {
  for (const n of [1, 255, 256, 257, 1000, 4096, 5000, 1e6, 123456789]) {
    const b = bucketSize(n);
    assert.ok(b >= n && b <= Math.max(256, n * 1.5), `bucket ${b} for ${n}`);
  }
  assert.is(bucketSize(3 * 1024), 3 * 1024);
  assert.is(bucketSize(3 * 1024 + 1), 4096);
});

s('the pool reuses released buffers and counts live bytes', () => {
  const pool = gpu().pool;
  const t = Tensor.zeros([1000]);
  const live = pool.stats.liveBytes;
  t.dispose();
  assert.is(pool.stats.liveBytes, live - bucketSize(4000));
  const created = pool.stats.created;
  const u = Tensor.zeros([999]);
  assert.is(pool.stats.created, created, 'same bucket reused');
  u.dispose();
});

s('many ops go into one submission; pipelines are compiled once', async () => {
  const g = gpu();
  const x = Tensor.fromArray([1, -2, 3, -4], [4]);
  await g.recorder.sync();
  const subs = g.recorder.stats.submissions, compiled = g.pipelines.compiled;
  let y = x;
  for (let i = 0; i < 50; i++) { const next = F.relu(F.scale(y, 1.01)); if (y !== x) y.dispose(); y = next; }
  await g.recorder.sync();
  assert.is(g.recorder.stats.submissions - subs, 1);
  assert.ok(g.pipelines.compiled - compiled <= 2);
  y.dispose(); x.dispose();
});

s('benchmark timing spans copies as well as dispatches (v7 packs through a buffer-to-texture copy)', async () => {
  const g = gpu();
  if (!g.features.has('timestamp-query')) return; // the wall-clock path always spans everything
  const bytes = 128 * 2 ** 20;
  const a = g.pool.acquire(bytes, 'timer test a'), b = g.pool.acquire(bytes, 'timer test b');
  try {
    const copy = await timeGpu(() => g.recorder.copy(a, 0, b, 0, bytes), 3);
    const nothing = await timeGpu(() => {}, 7);
    // A 128 MiB copy takes milliseconds on any adapter; an empty span, microseconds. The empty
    // spans are compared by their median: one of them now and then catches the host being
    // descheduled between the two timestamps (0.3 ms on a 2-core machine), which says nothing
    // about whether copies are spanned.
    const emptyMedian = [...nothing.ms].sort((x, y) => x - y)[nothing.ms.length >> 1];
    assert.ok(Math.min(...copy.ms) > 20 * Math.max(emptyMedian, 1e-3), `copy ${copy.ms} ms, empty ${nothing.ms} ms`);
  } finally {
    g.pool.release(a); g.pool.release(b);
  }
});

s('profiles group dispatches by kernel, keeping a trailing phase such as packing apart', () => {
  assert.is(kernelName('conv2d fwd v7 x[8,64,56,56] w[256,64,1,1] s1 p0 g1'), 'conv2d fwd v7');
  assert.is(kernelName('conv2d fwd v7 x[8,64,56,56] w[256,64,1,1] s1 p0 g1 pack'), 'conv2d fwd v7 pack');
  assert.is(kernelName('batchnorm2d+relu train x[8,256,56,56]'), 'batchnorm2d+relu train x[8,256,56,56]');
  assert.is(kernelName('SGD step group'), 'SGD step group');
});

s('bad input: wrong data length, bad shape, shape mismatch, use after dispose', () => {
  assertThrowsWith(() => Tensor.fromArray([1, 2, 3], [2, 2]), /fromArray/, /3 values/, /\[2,2\]/);
  assertThrowsWith(() => Tensor.zeros([2, -1]), /invalid shape/);
  const a = Tensor.zeros([2, 3]), b = Tensor.zeros([3, 2]);
  assertThrowsWith(() => F.add(a, b), /add/, /\[2,3\]/, /\[3,2\]/);
  a.dispose();
  assertThrowsWith(() => F.relu(a), /used after dispose/, /2,3/);
  assertThrowsWith(() => F.reshape(b, [4, 2]), /reshape/, /\[3,2\]/);
  b.dispose();
});

s('bad input: a buffer over the device limit, a binding over the binding limit', () => {
  const g = gpu();
  const tooBig = Math.floor(g.limits.maxBufferSize / 4) + 1024;
  assertThrowsWith(() => Tensor.zeros([tooBig]), /maxBufferSize/);
  const fake = { buffer: g.pool.acquire(1024), size: g.limits.maxStorageBufferBindingSize + 256 };
  assertThrowsWith(() => launch({ shader: 'elementwise', entry: 'elementwise_unary', bindings: ['read', 'write', 'uniform'] },
    [fake, fake.buffer], new ArrayBuffer(16), [1, 1, 1], 'relu [huge]'), /relu \[huge\]/, /maxStorageBufferBindingSize/);
  g.pool.release(fake.buffer);
});

s('a device validation error is thrown at the next sync and names the kernel', async () => {
  const g = gpu();
  const small = g.pool.acquire(256);
  // binding offset not aligned to 256: a validation error from the device, not from our checks
  launch({ shader: 'elementwise', entry: 'elementwise_unary', bindings: ['read', 'write', 'uniform'] },
    [{ buffer: small, offset: 4, size: 16 }, small], new ArrayBuffer(16), [1, 1, 1], 'relu [bad-offset]');
  let message = '';
  try { await g.recorder.sync(); } catch (e) { message = (e as Error).message; }
  assert.match(message, /relu \[bad-offset\]/);
  g.pool.release(small);
});

s.run();
