// Pieces every conv2d version shares: the uniform block of shaders/conv2d_*.wgsl, the chunk
// view its kernels take (kernels/chunking.ts, offset chunks), and labels.
import { packParams, type Binding, type BufferRange } from '../src/gpu/index.ts';
import { partialSum } from './partial_sum.ts';
import { cig, cog, type Conv2dGeometry } from './conv2d.ref.ts';
import type { ChunkIO } from './chunking.ts';

export type { ChunkIO } from './chunking.ts';

/** The share of n that is real when it is padded to whole blocks of `block`. */
export const blockFill = (n: number, block: number): number => n / (Math.ceil(n / block) * block);

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

export function convLabel(op: string, g: Conv2dGeometry, version: string): string {
  return `conv2d${op ? ` ${op}` : ''}${version ? ` ${version}` : ''} x[${g.n},${g.c},${g.h},${g.w}] w[${g.co},${cig(g)},${g.kh},${g.kw}] ` +
    `s${g.sh === g.sw ? g.sh : `${g.sh},${g.sw}`} p${g.ph === g.pw ? g.ph : `${g.ph},${g.pw}`}` +
    `${g.dh !== 1 || g.dw !== 1 ? ` d${g.dh === g.dw ? g.dh : `${g.dh},${g.dw}`}` : ''} g${g.groups}`;
}

export { cig, cog };

/** dw = (accumulate ? dw : 0) + the sum of `splits` partial weight gradients of `wsize` values each. */
export function reduceSplits(partial: Binding, splits: number, wsize: number, dw: Binding, accumulate: boolean, label: string): void {
  partialSum(partial, dw, { count: wsize, T: splits, si: 1, st: wsize, n: splits * wsize }, label, { accumulate });
}
