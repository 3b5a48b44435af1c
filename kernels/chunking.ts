// The one way tensors larger than one storage binding (maxStorageBufferBindingSize, 128 MiB on
// lavapipe) are split, for every kernel family: the leading dimension (batch samples, or single
// floats for flat tensors) is cut into ranges n0 .. n0+count, each chunk's bindings are
// sub-ranges of the tensors' buffers, and the family's kernels run once per chunk. When
// everything fits there is one chunk and it binds the tensors exactly as given.
//
// Bindings start at multiples of minStorageBufferOffsetAlignment (256 bytes). Two ways to
// honour it:
//   - aligned chunks (default): a chunk holds a multiple of `step` samples, the smallest count
//     whose bytes are a multiple of the alignment in every tensor, so shaders index from 0 as
//     on a whole tensor (`of`). Flat tensors (one float per "sample") get ranges of 64 floats.
//   - offset chunks (`offsets: true`): any sample may start a chunk; its binding starts at the
//     aligned boundary at or below it and `at` also gives the element offset of the chunk's
//     first sample inside it, which the family's shaders add (conv2d).
//
// One test knob, setChunkBytesForTests, caps the bytes of one chunk's bindings for every
// family (and the optimizer's arenas), so tests force the chunked paths on small tensors.
import { gpu, type Binding, type BufferRange } from '../src/gpu/index.ts';

interface ChunkState { forcedBytes: number | null }
const chunkState = (): ChunkState => gpu().state<ChunkState>('chunking', () => ({ forcedBytes: null }));

/** @internal Caps the bytes of one chunk's bindings (tests force the chunked paths with it); null: the device limit. */
export function setChunkBytesForTests(bytes: number | null): void {
  chunkState().forcedBytes = bytes;
}

export type Range = Required<BufferRange>;

/** A buffer binding as an explicit range. */
export function asRange(b: Binding, label: string): Range {
  if ('textureView' in b) throw new Error(`${label}: a texture cannot be split into chunks`);
  if ('mapState' in b) return { buffer: b as GPUBuffer, offset: 0, size: (b as GPUBuffer).size };
  const offset = b.offset ?? 0;
  return { buffer: b.buffer, offset, size: b.size ?? b.buffer.size - offset };
}

/** A batched binding and the floats each sample holds in it. */
export type Batched = readonly [binding: Binding, perSample: number];

/** A batched tensor as one offset chunk sees it: the bound range and the element offset of its first sample in it. */
export interface ChunkIO { binding: Range; base: number }

/** Whether the chunk's first element starts a whole vec4 of its buffer (its data can be bound as array<vec4f>). */
export const vec4Aligned = (io: ChunkIO): boolean => (io.binding.offset + 4 * io.base) % 16 === 0;

export interface BatchChunk {
  index: number;
  n0: number;
  count: number;
  /** The binding of samples n0 .. n0+count of a batched tensor (the tensor itself when there is one chunk). */
  of(b: Binding, perSample: number): Binding;
  /** The same as a range bound at the aligned boundary at or below sample n0, and n0's element offset in it. */
  at(b: Binding, perSample: number): ChunkIO;
}

export interface ChunkOptions {
  /** Chunks may start at any sample (the kernels take an element offset, `at`). */
  offsets?: boolean;
  /** A cap on the samples of one chunk beyond the binding limit (texture sizes, say). */
  maxCount?: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const ceil16 = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

/** The limit one chunk's bindings must fit in. */
export function chunkBytesLimit(): number {
  const max = gpu().limits.maxStorageBufferBindingSize;
  return Math.floor(Math.min(max, chunkState().forcedBytes ?? Infinity) / 16) * 16;
}

function limitWords(limit: number): string {
  const deviceMax = gpu().limits.maxStorageBufferBindingSize;
  return limit < deviceMax ? `the chunk limit of ${limit} bytes set for tests` : `this device's maxStorageBufferBindingSize (${deviceMax})`;
}

function offsetChunk(r: Range, n0: number, count: number, perSample: number): ChunkIO {
  const align = gpu().limits.minStorageBufferOffsetAlignment;
  const start = r.offset + n0 * perSample * 4;
  const aligned = start - (start % align);
  const end = Math.min(r.offset + r.size, Math.ceil((start + count * perSample * 4) / 16) * 16);
  return { binding: { buffer: r.buffer, offset: aligned, size: Math.max(16, end - aligned) }, base: (start - aligned) / 4 };
}

/**
 * Samples per chunk (N when one chunk does) for tensors of `perSample` floats per sample whose
 * bindings are `bytes` long; throws, naming `label`, when one sample (or one aligned group of
 * samples) is over the limit.
 */
export function samplesPerChunk(label: string, N: number, perSample: readonly number[], bytes: readonly number[],
  opts: ChunkOptions = {}): number {
  const limit = chunkBytesLimit();
  const cap = Math.max(1, Math.floor(opts.maxCount ?? Infinity));
  const align = gpu().limits.minStorageBufferOffsetAlignment;
  // an offset chunk's binding starts up to `align` bytes early and ends on a 16-byte boundary
  const slack = opts.offsets ? align + 16 : 0;
  if (cap >= N && bytes.every((b) => b + slack <= limit)) return N;
  const perBytes = perSample.map((per) => 4 * per);
  const maxPer = Math.max(...perBytes);
  if (opts.offsets) {
    const per = Math.floor((limit - align - 16) / maxPer);
    if (per < 1) throw new Error(`${label}: one sample needs ${maxPer} bytes, over the binding limit of ${limit} bytes (less ${align + 16} for alignment)`);
    return Math.min(per, cap, N);
  }
  if (maxPer > limit) throw new Error(`${label}: a binding of ${maxPer} bytes (one sample) exceeds ${limitWords(limit)}`);
  let step = 1;
  for (const b of perBytes) {
    const need = align / gcd(align, b);
    step = (step * need) / gcd(step, need);
  }
  const per = Math.floor(Math.floor(limit / maxPer) / step) * step;
  if (per < 1) {
    throw new Error(`${label}: chunks must start at ${align}-byte offsets, so they hold multiples of ${step} samples ` +
      `(samples of ${perBytes.join('/')} bytes), and a binding of ${step * maxPer} bytes exceeds ${limitWords(limit)}`);
  }
  return Math.min(cap < per ? Math.max(step, Math.floor(cap / step) * step) : per, N);
}

/** Chunks of the N samples so that every batched binding fits the limit (see samplesPerChunk). */
export function batchChunks(label: string, N: number, batched: readonly Batched[], opts: ChunkOptions = {}): BatchChunk[] {
  const ranges = batched.map(([b]) => asRange(b, label));
  const per = samplesPerChunk(label, N, batched.map(([, p]) => p), ranges.map((r) => r.size), opts);
  if (per >= N) return [{ index: 0, n0: 0, count: N, of: (b) => b, at: (b, perSample) => offsetChunk(asRange(b, label), 0, N, perSample) }];
  const align = gpu().limits.minStorageBufferOffsetAlignment;
  ranges.forEach((r, i) => {
    if (!opts.offsets && r.offset % align !== 0) {
      throw new Error(`${label}: a tensor bound at offset ${r.offset} (not a multiple of ${align}) cannot be split into chunks`);
    }
    const need = N * 4 * batched[i][1];
    if (r.size < need) throw new Error(`${label}: a binding of ${r.size} bytes holds fewer than ${N} samples of ${4 * batched[i][1]} bytes`);
  });
  const chunks: BatchChunk[] = [];
  for (let n0 = 0, index = 0; n0 < N; n0 += per, index++) {
    const count = Math.min(per, N - n0);
    chunks.push({
      index, n0, count,
      of: (b, perSample) => {
        const r = asRange(b, label);
        const start = n0 * perSample * 4;
        return { buffer: r.buffer, offset: r.offset + start, size: Math.min(ceil16(count * perSample * 4), r.size - start) };
      },
      at: (b, perSample) => offsetChunk(asRange(b, label), n0, count, perSample),
    });
  }
  return chunks;
}
