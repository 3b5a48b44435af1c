// Sized-bucket pool of storage buffers. Buckets are powers of two and the midpoints between
// them (waste < 33%), so a training step that asks for the same sizes every time creates
// no new buffers after its first step. A bucket hands out its oldest free buffer first: a
// step that makes the same requests in the same order then gets the very same buffers every
// time, so its bind groups (cached by buffer) are all cache hits after the first step; a
// last-in-first-out stack would permute buffers between steps and create bind groups forever. Reuse inside one unsubmitted command batch is safe:
// WebGPU orders storage accesses of successive dispatches, and a buffer only returns to
// the pool after its last reader has been recorded.
import type { GpuResources } from './resources.ts';

// GPUBufferUsage STORAGE | COPY_SRC | COPY_DST, as numbers: Node defines the GPU globals only once Dawn is loaded.
export const STORAGE_USAGE = 0x80 | 0x04 | 0x08;

export interface PoolStats {
  liveBytes: number;     // handed out, not yet released
  pooledBytes: number;   // held for reuse
  liveBuffers: number;
  created: number;       // createBuffer calls so far
  reused: number;
}

/** The bucket of `bytes` (or of any count of units, with its own minimum). */
export function bucketSize(bytes: number, min = 256): number {
  if (bytes <= min) return min;
  const pow = 2 ** Math.ceil(Math.log2(bytes));
  const mid = (pow / 4) * 3;
  return bytes <= mid ? mid : pow;
}

/** Keeps `list` sorted by descending serial, so pop() returns the oldest buffer. */
export function insertBySerial<T extends object>(list: T[], item: T, serial: WeakMap<T, number>): void {
  const s = serial.get(item)!;
  let i = list.length;
  while (i > 0 && serial.get(list[i - 1])! < s) i--;
  list.splice(i, 0, item);
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private sizeOf = new WeakMap<GPUBuffer, number>();
  private serial = new WeakMap<GPUBuffer, number>();
  private nextSerial = 0;
  readonly stats: PoolStats = { liveBytes: 0, pooledBytes: 0, liveBuffers: 0, created: 0, reused: 0 };

  constructor(private resources: GpuResources, private maxBufferSize: number) {}

  acquire(bytes: number, label = 'tensor'): GPUBuffer {
    const size = bucketSize(Math.max(bytes, 4));
    if (size > this.maxBufferSize) {
      throw new Error(`${label}: needs a buffer of ${bytes} bytes, over this device's maxBufferSize of ${this.maxBufferSize}`);
    }
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.stats.reused++;
      this.stats.pooledBytes -= size;
    } else {
      buffer = this.resources.createBuffer({ size, usage: STORAGE_USAGE, label });
      this.sizeOf.set(buffer, size);
      this.serial.set(buffer, this.nextSerial++);
      this.stats.created++;
    }
    this.stats.liveBytes += size;
    this.stats.liveBuffers++;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = this.sizeOf.get(buffer);
    if (size === undefined) throw new Error('BufferPool.release: buffer was not created by this pool');
    this.stats.liveBytes -= size;
    this.stats.liveBuffers--;
    this.stats.pooledBytes += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    insertBySerial(list, buffer, this.serial);
  }

  /** Destroys every pooled (unused) buffer. Call after flushing pending work. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.resources.destroy(b);
    this.free.clear();
    this.stats.pooledBytes = 0;
  }
}
