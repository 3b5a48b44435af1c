// Host half of shaders/peak.wgsl: the adapter's FMA throughput and copy bandwidth probes.
import { packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';

export const PEAK_WG = 64;

/** Records one FMA probe; returns its FLOP count. */
export function peakFma(sink: Binding, workgroups: number, iters: number): number {
  launch({ shader: 'peak', entry: 'peak_fma', bindings: ['write', 'uniform'], constants: { WG: PEAK_WG } },
    [sink], packParams([['u32', iters], ['u32', workgroups * PEAK_WG], ['f32', 0.999], ['f32', 1e-3]]), grid1d(workgroups * PEAK_WG, PEAK_WG),
    `peak fma ${workgroups}x${PEAK_WG} iters ${iters}`);
  return workgroups * PEAK_WG * iters * 4 * 10 * 2;
}

/** Records one copy of n floats (n multiple of 4); returns bytes moved (read + write). */
export function peakCopy(src: Binding, dst: Binding, n: number): number {
  const n4 = n / 4, threads = Math.ceil(n4 / 4);
  launch({ shader: 'peak', entry: 'peak_copy', bindings: ['read', 'write', 'uniform'], constants: { WG: 256, PER_THREAD: 4 } },
    [src, dst], packParams([['u32', n4], ['u32', threads], ['u32', 0], ['u32', 0]]), grid1d(threads, 256), `peak copy ${n}`);
  return n * 8;
}

export function peakDispatch(sink: Binding): void {
  launch({ shader: 'peak', entry: 'peak_tiny', bindings: ['write'] }, [sink], null, [1, 1, 1], 'tiny dispatch');
}
