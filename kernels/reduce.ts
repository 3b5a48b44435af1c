// Host half of shaders/reduce.wgsl: scale * sum of n values, in ceil(log_SEG(n)) passes over
// pooled scratch buffers. Test: npm test -- reduce.
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';

export const REDUCE_WG = 256;
export const REDUCE_SEG = 64;

/** Writes scale * sum(x[0..n)) to out[0]. */
export function sumKernel(x: Binding, out: Binding, n: number, scale: number, label: string): void {
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

export function sumCpu(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s * scale;
}
