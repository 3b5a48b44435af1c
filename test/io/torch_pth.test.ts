// Reading torch.save files without PyTorch: every fixture written by PyTorch 1.13
// (scripts/fixtures/torch_pth_fixtures.py), in both container formats, against the same tensors
// stored contiguously as safetensors. Values must match exactly: the reader only moves bytes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseSafetensors, type SafetensorsTensor } from '../../src/io/safetensors.ts';
import { parseTorchStateDict, type TorchStateDict } from '../../src/io/torch_state_dict.ts';
import { loadTorchStateDict, loadWeights } from '../../src/io/weights_fs.ts';

const dir = new URL('fixtures/torch/', import.meta.url);
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const parse = (name: string): TorchStateDict => parseTorchStateDict(bytes(name), name);
const expected = parseSafetensors(bytes('tiny.expected.safetensors'), 'tiny.expected.safetensors').tensors;

function assertSameTensor(actual: SafetensorsTensor | undefined, want: SafetensorsTensor, key: string): void {
  assert.ok(actual, `missing ${key}`);
  assert.is(actual!.dtype, want.dtype, `${key} dtype`);
  assert.equal(actual!.shape, want.shape, `${key} shape`);
  assert.is(actual!.data.constructor, want.data.constructor, `${key} array type`);
  assert.equal(Array.from(actual!.data as ArrayLike<number | bigint>), Array.from(want.data as ArrayLike<number | bigint>), `${key} values`);
}

const s = suite('io: torch .pth reader');

for (const [name, format] of [['tiny.pth', 'zip'], ['tiny_legacy.pth', 'legacy']] as const) {
  s(`${name}: every tensor equals PyTorch's contiguous copy (dtypes, views, shared storage)`, () => {
    const file = parse(name);
    assert.is(file.format, format);
    assert.equal(file.notes, []);
    assert.equal([...file.tensors.keys()].sort(), [...expected.keys()].sort());
    for (const [key, want] of expected) assertSameTensor(file.tensors.get(key), want, `${name}: ${key}`);
  });

  s(`${name}: spot values computed here, independently of the fixture`, () => {
    const t = parse(name).tensors;
    assert.is(t.get('1.num_batches_tracked')!.dtype, 'I64');
    assert.equal(t.get('1.num_batches_tracked')!.shape, []);
    assert.is((t.get('1.num_batches_tracked')!.data as BigInt64Array)[0], 7n);
    const base = (i: number, j: number) => (i * 6 + j) * 0.5 - 3;
    assert.equal([...t.get('view.window')!.data as Float32Array], [base(1, 2), base(1, 3), base(1, 4), base(2, 2), base(2, 3), base(2, 4)]);
    assert.equal(t.get('view.transposed')!.shape, [6, 4]);
    assert.is((t.get('view.transposed')!.data as Float32Array)[1 * 4 + 2], base(2, 1));
    assert.equal([...t.get('view.expanded')!.data as Float32Array], [1.5, -2, 3.25, 1.5, -2, 3.25]);
    const a = t.get('shared.a')!.data as Float32Array, b = t.get('shared.b')!.data as Float32Array;
    assert.equal([a[3], a[4]], [b[0], b[1]], 'overlapping slices of one storage agree');
    assert.equal([...t.get('int32')!.data as Int32Array], [-5, 7, 2 ** 31 - 1, -(2 ** 31)]);
    assert.equal([...t.get('bool')!.data as Uint8Array], [1, 0, 1]);
    assert.equal(t.get('scalar')!.shape, []);
    assert.equal([...t.get('scalar')!.data as Float32Array], [2.5]);
    assert.equal(t.get('empty')!.shape, [0, 3]);
    assert.is(t.get('half')!.dtype, 'F16');
    assert.is(t.get('bfloat16')!.dtype, 'BF16');
  });
}

s('a checkpoint nests the state_dict under "state_dict" with DataParallel "module." keys: both undone, with notes', () => {
  const file = parse('wrapped.pth');
  assert.is(file.notes.length, 2);
  assert.match(file.notes[0]!, /under the 'state_dict' key/);
  assert.match(file.notes[1]!, new RegExp(`stripped the 'module\\.' prefix .* from ${expected.size} keys`));
  for (const [key, want] of expected) assertSameTensor(file.tensors.get(key), want, `wrapped: ${key}`);
});

s('hand-made layout (torch.load reads it) and the same file with ZIP64 end records and extra fields', () => {
  for (const name of ['handmade_ok.pth', 'handmade_zip64.pth']) {
    const w = parse(name).tensors.get('w')!;
    assert.equal(w.shape, [2, 1], name);
    assert.equal([...w.data as Float32Array], [2, 4], name);
  }
});

s('a ResNeSt state_dict saved by PyTorch equals the committed safetensors weights, in both formats', () => {
  const reference = parseSafetensors(new Uint8Array(readFileSync(new URL('../../../fixtures/model/resnest_tiny_r2k1.safetensors', dir))), 'r2k1').tensors;
  for (const name of ['resnest_tiny_r2k1.pth', 'resnest_tiny_r2k1_legacy.pth']) {
    const file = parse(name);
    assert.ok(file.tensors.size > 100, `${name}: ${file.tensors.size} tensors`);
    for (const [key, t] of file.tensors) assertSameTensor(t, reference.get(key)!, `${name}: ${key}`);
  }
});

s('every truncation of a file is refused with an error naming the file', () => {
  for (const name of ['tiny.pth', 'tiny_legacy.pth']) {
    const whole = bytes(name);
    for (let length = 0; length < whole.byteLength; length += name === 'tiny.pth' ? 7 : 1) {
      let message = '';
      try { parseTorchStateDict(whole.slice(0, length), name); } catch (e) { message = (e as Error).message; }
      assert.ok(message.includes(name), `${name} cut to ${length} bytes: ${message ? `error without the file name: ${message}` : 'accepted'}`);
    }
  }
});

s('Node helpers: loadTorchStateDict reads a path, loadWeights tells torch files from safetensors', async () => {
  const path = new URL('tiny_legacy.pth', dir);
  const file = await loadTorchStateDict(path);
  assert.ok(file.tensors.has('0.weight'));
  const fromTorch = await loadWeights(new URL('tiny.pth', dir));
  assertSameTensor(fromTorch.tensors.get('0.weight'), expected.get('0.weight')!, 'loadWeights .pth');
  const fromSafetensors = await loadWeights(new URL('tiny.expected.safetensors', dir));
  assert.equal(fromSafetensors.notes, []);
  assertSameTensor(fromSafetensors.tensors.get('half'), expected.get('half')!, 'loadWeights .safetensors');
});

s.run();
