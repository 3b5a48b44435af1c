// conv2d version 4: a 1x1 convolution of 1x1 maps, one group (split attention's fc1 and fc2),
// is a linear layer: y[n, o] = sum_c x[n, c] w[o, c] + b[o]. It runs as one GEMM on the matmul
// kernels (kernels/matmul.ts) instead of v3's per-pixel tiles and per-slice dispatches, which
// cost 10-60x more than PyTorch on these tiny products.
import type { Binding } from '../src/gpu/index.ts';
import { matmulForward } from './matmul.ts';
import type { Conv2dGeometry } from './conv2d.ref.ts';
import type { ChunkIO } from './conv2d_common.ts';
import { bwdInputDirect, bwdWeightDirect, fwdDirect } from './conv2d_direct.ts';

export function linearSupported(g: Conv2dGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.h === 1 && g.w === 1 && g.ph === 0 && g.pw === 0 && g.groups === 1;
}

// The matmul kernels take no element offset: a chunk that does not start on a binding's
// first element (batches over the binding limit, never met at these sizes) runs on v1.
export function fwdLinear(g: Conv2dGeometry, x: ChunkIO, w: Binding, bias: Binding | null, y: ChunkIO, label: string): void {
  if (x.base || y.base) { fwdDirect(g, x, w, bias, y, label); return; }
  matmulForward(x.binding, w, y.binding, { M: g.n, N: g.co, K: g.c, transB: true, bias: bias ?? undefined }, label);
}

export function bwdInputLinear(g: Conv2dGeometry, dy: ChunkIO, w: Binding, dx: ChunkIO, label: string): void {
  if (dy.base || dx.base) { bwdInputDirect(g, dy, w, dx, label); return; }
  matmulForward(dy.binding, w, dx.binding, { M: g.n, N: g.c, K: g.co }, label);
}

export function bwdWeightLinear(g: Conv2dGeometry, x: ChunkIO, dy: ChunkIO, dw: Binding, accumulate: boolean, label: string): void {
  if (x.base || dy.base) { bwdWeightDirect(g, x, dy, dw, accumulate, label); return; }
  matmulForward(dy.binding, x.binding, dw, { M: g.co, N: g.c, K: g.n, transA: true, accumulate }, label);
}
