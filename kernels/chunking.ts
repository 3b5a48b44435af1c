// Batch chunks for kernel families whose per-sample passes (and per-sample partial reductions)
// may see tensors larger than one storage binding (maxStorageBufferBindingSize, 128 MiB on
// lavapipe): the batch is cut into ranges of samples n0 .. n0+count, each chunk's bindings are
// sub-ranges of the tensors' buffers, and the family's kernels run once per chunk.
//
// Chunks start at byte offsets that are multiples of minStorageBufferOffsetAlignment (256) in
// every batched tensor, so the shaders index from 0 as on a whole tensor: a chunk holds a
// multiple of `step` samples, the smallest count whose bytes are a multiple of the alignment in
// every tensor (1 when each sample's bytes are: every activation with a multiple of 64 floats
// per sample). When everything fits in one binding, there is one chunk and it binds the
// tensors exactly as given. Used by batchnorm2d, pool2d and split_attention (conv2d keeps its
// own chunks, which bind at any sample and pass an element offset to its shaders).
import { gpu, type Binding, type BufferRange } from '../src/gpu/index.ts';

let forcedBytes: number | null = null;

/** @internal Caps the bytes of one chunk's bindings (tests force the chunked path with it); null: the device limit. */
export function setMaxChunkBytesForTests(bytes: number | null): void {
  forcedBytes = bytes;
}

export type Range = Required<BufferRange>;

/** A buffer binding as an explicit range. */
export function asRange(b: Binding, label: string): Range {
  if ('textureView' in b) throw new Error(`${label}: a texture cannot be split into batch chunks`);
  if ('mapState' in b) return { buffer: b as GPUBuffer, offset: 0, size: (b as GPUBuffer).size };
  const offset = b.offset ?? 0;
  return { buffer: b.buffer, offset, size: b.size ?? b.buffer.size - offset };
}

/** A batched binding and the floats each sample holds in it. */
export type Batched = readonly [binding: Binding, perSample: number];

export interface BatchChunk {
  index: number;
  n0: number;
  count: number;
  /** The binding of samples n0 .. n0+count of a batched tensor (the tensor itself when there is one chunk). */
  of(b: Binding, perSample: number): Binding;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const ceil16 = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

/** The limit one chunk's bindings must fit in. */
export function chunkBytesLimit(): number {
  const max = gpu().limits.maxStorageBufferBindingSize;
  return Math.floor(Math.min(max, forcedBytes ?? Infinity) / 16) * 16;
}

/**
 * Chunks of the N samples so that every batched binding fits the limit. Throws the launch
 * error's message when one sample (or one aligned group of samples) is over it.
 */
export function batchChunks(label: string, N: number, batched: readonly Batched[]): BatchChunk[] {
  const limit = chunkBytesLimit();
  const ranges = batched.map(([b]) => asRange(b, label));
  if (ranges.every((r) => r.size <= limit)) return [{ index: 0, n0: 0, count: N, of: (b) => b }];
  const deviceMax = gpu().limits.maxStorageBufferBindingSize;
  const limitStr = limit < deviceMax ? `the chunk limit of ${limit} bytes set for tests` : `this device's maxStorageBufferBindingSize (${deviceMax})`;
  const align = gpu().limits.minStorageBufferOffsetAlignment;
  const perBytes = batched.map(([, per]) => 4 * per);
  const maxPer = Math.max(...perBytes);
  if (maxPer > limit) throw new Error(`${label}: a binding of ${maxPer} bytes (one sample) exceeds ${limitStr}`);
  let step = 1;
  for (const b of perBytes) {
    const need = align / gcd(align, b);
    step = (step * need) / gcd(step, need);
  }
  const per = Math.floor(Math.floor(limit / maxPer) / step) * step;
  if (per < 1) {
    throw new Error(`${label}: batch chunks must start at ${align}-byte offsets, so they hold multiples of ${step} samples ` +
      `(samples of ${perBytes.join('/')} bytes), and a binding of ${step * maxPer} bytes exceeds ${limitStr}`);
  }
  ranges.forEach((r, i) => {
    if (r.offset % align !== 0) {
      throw new Error(`${label}: a tensor bound at offset ${r.offset} (not a multiple of ${align}) cannot be split into batch chunks`);
    }
    if (r.size < N * perBytes[i]) throw new Error(`${label}: a binding of ${r.size} bytes holds fewer than ${N} samples of ${perBytes[i]} bytes`);
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
    });
  }
  return chunks;
}
