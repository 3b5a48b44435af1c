// conv2d version 1 (shaders/conv2d_direct.wgsl): one output value per invocation, direct
// loops over NCHW storage buffers. Slow everywhere, obviously right: the baseline the other
// versions are measured against, and the fallback for any shape.
import type { Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import { cig, convParams, type ChunkIO } from './conv2d_common.ts';

const WG = 64;
const shader = 'conv2d_direct';

export function fwdDirect(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  const total = g.n * g.co * g.ho * g.wo;
  launch({ shader, entry: 'conv2d_fwd_v1', bindings: ['read', 'read', 'read', 'write', 'uniform'], constants: { WG, HAS_BIAS: bias ? 1 : 0 } },
    [x.binding, w, bias ?? w, y.binding], convParams(g, x.base, y.base, total), grid1d(total, WG), label);
}

export function bwdInputDirect(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  const total = g.n * g.c * g.h * g.w;
  launch({ shader, entry: 'conv2d_bwd_input_v1', bindings: ['read', 'read', 'write', 'uniform'], constants: { WG } },
    [dy.binding, w, dx.binding], convParams(g, dx.base, dy.base, total), grid1d(total, WG), label);
}

export function bwdWeightDirect(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  const total = g.co * cig(g) * g.kh * g.kw;
  launch({ shader, entry: 'conv2d_bwd_weight_v1', bindings: ['read', 'read', 'write', 'uniform'], constants: { WG } },
    [x.binding, dy.binding, dw], convParams(g, x.base, dy.base, total, accumulate), grid1d(total, WG), label);
}
