// safetensors reader/writer (huggingface/safetensors format). Browser-safe: no Node built-ins.
//
// File = u64 little-endian header length N | N bytes of UTF-8 JSON | data buffer.
// The reader rejects anything the reference implementation rejects (see docs/WEIGHTS.md), with an
// error that names the source and, where one is involved, the tensor key.
import {
  DTYPE_SIZES, decodeElements, encodeElements, isSafetensorsDtype,
  type ElementSource, type SafetensorsDtype, type TensorData,
} from './safetensors_dtypes.ts';

export { DTYPE_SIZES, type SafetensorsDtype, type TensorData } from './safetensors_dtypes.ts';

/** The reference implementation's limit; it keeps a hostile header from exhausting memory. */
export const MAX_HEADER_SIZE = 100_000_000;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** F32/F16/BF16/F64 -> Float32Array; I64 -> BigInt64Array; U64 -> BigUint64Array; I32 -> Int32Array;
   *  U32 -> Uint32Array; I16/U16 -> Int16Array/Uint16Array; I8 -> Int8Array; U8/BOOL -> Uint8Array.
   *  Same-width data may be a view sharing memory with the parsed bytes. */
  data: TensorData;
}

export interface SafetensorsFile {
  /** In data-buffer order. */
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  /** Row-major values (converted to `dtype`), e.g. a Float32Array for F32/F16/BF16. */
  data: ElementSource;
}

export class SafetensorsError extends Error {
  constructor(readonly source: string, readonly key: string | undefined, detail: string) {
    super(`safetensors: ${source}: ${key === undefined ? '' : `tensor "${key}": `}${detail}`);
    this.name = 'SafetensorsError';
  }
}

interface Span { key: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }

export function parseSafetensors(input: Uint8Array, source = '<bytes>'): SafetensorsFile {
  // Tensor views must not end up on a SharedArrayBuffer (WebGPU uploads reject those).
  const bytes: Uint8Array<ArrayBuffer> = input.buffer instanceof ArrayBuffer ? (input as Uint8Array<ArrayBuffer>) : input.slice();
  const fail = (detail: string, key?: string): never => { throw new SafetensorsError(source, key, detail); };
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length prefix`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_SIZE)) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_SIZE}-byte limit`);
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength) fail(`header length ${n} runs past the end of the file (${bytes.byteLength} bytes)`);

  let text = '';
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const duplicate = findDuplicateTopLevelKey(text);
  if (duplicate !== undefined) fail('key appears more than once in the header', duplicate);

  const metadata: Record<string, string> = {};
  const spans: Span[] = [];
  for (const [key, info] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (info === null) continue;
      if (typeof info !== 'object' || Array.isArray(info)) fail('"__metadata__" is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__" entry "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    spans.push(checkEntry(key, info, fail));
  }

  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: string | undefined;
  for (const span of spans) {
    if (span.begin < expected) fail(`data_offsets [${span.begin}, ${span.end}] overlap tensor "${previous}" (which ends at ${expected})`, span.key);
    if (span.begin > expected) fail(`data_offsets [${span.begin}, ${span.end}] leave a gap: the previous tensor ends at ${expected}`, span.key);
    if (span.end > dataLength) {
      fail(`data_offsets [${span.begin}, ${span.end}] run past the end of the data buffer (${dataLength} bytes): file truncated?`, span.key);
    }
    expected = span.end;
    previous = span.key;
  }
  if (expected !== dataLength) fail(`data buffer is ${dataLength} bytes but the tensors cover ${expected} (trailing bytes)`);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const { key, dtype, shape, begin, end } of spans) {
    const data = decodeElements(dtype, bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(key, { dtype, shape, data });
  }
  return { tensors, metadata };
}

function checkEntry(key: string, info: unknown, fail: (detail: string, key?: string) => never): Span {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) fail('entry is not an object', key);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) fail(`unknown or unsupported dtype ${JSON.stringify(dtype)}`, key);
  const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!Array.isArray(shape) || !shape.every(isIndex)) fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, key);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`, key);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`data_offsets [${begin}, ${end}] end before they begin`, key);
  const dims = shape as number[];
  const size = DTYPE_SIZES[dtype as SafetensorsDtype];
  const expectedBytes = dims.reduce((p, d) => p * d, 1) * size;
  if (!Number.isSafeInteger(expectedBytes)) fail(`shape ${JSON.stringify(dims)} is too large`, key);
  if (end - begin !== expectedBytes) {
    fail(`byte size ${end - begin} != ${size} (${dtype}) x prod(${JSON.stringify(dims)}) = ${expectedBytes}`, key);
  }
  return { key, dtype: dtype as SafetensorsDtype, shape: dims, begin, end };
}

/** JSON.parse keeps the last of repeated keys silently; the format forbids repeats. `json` is valid JSON. */
function findDuplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}

/**
 * Lays tensors out as the reference writer does (descending dtype size, then name), writes the
 * JSON compactly with "__metadata__" first and pads it with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array<ArrayBuffer> {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  const fail = (key: string | undefined, detail: string): never => { throw new SafetensorsError('<serialize>', key, detail); };
  for (const [key, t] of entries) {
    if (key === '__metadata__') fail(key, 'the name "__metadata__" is reserved');
    if (!isSafetensorsDtype(t.dtype)) fail(key, `unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(key, `bad shape ${JSON.stringify(t.shape)}`);
    const numel = t.shape.reduce((p, d) => p * d, 1);
    if (t.data.length !== numel) fail(key, `${t.data.length} values for shape ${JSON.stringify(t.shape)} (${numel} elements)`);
  }
  entries.sort(([ka, a], [kb, b]) => DTYPE_SIZES[b.dtype] - DTYPE_SIZES[a.dtype] || (ka < kb ? -1 : ka > kb ? 1 : 0));

  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') fail(undefined, `metadata "${k}" is not a string`);
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const placed = entries.map(([key, t]) => {
    const begin = offset;
    offset += t.data.length * DTYPE_SIZES[t.dtype];
    parts.push(`${JSON.stringify(key)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":[${begin},${offset}]}`);
    return { key, t, begin };
  });
  const headerBytes = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(headerBytes.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.byteLength, 8 + padded);
  const dataStart = 8 + padded;
  for (const { key, t, begin } of placed) {
    const bytes = t.data.length * DTYPE_SIZES[t.dtype];
    encodeElements(t.dtype, t.data, new DataView(out.buffer, dataStart + begin, bytes), `tensor "${key}"`);
  }
  return out;
}
