// Hostile and damaged torch.save files: each is refused with an error naming the file and the
// global, opcode, storage or tensor at fault, and nothing in them is ever run. The files come
// from scripts/fixtures/torch_pth_fixtures.py; raw pickles are written here byte by byte.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { PickleError, unpickle } from '../../src/io/pickle.ts';
import { parseTorchStateDict } from '../../src/io/torch_state_dict.ts';
import { torchGlobals } from '../../src/io/torch_pickle.ts';

const dir = new URL('fixtures/torch/', import.meta.url);
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));

function rejects(name: string, data: Uint8Array, ...patterns: RegExp[]): void {
  let message = '';
  try { parseTorchStateDict(data, name); } catch (e) { message = (e as Error).message; }
  assert.ok(message, `${name} was accepted`);
  assert.ok(message.includes(name), `file name missing from: ${message}`);
  for (const p of patterns) assert.match(message, p, `"${message}" should match ${p}`);
}
const rejectsFile = (name: string, ...patterns: RegExp[]) => rejects(name, bytes(name), ...patterns);

const s = suite('io: torch .pth reader refuses hostile and damaged files');

s('a pickle that would call os.system is refused at the global, in both formats', () => {
  rejectsFile('bad_os_system.pth', /refuses the global posix\.system/, /nothing is executed/);
  rejectsFile('bad_os_system_legacy.pth', /refuses the global posix\.system/);
});

s('an unknown global (argparse.Namespace in a checkpoint) is refused by name', () => {
  rejectsFile('bad_unknown_global.pth', /refuses the global argparse\.Namespace/);
});

s('a state_dict entry that is not a tensor is named', () => {
  rejectsFile('bad_not_a_tensor.pth', /entry "sizes" is a tuple\/list, not a tensor/);
});

s('views reaching past their storage: offset, and stride', () => {
  rejectsFile('bad_offset_past_end.pth', /tensor "w" \(storage 0, F32, 4 elements\): offset 2, size \[3\], stride \[1\] reach element 4, past the end/);
  rejectsFile('bad_stride_past_end.pth', /tensor "w" .*size \[2,2\], stride \[3,1\] reach element 4/);
});

s('storage bytes disagreeing with the declared element count or dtype, and huge declared sizes', () => {
  rejectsFile('bad_storage_size.pth', /storage 0: 10 elements of F32 need 40 bytes but bad_storage_size\/data\/0 holds 16/);
  rejectsFile('bad_storage_dtype.pth', /storage 0: 4 elements of I64 need 32 bytes .* holds 16/);
  rejectsFile('bad_huge_storage.pth', /storage 0: 1125899906842624 elements of F32 need 4503599627370496 bytes .* holds 16/);
  rejectsFile('bad_huge_tensor.pth', /tensor "w" .*size \[1048576,1048576\] is larger than the 2147483648-byte limit/);
  rejectsFile('bad_missing_storage.pth', /storage 7: no entry bad_missing_storage\/data\/7 in the zip/);
});

s('a compressed zip entry, and bytes that are no torch file at all', () => {
  rejectsFile('bad_compressed.pth', /entry "bad_compressed\/data\.pkl" is compressed \(method 8\)/);
  rejects('weights.bin', new TextEncoder().encode('{"not": "a torch file"}'), /neither a torch\.save zip nor a legacy torch\.save file/);
});

s('legacy storage sections: an element count that disagrees with the pickle, or is huge', () => {
  const file = bytes('tiny_legacy.pth');
  // Walk the five pickles to the first storage's i64 element count.
  const storage = (id: unknown) => ({ kind: 'storage', key: String((id as unknown[])[2]), dtype: 'F32', numel: 0, bytes: new Uint8Array() });
  let end = 0;
  for (let i = 0; i < 5; i++) end = unpickle(file, { source: 'walk', globals: torchGlobals(), persistentLoad: storage }, end).end;
  const view = new DataView(file.buffer, file.byteOffset);
  const declared = view.getBigInt64(end, true);
  for (const count of [declared + 1n, 2n ** 62n]) {
    const damaged = file.slice();
    new DataView(damaged.buffer).setBigInt64(end, count, true);
    rejects('tiny_legacy.pth', damaged, new RegExp(`the file holds ${count} elements where the pickle declares ${declared}`));
  }
});

/** Raw pickle bytes: numbers are bytes, strings are latin1 text. */
const pickle = (...parts: Array<number | string>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p].map((c) => c.charCodeAt(0)))));

function refusedPickle(data: Uint8Array, ...patterns: RegExp[]): void {
  try {
    unpickle(data, { source: 'crafted.pkl', globals: torchGlobals(), persistentLoad: () => { throw new Error('no storages here'); } });
  } catch (e) {
    assert.instance(e, PickleError);
    for (const p of [/^pickle: crafted\.pkl: byte \d+: /, ...patterns]) assert.match((e as Error).message, p);
    return;
  }
  assert.unreachable(`accepted a pickle that should fail with ${patterns.join(', ')}`);
}

s('memo and stack abuse in a raw pickle', () => {
  refusedPickle(pickle(0x80, 2, 'h', 5, '.'), /byte 2: memo entry 5 is read before it is written/);
  refusedPickle(pickle(0x80, 2, '0.'), /pops from an empty stack/);
  refusedPickle(pickle(0x80, 2, ']K', 1, 'e.'), /needs a MARK but none is open/);
  refusedPickle(pickle(0x80, 2, 'K', 1, '(0.'), /byte 5: pops from an empty stack/); // not below an open MARK
  refusedPickle(pickle(0x80, 2, '(.'), /STOP with a MARK still open/);
  refusedPickle(pickle(0x80, 2, 'K', 1, 'K', 2, 'K', 3, 's.'), /SETITEM\(S\) on a number, not a dict/);
  refusedPickle(pickle(0x80, 2, '])R.'), /REDUCE calls a tuple\/list, which is not an allowlisted function/);
  refusedPickle(pickle(0x80, 2, 'N'), /needs 1 more bytes but the stream ends at byte 3 \(truncated\?\)/);
});

s('huge declared lengths, refused opcodes and persistent ids that are not storages', () => {
  refusedPickle(pickle(0x80, 2, 'X', 0xff, 0xff, 0xff, 0xff, 'ab.'), /needs 4294967295 more bytes/);
  refusedPickle(pickle(0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40, '.'), /declared length 4611686018427387904 exceeds the stream/);
  refusedPickle(pickle(0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0xff, '.'), /needs -1 more bytes/);
  refusedPickle(pickle(0x80, 2, 'ios\nsystem\n.'), /refuses opcode INST/);
  refusedPickle(pickle(0x80, 2, 0x82, 1, '.'), /refuses opcode EXT1/);
  refusedPickle(pickle(0x80, 2, 0x81, '.'), /refuses opcode NEWOBJ/);
  refusedPickle(pickle(0x80, 2, 0xff), /unknown opcode 0xff/);
  refusedPickle(pickle(0x80, 2, 'cbuiltins\neval\n.'), /refuses the global builtins\.eval/);
  refusedPickle(pickle(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'exec', 0x93, '.'), /refuses the global builtins\.exec/);
  refusedPickle(pickle(0x80, 2, 'K', 3, 'Q.'), /no storages here/);
});

s.run();
