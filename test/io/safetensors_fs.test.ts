import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors_fs.ts';

const s = suite('io: safetensors files');
let dir = '';
s.before(() => { dir = mkdtempSync(join(tmpdir(), 'safetensors-')); });
s.after(() => rmSync(dir, { recursive: true, force: true }));

s('save then load from a path, a URL and raw bytes', async () => {
  const path = join(dir, 'w.safetensors');
  await saveSafetensors(path, { w: { dtype: 'F32', shape: [3], data: [1, 2, 3] } }, { step: '7' });
  for (const source of [path, new URL(`file://${path}`), new Uint8Array(readFileSync(path))]) {
    const file = await loadSafetensors(source);
    assert.equal(file.metadata, { step: '7' });
    assert.equal(Array.from(file.tensors.get('w')!.data as Float32Array), [1, 2, 3]);
  }
  assert.equal(readdirSync(dir), ['w.safetensors'], 'no temp file left behind');
});

s('overwrite replaces the whole file; a failed save leaves the old file untouched', async () => {
  const path = join(dir, 'ckpt.safetensors');
  await saveSafetensors(path, { a: { dtype: 'F32', shape: [1000], data: new Float32Array(1000) } });
  await saveSafetensors(path, { b: { dtype: 'I64', shape: [], data: [5n] } });
  const before = readFileSync(path);
  assert.equal([...(await loadSafetensors(path)).tensors.keys()], ['b']);
  try {
    await saveSafetensors(path, { c: { dtype: 'F32', shape: [2], data: [1] } });
    assert.unreachable('bad tensor accepted');
  } catch (e) {
    assert.match((e as Error).message, /tensor "c"/);
  }
  assert.equal(readFileSync(path), before);
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

s('load errors name the file path', async () => {
  const path = join(dir, 'broken.safetensors');
  writeFileSync(path, new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 123]));
  try {
    await loadSafetensors(path);
    assert.unreachable('truncated header accepted');
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`${path.replace(/[.]/g, '\\.')}: header length 200 runs past`));
  }
  try {
    await saveSafetensors(join(dir, 'missing-dir', 'x.safetensors'), {});
    assert.unreachable('wrote into a missing directory');
  } catch (e) {
    assert.match((e as Error).message, /ENOENT/);
  }
});

s.run();
