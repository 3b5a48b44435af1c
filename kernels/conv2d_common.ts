// Pieces every conv2d version shares: the uniform block of shaders/conv2d_*.wgsl, the batch
// chunks (sub-ranges of a tensor's buffer bound at 256-byte aligned offsets), and labels.
import { packParams, type Binding, type BufferRange } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import { cig, cog, type Conv2dGeometry } from './conv2d.ref.ts';

/** A batched tensor as one chunk sees it: the bound range and the element offset of sample 0 in it. */
export interface ChunkIO { binding: Required<BufferRange>; base: number }

export const OFFSET_ALIGN = 256;

/** The `Conv` struct of the WGSL files (24 u32/i32 fields). */
export function convParams(g: Conv2dGeometry, xBase: number, yBase: number, total: number, accumulate = false): ArrayBuffer {
  return packParams([
    ['u32', g.n], ['u32', g.c], ['u32', g.h], ['u32', g.w],
    ['u32', g.co], ['u32', g.ho], ['u32', g.wo], ['u32', g.groups],
    ['u32', g.kh], ['u32', g.kw], ['u32', g.sh], ['u32', g.sw],
    ['i32', g.ph], ['i32', g.pw], ['u32', g.dh], ['u32', g.dw],
    ['u32', cig(g)], ['u32', cog(g)], ['u32', xBase], ['u32', yBase],
    ['u32', total], ['u32', accumulate ? 1 : 0], ['u32', 0], ['u32', 0],
  ]);
}

/**
 * Samples [first, first+count) of a batched tensor whose samples hold `perSample` floats:
 * the range starts at the 256-byte boundary at or below the first sample (WebGPU's offset
 * alignment) and `base` says where the first sample lies inside it.
 */
export function chunkOf(t: Required<BufferRange>, first: number, count: number, perSample: number): ChunkIO {
  const start = t.offset + first * perSample * 4;
  const aligned = start - (start % OFFSET_ALIGN);
  const end = Math.min(t.offset + t.size, Math.ceil((start + count * perSample * 4) / 16) * 16);
  return { binding: { buffer: t.buffer, offset: aligned, size: Math.max(16, end - aligned) }, base: (start - aligned) / 4 };
}

export function convLabel(op: string, g: Conv2dGeometry, version: string): string {
  return `conv2d${op ? ` ${op}` : ''}${version ? ` ${version}` : ''} x[${g.n},${g.c},${g.h},${g.w}] w[${g.co},${cig(g)},${g.kh},${g.kw}] ` +
    `s${g.sh === g.sw ? g.sh : `${g.sh},${g.sw}`} p${g.ph === g.pw ? g.ph : `${g.ph},${g.pw}`}` +
    `${g.dh !== 1 || g.dw !== 1 ? ` d${g.dh === g.dw ? g.dh : `${g.dh},${g.dw}`}` : ''} g${g.groups}`;
}

export { cig, cog };

/** dw = (accumulate ? dw : 0) + the sum of `splits` partial weight gradients of `wsize` values each. */
export function reduceSplits(partial: Binding, splits: number, wsize: number, dw: Binding, accumulate: boolean, label: string): void {
  launch({ shader: 'conv2d_reduce', entry: 'conv2d_bwd_weight_reduce', bindings: ['read', 'write', 'uniform'], constants: { WG: 64 } },
    [partial, dw], packParams([['u32', wsize], ['u32', splits], ['u32', accumulate ? 1 : 0]]), grid1d(wsize, 64), `${label} reduce`);
}
