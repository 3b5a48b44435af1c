// Every GPU buffer, texture, query set and bind group goes through src/gpu/resources.ts and is
// counted there; a training loop in steady state creates none of them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { gpu, type ResourceStats } from '../../src/gpu/index.ts';
import { BIND_GROUP_CACHE_SIZE } from '../../src/gpu/recorder.ts';
import { tidy } from '../../src/autograd/scope.ts';
import { ResNeSt } from '../../src/nn/index.ts';
import { SGD, splitWeightDecayGroups } from '../../src/optim/index.ts';
import { Rng } from '../../src/rng.ts';
import { setupGpu } from '../helpers.ts';

const s = suite('gpu: resources');
s.before(setupGpu);

const root = fileURLToPath(new URL('../../', import.meta.url));
const THE_PLACE = 'src/gpu/resources.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['node_modules', 'fixtures', 'artifacts', 'results', 'dist'].includes(name) ? [] : sources(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

s('no file but src/gpu/resources.ts creates or destroys buffers, textures, query sets or bind groups', () => {
  // built from parts so that this file does not match itself
  const create = new RegExp(['(?<!resources)\\.create', '(Buffer|BindGroup|Texture|QuerySet)', '\\s*\\('].join(''));
  const destroy = new RegExp(['\\.destroy', '\\(\\)'].join(''));
  const offenders: string[] = [];
  const files = ['src', 'kernels', 'bench', 'examples', 'scripts', 'test'].flatMap((d) => sources(join(root, d)));
  assert.ok(files.length > 100, `scanned ${files.length} files`);
  for (const file of files) {
    const rel = relative(root, file);
    if (rel === THE_PLACE) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (create.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      // the device itself is not a counted resource: releaseDevice() destroys it, and the demo page's
      // test hook does, to force a device loss
      else if (destroy.test(line) && !/\bdevice\.destroy\(\)/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(offenders, [], `create/destroy outside ${THE_PLACE}:\n${offenders.join('\n')}`);
});

s('created, live and live bytes per kind; destroying twice counts once', () => {
  const resources = gpu().resources, r = resources;
  const before = r.stats();
  const b = resources.createBuffer({ size: 1024, usage: 0x08 | 0x04 });
  const t = resources.createTexture({ size: [8, 4], format: 'rgba32float', usage: 0x04 });
  let mid = r.stats();
  assert.equal([mid.buffers.created - before.buffers.created, mid.buffers.live - before.buffers.live, mid.buffers.liveBytes - before.buffers.liveBytes], [1, 1, 1024]);
  assert.equal([mid.textures.created - before.textures.created, mid.textures.live - before.textures.live, mid.textures.liveBytes - before.textures.liveBytes], [1, 1, 8 * 4 * 16]);
  r.destroy(b); r.destroy(b); r.destroy(t);
  mid = r.stats();
  assert.equal([mid.buffers.live, mid.buffers.liveBytes, mid.textures.live, mid.textures.liveBytes],
    [before.buffers.live, before.buffers.liveBytes, before.textures.live, before.textures.liveBytes]);
  assert.is(mid.buffers.created, before.buffers.created + 1);
});

s('a retired buffer is destroyed when its batch is submitted, or at once when no batch is open (a disposed optimizer frees its arenas)', async () => {
  const g = gpu(), r = g.resources;
  await g.recorder.sync();
  const live = () => r.stats().buffers.live;
  const p = Tensor.fromArray(new Float32Array(64).fill(1), [64], { requiresGrad: true });
  await g.recorder.sync();
  const n0 = live();
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  await g.recorder.sync();
  assert.ok(live() > n0, 'the optimizer made arenas');
  opt.dispose();
  assert.is(live(), n0, 'arenas destroyed at dispose: no batch was open');
  const b = g.resources.createBuffer({ size: 256, usage: 0x80 | 0x08 });
  g.recorder.open();
  g.recorder.retire(b);
  assert.is(live(), n0 + 1, 'kept while the batch that may use it is open');
  await g.recorder.sync();
  assert.is(live(), n0, 'destroyed once that batch is submitted');
  p.dispose();
});

s('readback and upload staging buffers are reused, not made per call', async () => {
  const g = gpu();
  const t = Tensor.zeros([300]);
  const data = Float32Array.from({ length: 300 }, (_, i) => i);
  const round = async () => {
    g.recorder.open(); // a batch is open: the upload goes through a staging buffer
    t.write(data);
    return new Float32Array(await t.toArray());
  };
  await round();
  const before = g.resources.stats();
  for (let i = 0; i < 5; i++) assert.equal(Array.from(await round()), Array.from(data), 'the upload landed');
  const after = g.resources.stats();
  assert.is(after.buffers.created - before.buffers.created, 0, 'no buffer created by 5 uploads and readbacks');
  t.dispose();
});

const counts = (r: ResourceStats) => ({
  buffers: r.buffers.created, liveBuffers: r.buffers.live, liveBytes: r.buffers.liveBytes,
  textures: r.textures.created, liveTextures: r.textures.live, querySets: r.querySets.created, bindGroups: r.bindGroups.created,
});

s('50 training steps of a small ResNeSt (new batch uploaded, focal loss, backward, SGD, loss read back) create nothing after warm-up', async () => {
  const g = gpu();
  const model = new ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 8, planes: [8, 12, 16, 24], numClasses: 40, seed: 3 });
  const opt = new SGD(splitWeightDecayGroups(model.parameters(), 1e-4), { lr: 0.05, momentum: 0.9, nesterov: true });
  const rng = new Rng(7);
  const [batch, size] = [2, 32];
  const alpha = Float32Array.from({ length: 40 }, (_, j) => (j % 3 === 2 ? -1 : 0.25));
  const losses: number[] = [];
  const step = async () => {
    const x = Tensor.fromArray(Float32Array.from({ length: batch * 3 * size * size }, () => rng.normal()), [batch, 3, size, size]);
    opt.zeroGrad();
    const logits = tidy(() => model.forward(x));
    // targets uploaded while the step's batch is open: through a staging buffer
    const y = Tensor.fromArray(Float32Array.from({ length: batch * 40 }, () => (rng.uniform() < 0.3 ? 0.95 : 0.05)), [batch, 40]);
    const loss = tidy(() => F.sigmoidFocalLoss(logits, y, { alpha, gamma: 2 }));
    loss.backward();
    opt.step();
    const { value, nonFinite } = await F.readLoss(loss);
    assert.is(nonFinite, 0);
    losses.push(value);
    for (const t of [x, y, logits, loss]) t.dispose();
  };
  for (let i = 0; i < 3; i++) await step();
  const before = counts(g.resources.stats()), poolBefore = { ...g.pool.stats };
  for (let i = 0; i < 50; i++) await step();
  const after = counts(g.resources.stats());
  assert.equal(after, before, 'buffers, textures, query sets and bind groups: none created, none leaked');
  assert.is(g.pool.stats.created, poolBefore.created, 'pool');
  assert.is(g.pool.stats.liveBytes, poolBefore.liveBytes, 'pool live bytes');
  assert.ok(g.recorder.bindGroupCacheSize <= BIND_GROUP_CACHE_SIZE, `bind group cache ${g.recorder.bindGroupCacheSize}`);
  assert.ok(losses.every(Number.isFinite) && losses.length === 53);
  model.dispose();
});

s.run();
