import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_HEADER_SIZE, SafetensorsError, parseSafetensors } from '../../src/io/safetensors.ts';

const s = suite('io: safetensors validation');
const SOURCE = 'weights/bad.safetensors';

/** A file with a hand-written header (string or object) followed by `dataBytes` zero bytes. */
function craft(header: string | object, dataBytes: number, headerLength?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(text.byteLength), true);
  out.set(text, 8);
  return out;
}

const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

function rejects(bytes: Uint8Array, pattern: RegExp, key?: string): void {
  try {
    parseSafetensors(bytes, SOURCE);
  } catch (e) {
    assert.instance(e, SafetensorsError);
    const err = e as SafetensorsError;
    assert.ok(err.message.includes(SOURCE), `source missing from: ${err.message}`);
    assert.is(err.key, key, `key in: ${err.message}`);
    if (key !== undefined) assert.ok(err.message.includes(`"${key}"`), `key missing from: ${err.message}`);
    assert.match(err.message, pattern);
    return;
  }
  assert.unreachable(`accepted a file that should fail with ${pattern}`);
}

s('file shorter than the length prefix', () => {
  rejects(new Uint8Array(5), /shorter than the 8-byte header length prefix/);
});

s('header length past the end of the file, and past the size limit', () => {
  rejects(craft({ a: f32(0, 4) }, 4, 1000n), /header length 1000 runs past the end of the file/);
  rejects(craft('{}', 0, BigInt(MAX_HEADER_SIZE) + 1n), /exceeds the 100000000-byte limit/);
  rejects(craft('{}', 0, 2n ** 64n - 1n), /exceeds/);
});

s('header that is not JSON, not UTF-8, or not an object', () => {
  rejects(craft('{"a": {"dtype": "F32",', 0), /not valid UTF-8 JSON/);
  const bad = craft('{"\u00e9":1}', 0);
  bad[10] = 0xff; // break the UTF-8 sequence
  rejects(bad, /not valid UTF-8 JSON/);
  rejects(craft('[1, 2]', 0), /not a JSON object/);
  rejects(craft('null', 0), /not a JSON object/);
});

s('duplicate keys, even though JSON.parse would silently keep the last one', () => {
  rejects(craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
    /more than once/, 'w');
  // Nested objects may reuse names freely.
  const ok = craft('{"__metadata__":{"w":"x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4);
  assert.is(parseSafetensors(ok).tensors.size, 1);
});

s('metadata must be a flat string map', () => {
  rejects(craft({ __metadata__: { epoch: 3 }, a: f32(0, 4) }, 4), /"__metadata__" entry "epoch" is not a string/);
  rejects(craft({ __metadata__: ['x'] }, 0), /"__metadata__" is not an object/);
  assert.equal(parseSafetensors(craft({ __metadata__: null }, 0)).metadata, {});
});

s('unknown dtype, malformed shape or offsets', () => {
  rejects(craft({ w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4), /unknown or unsupported dtype "F8_E4M3"/, 'w');
  rejects(craft({ w: { dtype: 'f32', shape: [1], data_offsets: [0, 4] } }, 4), /unknown or unsupported dtype/, 'w');
  rejects(craft({ w: { shape: [1], data_offsets: [0, 4] } }, 4), /dtype undefined/, 'w');
  rejects(craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /shape \[-1\]/, 'w');
  rejects(craft({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4), /shape/, 'w');
  rejects(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /data_offsets \[0\]/, 'w');
  rejects(craft({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4), /end before they begin/, 'w');
  rejects(craft({ w: 'F32' }, 0), /entry is not an object/, 'w');
});

s('byte size must equal prod(shape) x dtype size', () => {
  rejects(craft({ w: f32(0, 12, [2, 2]) }, 12), /byte size 12 != 4 \(F32\) x prod\(\[2,2\]\) = 16/, 'w');
  rejects(craft({ n: { dtype: 'I64', shape: [], data_offsets: [0, 4] } }, 4), /byte size 4 != 8 \(I64\)/, 'n');
});

s('offsets must tile the data buffer: overlaps, gaps, out of range, trailing bytes', () => {
  rejects(craft({ a: f32(0, 8), b: f32(4, 12) }, 12), /overlap tensor "a"/, 'b');
  rejects(craft({ a: f32(0, 4), b: f32(8, 12) }, 12), /leave a gap: the previous tensor ends at 4/, 'b');
  rejects(craft({ a: f32(4, 8) }, 8), /leave a gap: the previous tensor ends at 0/, 'a');
  rejects(craft({ a: f32(0, 4), b: f32(4, 400) }, 8), /run past the end of the data buffer \(8 bytes\)/, 'b');
  rejects(craft({ a: f32(0, 4) }, 8), /data buffer is 8 bytes but the tensors cover 4/);
});

s('truncated file: the header promises more data than is present', () => {
  const whole = craft({ a: f32(0, 16), b: f32(16, 32) }, 32);
  rejects(whole.subarray(0, whole.byteLength - 3), /file truncated/, 'b');
});

s('offsets listed out of order are fine when they tile; zero-size tensors may share an offset', () => {
  const file = parseSafetensors(craft({
    late: f32(8, 12), early: f32(0, 8), none: f32(8, 8, [0, 2]), scalar: { dtype: 'I64', shape: [], data_offsets: [12, 20] },
  }, 20));
  assert.equal([...file.tensors.keys()], ['early', 'none', 'late', 'scalar']);
  assert.equal(file.tensors.get('none')!.shape, [0, 2]);
  assert.is(parseSafetensors(craft({}, 0)).tensors.size, 0);
});

s('default source name is used when none is given', () => {
  assert.throws(() => parseSafetensors(new Uint8Array(3)), /safetensors: <bytes>:/);
});

s.run();
