// What a torch.save pickle may contain, and turning its tensors into contiguous arrays. Browser-safe.
//
// The allowlist: collections.OrderedDict, torch._utils._rebuild_tensor(_v2), _rebuild_parameter
// and the typed storage classes (torch.FloatStorage, ...). A tensor is (storage, element offset,
// size, stride); it is checked against its storage's element count and copied out contiguously
// (a zero-copy view over the file when it already is contiguous and aligned).
import { DTYPE_SIZES, decodeElements, type SafetensorsDtype } from './safetensors_dtypes.ts';
import type { SafetensorsTensor } from './safetensors.ts';
import { describe, type PickleCallable } from './pickle.ts';

/** torch.<Name>Storage -> the element type it holds. */
export const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  FloatStorage: 'F32', DoubleStorage: 'F64', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** A tensor larger than this is refused before anything is allocated (a hostile size or stride-0 blow-up). */
export const MAX_TENSOR_BYTES = 2 ** 31;

export interface StorageType { kind: 'storage type'; name: string; dtype: SafetensorsDtype }

/** One storage of the file: its bytes are `numel` elements of `dtype`. */
export interface TorchStorage { kind: 'storage'; key: string; dtype: SafetensorsDtype; numel: number; bytes: Uint8Array<ArrayBuffer> }

export interface TorchTensor { kind: 'tensor'; storage: TorchStorage; offset: number; size: number[]; stride: number[] }

const callable = (name: string, fn: (args: unknown[]) => unknown): PickleCallable & { kind: string } => ({ kind: `function ${name}`, call: fn });

function rebuildTensor(args: unknown[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!isStorage(storage)) throw new Error(`_rebuild_tensor: first argument is a ${describe(storage)}, not a storage`);
  if (!isIndex(offset)) throw new Error(`_rebuild_tensor: storage offset ${String(offset)} is not a non-negative integer`);
  if (!Array.isArray(size) || !size.every(isIndex)) throw new Error(`_rebuild_tensor: size ${show(size)} is not a tuple of non-negative integers`);
  if (!Array.isArray(stride) || !stride.every(isIndex) || stride.length !== size.length) {
    throw new Error(`_rebuild_tensor: stride ${show(stride)} is not ${size.length} non-negative integers for size ${show(size)}`);
  }
  return { kind: 'tensor', storage, offset, size: size as number[], stride: stride as number[] };
}

/** The globals a state_dict pickle may name ("module.name" -> value). */
export function torchGlobals(): Map<string, unknown> {
  const globals = new Map<string, unknown>([
    ['collections.OrderedDict', callable('collections.OrderedDict', (args) => {
      const d = new Map<unknown, unknown>();
      if (args.length > 0 && Array.isArray(args[0])) {
        for (const pair of args[0]) if (Array.isArray(pair) && pair.length === 2) d.set(pair[0], pair[1]);
      }
      return d;
    })],
    ['torch._utils._rebuild_tensor_v2', callable('_rebuild_tensor_v2', rebuildTensor)],
    ['torch._utils._rebuild_tensor', callable('_rebuild_tensor', rebuildTensor)],
    ['torch._utils._rebuild_parameter', callable('_rebuild_parameter', (args) => {
      if (!isTensor(args[0])) throw new Error(`_rebuild_parameter: data is a ${describe(args[0])}, not a tensor`);
      return args[0];
    })],
  ]);
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
    const type: StorageType = { kind: 'storage type', name, dtype };
    globals.set(`torch.${name}`, type);
  }
  return globals;
}

export const isStorageType = (v: unknown): v is StorageType => (v as StorageType | null)?.kind === 'storage type';
export const isStorage = (v: unknown): v is TorchStorage => (v as TorchStorage | null)?.kind === 'storage';
export const isTensor = (v: unknown): v is TorchTensor => (v as TorchTensor | null)?.kind === 'tensor';
export const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/**
 * Parses the ('storage', <storage type>, key, location, numel[, view]) id common to both formats;
 * `lookup` returns the storage's bytes (already checked against numel by the caller's format).
 */
export function storageFromId(id: unknown, lookup: (key: string, dtype: SafetensorsDtype, numel: number) => TorchStorage): TorchStorage {
  if (!Array.isArray(id) || id[0] !== 'storage' || id.length < 5) throw new Error(`persistent id ${show(id)} is not a ('storage', type, key, location, numel) tuple`);
  const [, type, key, , numel] = id;
  if (!isStorageType(type)) throw new Error(`storage ${show(key)}: type is a ${describe(type)}, not one of torch.${Object.keys(STORAGE_DTYPES).join('/')}`);
  if (typeof key !== 'string') throw new Error(`storage key ${show(key)} is not a string`);
  if (!isIndex(numel)) throw new Error(`storage ${key}: element count ${show(numel)} is not a non-negative integer`);
  return lookup(key, type.dtype, numel);
}

/** Checks a tensor against its storage and returns its elements in row-major order. */
export function materialize(t: TorchTensor, name: string): SafetensorsTensor {
  const { storage, offset, size, stride } = t;
  const where = `tensor "${name}" (storage ${storage.key}, ${storage.dtype}, ${storage.numel} elements)`;
  const numel = size.reduce((p, d) => p * d, 1);
  const elementSize = DTYPE_SIZES[storage.dtype];
  if (!Number.isSafeInteger(numel) || numel * elementSize > MAX_TENSOR_BYTES) {
    throw new Error(`${where}: size ${show(size)} is larger than the ${MAX_TENSOR_BYTES}-byte limit`);
  }
  if (numel > 0) {
    const last = offset + size.reduce((s, d, i) => s + (d - 1) * stride[i]!, 0);
    if (last >= storage.numel) {
      throw new Error(`${where}: offset ${offset}, size ${show(size)}, stride ${show(stride)} reach element ${last}, past the end of the storage`);
    }
  }
  let contiguous = true;
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i]! !== 1 && stride[i]! !== expect) contiguous = false;
    expect *= size[i]!;
  }
  let bytes: Uint8Array<ArrayBuffer>;
  if (contiguous) {
    bytes = storage.bytes.subarray(offset * elementSize, (offset + numel) * elementSize);
  } else {
    bytes = new Uint8Array(numel * elementSize);
    const index = new Array<number>(size.length).fill(0);
    let source = offset;
    for (let n = 0; n < numel; n++) {
      bytes.set(storage.bytes.subarray(source * elementSize, (source + 1) * elementSize), n * elementSize);
      for (let d = size.length - 1; d >= 0; d--) {
        index[d]!++;
        source += stride[d]!;
        if (index[d]! < size[d]!) break;
        source -= index[d]! * stride[d]!;
        index[d] = 0;
      }
    }
  }
  return { dtype: storage.dtype, shape: [...size], data: decodeElements(storage.dtype, bytes) };
}
