// The ZIP container of torch.save (PyTorch >= 1.6): entries stored uncompressed, ZIP64 when large.
// Browser-safe. Layout: <prefix>/data.pkl (the pickle), <prefix>/data/<key> (one storage's raw
// little-endian bytes per key), <prefix>/version, optionally <prefix>/byteorder; the prefix is
// the saved file's stem (or "archive").
import { unpickle } from './pickle.ts';
import { DTYPE_SIZES } from './safetensors_dtypes.ts';
import { storageFromId, torchGlobals, type TorchStorage } from './torch_pickle.ts';

export class TorchFileError extends Error {
  constructor(readonly source: string, detail: string) {
    super(`torch: ${source}: ${detail}`);
    this.name = 'TorchFileError';
  }
}

const EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

export const isZip = (bytes: Uint8Array) => bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/** Every entry's bytes (views, no copies), checked to lie inside the file. */
export function readZipEntries(bytes: Uint8Array<ArrayBuffer>, source: string): Map<string, Uint8Array<ArrayBuffer>> {
  const fail = (detail: string): never => { throw new TorchFileError(source, detail); };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.byteLength;
  const u64 = (at: number, what: string): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(size)) fail(`${what} ${v} lies past the end of the file (${size} bytes): truncated?`);
    return Number(v);
  };
  let eocd = -1;
  for (let at = size - 22; at >= Math.max(0, size - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === EOCD) { eocd = at; break; }
  }
  if (eocd < 0) fail('no ZIP end-of-central-directory record: the file is truncated or not a zip');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) fail('ZIP64 sizes without a ZIP64 locator');
    const record = u64(locator + 8, 'ZIP64 end record offset');
    if (record + 56 > size || view.getUint32(record, true) !== ZIP64_EOCD) fail(`no ZIP64 end record at byte ${record}`);
    count = u64(record + 32, 'ZIP64 entry count');
    cdSize = u64(record + 40, 'ZIP64 central directory size');
    cdOffset = u64(record + 48, 'ZIP64 central directory offset');
  }
  if (cdOffset + cdSize > size) fail(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the end of the file (${size} bytes): truncated?`);

  const entries = new Map<string, Uint8Array<ArrayBuffer>>();
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cdOffset + cdSize || view.getUint32(at, true) !== CENTRAL) fail(`central directory entry ${i} of ${count} is missing or damaged at byte ${at}`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    let compressed = view.getUint32(at + 20, true);
    let uncompressed = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true), extraLength = view.getUint16(at + 30, true), commentLength = view.getUint16(at + 32, true);
    let local = view.getUint32(at + 42, true);
    if (at + 46 + nameLength + extraLength > size) fail(`central directory entry ${i} runs past the end of the file`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // ZIP64 extended information: the 64-bit values of the fields saturated above, in this order.
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength;) {
      const id = view.getUint16(e, true), length = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let field = e + 4;
        const next = (what: string) => {
          if (field + 8 > e + 4 + length) fail(`entry "${name}": ZIP64 extra field lacks its ${what}`);
          const v = u64(field, `entry "${name}": ${what}`);
          field += 8;
          return v;
        };
        if (uncompressed === 0xffffffff) uncompressed = next('size');
        if (compressed === 0xffffffff) compressed = next('compressed size');
        if (local === 0xffffffff) local = next('header offset');
      }
      e += 4 + length;
    }
    if (flags & 1) fail(`entry "${name}" is encrypted`);
    if (method !== 0) fail(`entry "${name}" is compressed (method ${method}); torch.save stores entries uncompressed`);
    if (compressed !== uncompressed) fail(`entry "${name}": stored size ${compressed} differs from its size ${uncompressed}`);
    if (local + 30 > size || view.getUint32(local, true) !== LOCAL) fail(`entry "${name}": no local header at byte ${local}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + uncompressed > size) fail(`entry "${name}" [${start}, ${start + uncompressed}) runs past the end of the file (${size} bytes): truncated?`);
    if (entries.has(name)) fail(`entry "${name}" appears twice`);
    entries.set(name, bytes.subarray(start, start + uncompressed));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The object saved in a zip-format file, its storages resolved from data/<key>. */
export function loadZipPickle(bytes: Uint8Array<ArrayBuffer>, source: string): unknown {
  const entries = readZipEntries(bytes, source);
  const pickleName = [...entries.keys()].find((n) => /^[^/]*\/?data\.pkl$/.test(n));
  if (pickleName === undefined) throw new TorchFileError(source, `no data.pkl among the zip entries (${[...entries.keys()].slice(0, 5).join(', ')}): not a torch.save file`);
  const prefix = pickleName.slice(0, pickleName.length - 'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder) !== 'little') throw new TorchFileError(source, 'saved on a big-endian machine (byteorder is not "little"): not supported');
  const storages = new Map<string, TorchStorage>();
  const { value } = unpickle(entries.get(pickleName)!, {
    source: `${source}: ${pickleName}`,
    globals: torchGlobals(),
    persistentLoad: (id) => storageFromId(id, (key, dtype, numel) => {
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== dtype) throw new Error(`storage ${key} is read as ${known.dtype} and as ${dtype}`);
        return known;
      }
      const data = entries.get(`${prefix}data/${key}`);
      if (!data) throw new Error(`storage ${key}: no entry ${prefix}data/${key} in the zip`);
      const expected = numel * DTYPE_SIZES[dtype];
      if (data.byteLength !== expected) {
        throw new Error(`storage ${key}: ${numel} elements of ${dtype} need ${expected} bytes but ${prefix}data/${key} holds ${data.byteLength}`);
      }
      const storage: TorchStorage = { kind: 'storage', key, dtype, numel, bytes: data };
      storages.set(key, storage);
      return storage;
    }),
  });
  return value;
}
