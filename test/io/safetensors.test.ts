import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors.ts';
import { f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from '../../src/io/safetensors_dtypes.ts';

const s = suite('io: safetensors');
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

function headerOf(bytes: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(bytes.subarray(8, 8 + length)) };
}

s('round trip keeps dtype, shape, values and metadata for every dtype', () => {
  const input: Record<string, TensorToWrite> = {
    f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -0, Infinity, 3e-42]) },
    f64: { dtype: 'F64', shape: [3], data: [0.5, -2, 1e-300] },
    f16: { dtype: 'F16', shape: [4], data: [1, -2.5, 65504, 2 ** -24] },
    bf16: { dtype: 'BF16', shape: [2], data: [-3.140625, 2 ** 100] },
    i64: { dtype: 'I64', shape: [3], data: [-1n, 2n ** 62n, 5n] },
    u64: { dtype: 'U64', shape: [1], data: [2n ** 64n - 1n] },
    i32: { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 7]) },
    u32: { dtype: 'U32', shape: [1], data: [2 ** 32 - 1] },
    i16: { dtype: 'I16', shape: [1], data: [-32768] },
    u16: { dtype: 'U16', shape: [1], data: [65535] },
    i8: { dtype: 'I8', shape: [2], data: [-128, 127] },
    u8: { dtype: 'U8', shape: [2, 1], data: [0, 255] },
    flag: { dtype: 'BOOL', shape: [3], data: [true, false, true] },
    scalar: { dtype: 'I64', shape: [], data: [42n] },
    empty: { dtype: 'F32', shape: [0, 3], data: [] },
  };
  const parsed = parseSafetensors(serializeSafetensors(input, { config: '{"a":1}', 'ü': '✓' }));
  assert.equal(parsed.metadata, { config: '{"a":1}', 'ü': '✓' });
  assert.equal([...parsed.tensors.keys()].sort(), Object.keys(input).sort());
  for (const [key, t] of Object.entries(input)) {
    const got = parsed.tensors.get(key)!;
    assert.is(got.dtype, t.dtype, key);
    assert.equal(got.shape, [...t.shape], key);
    const want = Array.from(t.data as ArrayLike<number | bigint | boolean>, (v) => (typeof v === 'boolean' ? Number(v) : v));
    const expected = t.dtype === 'F64' ? want.map((v) => Math.fround(v as number)) : want;
    assert.equal(Array.from(got.data as ArrayLike<number | bigint>), expected, key);
  }
  const f32 = parsed.tensors.get('f32')!.data;
  assert.ok(f32 instanceof Float32Array && Object.is(f32[1], -0));
  assert.ok(parsed.tensors.get('i64')!.data instanceof BigInt64Array);
  assert.ok(parsed.tensors.get('flag')!.data instanceof Uint8Array);
});

s('writer layout: descending dtype size then name, space-padded header, 8-aligned data', () => {
  const bytes = serializeSafetensors(new Map<string, TensorToWrite>([
    ['b', { dtype: 'F32', shape: [1], data: [1] }],
    ['a', { dtype: 'F32', shape: [1], data: [2] }],
    ['n', { dtype: 'I64', shape: [], data: [3] }],
    ['h', { dtype: 'F16', shape: [3], data: [1, 2, 3] }],
    ['10', { dtype: 'U8', shape: [1], data: [9] }],
  ]));
  const { length, text } = headerOf(bytes);
  assert.is(length % 8, 0);
  assert.is(text.trimEnd(), '{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},'
    + '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},'
    + '"h":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"10":{"dtype":"U8","shape":[1],"data_offsets":[22,23]}}');
  assert.ok(/^ *$/.test(text.slice(text.trimEnd().length)));
  assert.is(bytes.byteLength, 8 + length + 23);
});

s('aligned F32 data is a view over the input bytes, unaligned data is copied', () => {
  const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: [1, 2] } });
  const view = parseSafetensors(bytes).tensors.get('w')!.data as Float32Array;
  assert.is(view.buffer, bytes.buffer);
  const shifted = new Uint8Array(bytes.byteLength + 1);
  shifted.set(bytes, 1);
  const copy = parseSafetensors(shifted.subarray(1)).tensors.get('w')!.data as Float32Array;
  assert.is.not(copy.buffer, shifted.buffer);
  assert.equal(Array.from(copy), [1, 2]);
});

s('F16 and BF16 conversions round to nearest even and keep specials', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [2 ** -24, 0x0001], [2 ** -25, 0x0000],
    [3 * 2 ** -26, 0x0001], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    [-0, 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00],
  ];
  for (const [x, bits] of cases) assert.is(numberToF16Bits(x), bits, `f16(${x})`);
  assert.ok(Number.isNaN(f16BitsToNumber(numberToF16Bits(NaN))));
  for (let h = 0; h < 0x7c00; h += 37) assert.is(numberToF16Bits(f16BitsToNumber(h)), h);
  assert.is(numberToBf16Bits(1), 0x3f80);
  assert.is(numberToBf16Bits(1 + 2 ** -8), 0x3f80); // tie -> even
  assert.is(numberToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
  assert.ok((numberToBf16Bits(NaN) & 0x7fc0) === 0x7fc0);
});

s('file written from PyTorch tensors (scripts/fixtures/st.py) loads and re-serialises byte-identically', () => {
  const bytes = new Uint8Array(readFileSync(fixture('mixed_dtypes.safetensors')));
  const file = parseSafetensors(bytes, 'mixed_dtypes.safetensors');
  assert.equal(file.metadata, { format: 'pt', note: 'ünïcode ✓' });
  const values = (key: string) => Array.from(file.tensors.get(key)!.data as ArrayLike<number | bigint>);
  const shape = (key: string) => file.tensors.get(key)!.shape;
  assert.equal(values('f32'), [1.5, -0, Infinity, -Infinity, Math.fround(3.4e38), Math.fround(1e-45)]);
  assert.equal(shape('f32'), [2, 3]);
  assert.equal(values('f16'), [1, -2.5, 65504, 2 ** -24, Infinity]);
  assert.equal(values('bf16'), [1, -3.140625, 2 ** 100]);
  assert.equal(values('f64'), [Math.fround(0.1), -(2 ** -130)]);
  assert.equal(values('i64_scalar'), [1234567890123n]);
  assert.equal(shape('i64_scalar'), []);
  assert.equal(values('i64'), [-1n, 2n ** 62n, 0n]);
  assert.equal(values('i32'), [-7, 2 ** 31 - 1, -(2 ** 31), 0]);
  assert.equal(values('u8'), [0, 1, 254, 255]);
  assert.equal(values('bool'), [1, 0, 1]);
  assert.equal(shape('empty'), [0, 4]);
  assert.equal(values('layer1.0.conv2.fc1.weight'), [0, 0.25, 0.5, 0.75, 1, 1.25]);
  assert.equal(shape('layer1.0.conv2.fc1.weight'), [3, 2, 1, 1]);
  // The Python writer follows the same layout rules, so our writer reproduces its bytes exactly.
  // F64 is excluded from the rewrite because the reader narrows it to f32.
  const tensors = new Map([...file.tensors].map(([k, t]) => [k, k === 'f64' ? { ...t, data: [0.1, -(2 ** -130)] } : t]));
  assert.equal(serializeSafetensors(tensors, file.metadata), bytes);
});

s('serialize rejects mismatched element counts, reserved names and out-of-range integers', () => {
  assert.throws(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3] } }), /tensor "w".*3 values/);
  assert.throws(() => serializeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: [1] } }), /reserved/);
  assert.throws(() => serializeSafetensors({ b: { dtype: 'U8', shape: [1], data: [256] } }), /does not fit U8/);
  assert.throws(() => serializeSafetensors({ b: { dtype: 'I32', shape: [1], data: [0.5] } }), /does not fit I32/);
  assert.throws(() => serializeSafetensors({ b: { dtype: 'I64', shape: [1], data: [2n ** 63n] } }), /does not fit I64/);
  assert.throws(() => serializeSafetensors({ b: { dtype: 'X9' as 'F32', shape: [1], data: [1] } }), /unknown dtype/);
});

s.run();
