// Per-device state: the generic state slot, the adapter description, the scratch pool.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gpu } from '../../src/gpu/index.ts';
import { assertThrowsWith, setupGpu } from '../helpers.ts';

const s = suite('gpu: per-device state');
s.before(setupGpu);

s('state(key, create) makes each key\'s value once and keeps keys apart', () => {
  const g = gpu();
  let made = 0;
  const a = g.state('test state a', () => ({ n: ++made }));
  assert.is(g.state('test state a', () => ({ n: ++made })), a);
  const b = g.state('test state b', () => ({ n: ++made }));
  assert.is.not(b, a);
  assert.is(made, 2);
});

s('the adapter description carries the limits and features the device was made with', () => {
  const a = gpu().adapter;
  assert.is(a.limits, gpu().limits);
  assert.is(a.features, gpu().features);
  // this machine runs lavapipe; a hardware adapter must say so in its own words
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  assert.is(a.software, /llvmpipe|lavapipe|swiftshader|software|warp/i.test(text), text);
});

s('scratch pool: textures bucketed by rows and reused once released; uniform buffers likewise', () => {
  const sp = gpu().scratch;
  const t = sp.acquireTexture(64, 5, 'scratch test');
  assert.is(t.rows, 6); // 5 rows -> the 3/4 midpoint bucket of 8
  sp.releaseTexture(t);
  assert.is(sp.acquireTexture(64, 6, 'scratch test'), t);
  const other = sp.acquireTexture(32, 6, 'scratch test');
  assert.is.not(other, t, 'a texture of another width is not reused');
  sp.releaseTexture(t); sp.releaseTexture(other);
  const u = sp.acquireUniform(1000, 'scratch test');
  assert.is(u.size, 1024);
  sp.releaseUniform(u);
  assert.is(sp.acquireUniform(1024, 'scratch test'), u);
  sp.releaseUniform(u);
  const max = gpu().limits.maxTextureDimension2D;
  assertThrowsWith(() => sp.acquireTexture(64, max + 1, 'big grid'), /big grid/, /maxTextureDimension2D/);
});

s.run();
