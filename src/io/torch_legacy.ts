// The legacy torch.save format (before PyTorch 1.6, or _use_new_zipfile_serialization=False).
// Browser-safe. Five pickles back to back, then raw storages:
//   magic number 0x1950a86a20f9469cfc6c | protocol version 1001 | sys info {little_endian, ...}
//   | the object, storages as persistent ids ('storage', type, key, location, numel, view)
//   | the storage keys in file order
//   then per key: i64 little-endian element count, followed by that many elements' bytes.
import { unpickle } from './pickle.ts';
import { DTYPE_SIZES, type SafetensorsDtype } from './safetensors_dtypes.ts';
import { isIndex, storageFromId, torchGlobals, type TorchStorage } from './torch_pickle.ts';
import { TorchFileError } from './torch_zip.ts';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
const EMPTY = new Uint8Array(0);

/** A legacy file starts with the pickled magic number: PROTO 2, LONG1 10, its 10 bytes. */
export const isLegacyTorch = (bytes: Uint8Array) =>
  bytes.byteLength >= 14 && bytes[0] === 0x80 && bytes[2] === 0x8a && bytes[3] === 0x0a && bytes[4] === 0x6c && bytes[5] === 0xfc;

interface StorageView { storage: TorchStorage; root: TorchStorage; offset: number }

export function loadLegacyPickle(bytes: Uint8Array<ArrayBuffer>, source: string): unknown {
  const fail = (detail: string): never => { throw new TorchFileError(source, detail); };
  const plain = { source: `${source}: header`, globals: new Map<string, unknown>() };
  const magic = unpickle(bytes, plain, 0);
  if (magic.value !== MAGIC) fail('does not start with the torch.save magic number: not a legacy torch file');
  const version = unpickle(bytes, plain, magic.end);
  if (version.value !== PROTOCOL_VERSION) fail(`legacy protocol version ${String(version.value)}, expected ${PROTOCOL_VERSION}`);
  const sysInfo = unpickle(bytes, plain, version.end);
  if (!(sysInfo.value instanceof Map) || sysInfo.value.get('little_endian') !== true) fail('saved on a big-endian machine (or without sys info): not supported');

  const roots = new Map<string, TorchStorage>();
  const views = new Map<string, StorageView>();
  const data = unpickle(bytes, {
    source: `${source}: data pickle`,
    globals: torchGlobals(),
    persistentLoad: (id) => storageFromId(id, (key, dtype, numel) => {
      const root = rootStorage(roots, key, dtype, numel);
      const view = (id as unknown[])[5];
      if (view === null || view === undefined) return root;
      if (!Array.isArray(view) || typeof view[0] !== 'string' || !isIndex(view[1]) || !isIndex(view[2])) {
        throw new Error(`storage ${key}: view ${String(view)} is not (key, offset, size)`);
      }
      const [viewKey, offset, size] = view as [string, number, number];
      if (offset + size > numel) throw new Error(`storage view ${viewKey}: elements [${offset}, ${offset + size}) lie outside storage ${key} (${numel} elements)`);
      const known = views.get(viewKey);
      if (known) return known.storage;
      const storage: TorchStorage = { kind: 'storage', key: viewKey, dtype, numel: size, bytes: EMPTY };
      views.set(viewKey, { storage, root, offset });
      return storage;
    }),
  }, sysInfo.end);
  const keys = unpickle(bytes, { source: `${source}: storage keys`, globals: new Map() }, data.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) fail('the storage key list is not a list of strings');

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const storage = roots.get(key);
    if (!storage) fail(`storage ${key} is listed but no tensor refers to it`);
    if (storage!.bytes !== EMPTY) fail(`storage ${key} is listed twice`);
    if (at + 8 > bytes.byteLength) fail(`storage ${key}: its element count at byte ${at} lies past the end of the file (${bytes.byteLength} bytes): truncated?`);
    const count = view.getBigInt64(at, true);
    if (count !== BigInt(storage!.numel)) fail(`storage ${key}: the file holds ${count} elements where the pickle declares ${storage!.numel}`);
    const length = storage!.numel * DTYPE_SIZES[storage!.dtype];
    if (at + 8 + length > bytes.byteLength) fail(`storage ${key}: ${length} bytes at byte ${at + 8} run past the end of the file (${bytes.byteLength} bytes): truncated?`);
    storage!.bytes = bytes.subarray(at + 8, at + 8 + length);
    at += 8 + length;
  }
  for (const [key, storage] of roots) if (storage.bytes === EMPTY && storage.numel > 0) fail(`storage ${key} is used but its bytes are not in the file`);
  for (const { storage, root, offset } of views.values()) {
    const size = DTYPE_SIZES[root.dtype];
    storage.bytes = root.bytes.subarray(offset * size, (offset + storage.numel) * size);
  }
  return data.value;
}

function rootStorage(roots: Map<string, TorchStorage>, key: string, dtype: SafetensorsDtype, numel: number): TorchStorage {
  const known = roots.get(key);
  if (known) {
    if (known.dtype !== dtype || known.numel !== numel) throw new Error(`storage ${key} is declared as ${known.numel} ${known.dtype} and as ${numel} ${dtype}`);
    return known;
  }
  const storage: TorchStorage = { kind: 'storage', key, dtype, numel, bytes: EMPTY };
  roots.set(key, storage);
  return storage;
}
