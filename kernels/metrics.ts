// Host half of shaders/metrics.wgsl: per-attribute confusion counts added into a device
// buffer, and the CPU reference. Test: npm test -- metrics
import { packParams, type Binding } from '../src/gpu/index.ts';
import { launch } from './launch.ts';

export const METRICS_WG = 64;

/** Adds the counts of logits/targets [rows, A] into counts (4*A u32: correct, predicted, target, true positives). */
export function metricsAttributeCounts(logits: Binding, targets: Binding, counts: Binding, rows: number, A: number, label: string): void {
  if (rows === 0 || A === 0) return;
  launch({ shader: 'metrics', entry: 'metrics_attribute_update', bindings: ['read', 'read', 'write', 'uniform'], constants: { WG: METRICS_WG } },
    [logits, targets, counts], packParams([['u32', rows], ['u32', A], ['u32', 0], ['u32', 0]]), [Math.ceil(A / METRICS_WG), 1, 1], label);
}

export interface AttributeCountsCpu { correct: number[]; predictedPositive: number[]; targetPositive: number[]; truePositive: number[] }

export function attributeCountsCpu(logits: ArrayLike<number>, targets: ArrayLike<number>, rows: number, A: number): AttributeCountsCpu {
  const out: AttributeCountsCpu = { correct: Array(A).fill(0), predictedPositive: Array(A).fill(0), targetPositive: Array(A).fill(0), truePositive: Array(A).fill(0) };
  for (let r = 0; r < rows; r++) {
    for (let a = 0; a < A; a++) {
      const pred = logits[r * A + a] > 0, truth = targets[r * A + a] > 0.5;
      if (pred === truth) out.correct[a]++;
      if (pred) out.predictedPositive[a]++;
      if (truth) out.targetPositive[a]++;
      if (pred && truth) out.truePositive[a]++;
    }
  }
  return out;
}
