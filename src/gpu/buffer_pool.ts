// Sized-bucket pool of storage buffers. Buckets are powers of two and the midpoints between
// them (waste < 33%), so a training step that asks for the same sizes every time creates
// no new buffers after its first step. Reuse inside one unsubmitted command batch is safe:
// WebGPU orders storage accesses of successive dispatches, and a buffer only returns to
// the pool after its last reader has been recorded.
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

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private sizeOf = new WeakMap<GPUBuffer, number>();
  readonly stats: PoolStats = { liveBytes: 0, pooledBytes: 0, liveBuffers: 0, created: 0, reused: 0 };

  constructor(private device: GPUDevice, private maxBufferSize: number) {}

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
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE, label });
      this.sizeOf.set(buffer, size);
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
    list.push(buffer);
  }

  /** Destroys every pooled (unused) buffer. Call after flushing pending work. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.stats.pooledBytes = 0;
  }
}
