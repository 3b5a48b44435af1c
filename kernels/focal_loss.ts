// Host half of shaders/focal_loss.wgsl: the fused sigmoid focal loss (loss + dlogits in one
// pass, then a one-invocation reduction that also totals the non-finite count), the scaled
// backward, and f64 references. Test: npm test -- focal_loss. Bench: npm run bench -- --filter focal_loss
import { gpu, packParams, type Binding } from '../src/gpu/index.ts';
import { grid1d, launch } from './launch.ts';

export const FOCAL_WG = 64;
const MAX_PARTIALS = 1024; // the reduction is one invocation: keep its loop short
const MIN_SEG = 16;

export interface FocalLossParams {
  n: number;               // values (rows * A)
  A: number;               // attributes: the last dimension
  gamma: number;
  /** 1/n for 'mean', 1 for 'sum'. */
  scale: number;
  /** A scalar alpha for every attribute (< 0: no weighting), or null when `alphaVector` is bound. */
  alpha: number | null;
}

export function focalLossGeometry(n: number): { seg: number; threads: number } {
  const seg = Math.max(MIN_SEG, Math.ceil(n / MAX_PARTIALS));
  return { seg, threads: Math.max(1, Math.ceil(n / seg)) };
}

/**
 * Records the fused pass and the reduction: result[0] = scale * sum(FL), result[1] = count of
 * non-finite logits or losses (result needs 2 floats); dlogits = scale * dFL/dlogits.
 */
export function focalLossForward(logits: Binding, targets: Binding, alphaVector: Binding | null, dlogits: Binding,
  result: Binding, p: FocalLossParams, label: string): void {
  if (p.n === 0) throw new Error(`${label}: no values`);
  if ((p.alpha === null) === (alphaVector === null)) throw new Error(`${label}: give either a scalar alpha or an alpha vector`);
  const { seg, threads } = focalLossGeometry(p.n);
  const pool = gpu().pool;
  const partial = pool.acquire(2 * threads * 4, 'focal loss partial sums');
  launch({ shader: 'focal_loss', entry: 'focal_loss_fwd', bindings: ['read', 'read', 'read', 'write', 'write', 'uniform'], constants: { WG: FOCAL_WG } },
    [logits, targets, alphaVector ?? logits, dlogits, partial],
    packParams([['u32', p.n], ['u32', p.A], ['u32', threads], ['u32', seg], ['f32', p.gamma], ['f32', p.scale],
      ['f32', p.alpha ?? 0], ['u32', alphaVector ? 1 : 0]]),
    grid1d(threads, FOCAL_WG), label);
  launch({ shader: 'focal_loss', entry: 'focal_loss_reduce', bindings: ['read', 'write', 'uniform'] },
    [partial, result], packParams([['u32', threads], ['u32', 0], ['u32', 0], ['f32', p.scale]]), [1, 1, 1], `${label} reduce`);
  pool.release(partial);
}

/** dx = g[0] * dlogits over n values (buffers padded to whole vec4s). */
export function focalLossBackward(upstream: Binding, dlogits: Binding, dx: Binding, n: number, label: string): void {
  const n4 = Math.ceil(n / 4), threads = Math.max(1, Math.ceil(n4 / 4));
  launch({ shader: 'focal_loss', entry: 'focal_loss_bwd', bindings: ['read', 'read', 'write', 'uniform'], constants: { WG: FOCAL_WG } },
    [upstream, dlogits, dx], packParams([['u32', n4], ['u32', threads], ['u32', 0], ['u32', 0]]), grid1d(threads, FOCAL_WG), label);
}

// ---- f64 CPU reference ----

export interface FocalLossCpuResult { loss: number; dlogits: Float64Array; perElement: Float64Array }

/**
 * torchvision's formulation in f64 for real targets in [0, 1]: p = sigmoid(x), ce =
 * BCE-with-logits, p_t = p t + (1 - p)(1 - t), FL = alpha_t ce (1 - p_t)^gamma; and its
 * closed-form gradient alpha_t [(p - t)(1 - p_t)^gamma + gamma ce (1 - 2t) p (1 - p) (1 - p_t)^(gamma-1)].
 */
export function focalLossCpu(logits: ArrayLike<number>, targets: ArrayLike<number>, alpha: number | ArrayLike<number>,
  gamma: number, A: number, reduction: 'mean' | 'sum'): FocalLossCpuResult {
  const n = logits.length;
  const scale = reduction === 'mean' ? 1 / n : 1;
  const perElement = new Float64Array(n), dlogits = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i], t = targets[i];
    const a = typeof alpha === 'number' ? alpha : alpha[i % A];
    const alphaT = a >= 0 ? a * t + (1 - a) * (1 - t) : 1;
    const e = Math.exp(-Math.abs(x));
    const p = x >= 0 ? 1 / (1 + e) : e / (1 + e), pc = x >= 0 ? e / (1 + e) : 1 / (1 + e);
    const ce = Math.max(x, 0) - x * t + Math.log1p(e);
    const m = p * (1 - t) + pc * t; // 1 - p_t
    const mGamma = gamma === 0 ? 1 : m ** gamma;
    // p (1 - p) m^(gamma - 1) -> 0 where m underflows (0/1 targets, |x| > 745)
    const w = m > 0 ? p * pc * m ** (gamma - 1) : 0;
    perElement[i] = alphaT * mGamma * ce;
    loss += perElement[i];
    dlogits[i] = scale * alphaT * ((p - t) * mGamma + gamma * ce * (1 - 2 * t) * w);
  }
  return { loss: loss * scale, dlogits, perElement };
}
