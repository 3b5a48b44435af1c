// Host half of the SGD entries of shaders/sgd.wgsl: one dispatch per contiguous range of a
// flat parameter arena, and the f64 reference. Test: npm test -- sgd. Bench: npm run bench -- --filter sgd
import { packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';

export const SGD_WG = 256;
export const SGD_PER_THREAD = 4;

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * Updates n4 vec4s of params in place from grads (and the momentum buffer when momentum != 0;
 * `first` makes it b = g, PyTorch's first step).
 */
export function sgdStep(grads: Binding, params: Binding, momentum: Binding | null, n4: number,
  h: SgdHyper, first: boolean, label: string): void {
  if (n4 === 0) return;
  const threads = Math.ceil(n4 / SGD_PER_THREAD);
  const uniforms = packParams([
    ['u32', n4], ['u32', threads], ['u32', h.nesterov ? 1 : 0], ['u32', first ? 1 : 0],
    ['f32', h.lr], ['f32', h.weightDecay], ['f32', h.momentum], ['f32', h.dampening],
  ]);
  const constants = { WG: SGD_WG, PER_THREAD: SGD_PER_THREAD };
  if (h.momentum !== 0) {
    if (!momentum) throw new Error(`${label}: momentum ${h.momentum} needs a momentum buffer`);
    launch({ shader: 'sgd', entry: 'sgd_momentum_step', bindings: ['read', 'write', 'write', 'uniform'], constants },
      [grads, params, momentum], uniforms, grid1d(threads, SGD_WG), label);
  } else {
    launch({ shader: 'sgd', entry: 'sgd_step', bindings: ['read', 'write', 'uniform'], constants },
      [grads, params], uniforms, grid1d(threads, SGD_WG), label);
  }
}

/** f64 reference of one step for one parameter; updates p and buf in place, returns the new buf. */
export function sgdStepCpu(p: Float64Array, grad: ArrayLike<number>, buf: Float64Array | null, h: SgdHyper): Float64Array | null {
  let next = buf;
  if (h.momentum !== 0 && !next) next = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    let g = grad[i] + h.weightDecay * p[i];
    if (h.momentum !== 0) {
      const b = buf ? h.momentum * buf[i] + (1 - h.dampening) * g : g;
      next![i] = b;
      g = h.nesterov ? g + h.momentum * b : b;
    }
    p[i] -= h.lr * g;
  }
  return next;
}
