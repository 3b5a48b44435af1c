// The full reduction: scale * sum of n values, in ceil(log_SEG(n)) passes of the partial sum
// kernel (kernels/partial_sum.ts) over pooled scratch buffers; inputs over one binding are
// summed range by range (kernels/chunking.ts).
// Test: npm test -- elementwise.
import { gpu, type Binding } from '../src/gpu/index.ts';
import { partialSum } from './partial_sum.ts';
import { batchChunks } from './chunking.ts';

export const REDUCE_SEG = 64;

/** Writes scale * sum(x[0..n)) to out[0]. Inputs over one binding are summed range by range. */
export function reduceSum(x: Binding, out: Binding, n: number, scale: number, label: string): void {
  const ranges = batchChunks(label, n, [[x, 1]]);
  if (ranges.length > 1) {
    // each range's sum lands in its own 256-byte slot of a zeroed scratch buffer, which is then summed
    const chunks = ranges.length;
    const pool = gpu().pool;
    const slots = pool.acquire(chunks * 256, 'reduce chunk sums');
    gpu().recorder.clear(slots, 0, chunks * 256);
    for (const r of ranges) {
      reduceSum(r.of(x, 1), { buffer: slots, offset: r.index * 256, size: 16 }, r.count, 1, `${label} (range ${r.index + 1}/${chunks})`);
    }
    partialSum(slots, out, { count: 1, T: chunks, si: 0, st: 64, n: chunks * 64 }, label, { scale });
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
    // thread t sums x[t], x[t + threads], ...: neighbouring threads read neighbouring values
    partialSum(src, dst, { count: threads, T: REDUCE_SEG, si: 1, st: threads, n: count }, label, { scale: last ? scale : 1 });
    src = dst;
    count = threads;
  } while (count > 1);
  for (const b of scratch) pool.release(b);
}

export function sumCpu(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s * scale;
}
