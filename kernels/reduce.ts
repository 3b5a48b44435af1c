// Host half of shaders/reduce.wgsl: scale * sum of n values, in ceil(log_SEG(n)) passes over
// pooled scratch buffers. Test: npm test -- reduce.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { bufferRegion, grid1d, launch } from './launch.ts';

export const REDUCE_WG = 256;
export const REDUCE_SEG = 64;

/** Writes scale * sum(x[0..n)) to out[0]. Inputs over one binding are summed range by range. */
export function sumKernel(x: Binding, out: Binding, n: number, scale: number, label: string): void {
  const limit = chunkFloatsForTests ?? Math.floor(gpu().limits.maxStorageBufferBindingSize / 256) * 64;
  if (n > limit) {
    // each range's sum lands in its own 256-byte slot of a zeroed scratch buffer, which is then summed
    const chunks = Math.ceil(n / limit);
    const pool = gpu().pool;
    const slots = pool.acquire(chunks * 256, 'reduce chunk sums');
    gpu().recorder.clear(slots, 0, chunks * 256);
    const base = bufferRegion(x);
    for (let c = 0; c < chunks; c++) {
      const count = Math.min(limit, n - c * limit);
      sumKernel({ buffer: base.buffer, offset: base.offset + c * limit * 4, size: Math.ceil(count / 4) * 16 },
        { buffer: slots, offset: c * 256, size: 16 }, count, 1, `${label} (range ${c + 1}/${chunks})`);
    }
    sumKernel({ buffer: slots, offset: 0, size: chunks * 256 }, out, chunks * 64, scale, label);
    pool.release(slots);
    return;
  }
  const pool = gpu().pool;
  let src: Binding = x;
  let count = n;
  const scratch: GPUBuffer[] = [];
  do {
    const threads = Math.max(1, Math.ceil(count / REDUCE_SEG));
    const last = threads === 1;
    const dst = last ? out : pool.acquire(threads * 4, 'reduce scratch');
    if (!last) scratch.push(dst as GPUBuffer);
    launch({ shader: 'reduce', entry: 'reduce_sum', bindings: ['read', 'write', 'uniform'], constants: { WG: REDUCE_WG, SEG: REDUCE_SEG } },
      [src, dst], packParams([['u32', count], ['u32', threads], ['f32', last ? scale : 1], ['u32', 0]]), grid1d(threads, REDUCE_WG), label);
    src = dst;
    count = threads;
  } while (count > 1);
  for (const b of scratch) pool.release(b);
}

let chunkFloatsForTests: number | null = null;
/** Forces ranges of this many floats (a multiple of 64) in tests; null restores the device limit. */
export function setReduceChunkForTests(floats: number | null): void {
  chunkFloatsForTests = floats;
}

export function sumCpu(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s * scale;
}
