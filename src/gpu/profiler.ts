// Per-dispatch GPU time by kernel or by kernel and shape, for finding where a training step goes
// (`bench/train_step.ts --profile[=shapes]`, or `startProfiling()`). Each dispatch gets a compute
// pass of its own with timestamp writes, which adds the per-pass cost, and copies between the
// dispatches are not timed: use it to compare kernels, not to time the whole step.
import type { GpuResources } from './resources.ts';

export interface ProfileEntry { name: string; ms: number; count: number }

const CAPACITY = 2048; // dispatches per query set

export class Profiler {
  private sets: { set: GPUQuerySet; labels: string[] }[] = [];
  private pending: { buffer: GPUBuffer; labels: string[] }[] = [];
  private totals = new Map<string, { ms: number; count: number }>();
  private retired: GPUBuffer[] = [];

  constructor(private resources: GpuResources) {}

  /** Timestamp writes for the next dispatch's pass. */
  next(label: string): GPUComputePassTimestampWrites {
    let cur = this.sets[this.sets.length - 1];
    if (!cur || cur.labels.length === CAPACITY) {
      cur = { set: this.resources.createQuerySet({ type: 'timestamp', count: 2 * CAPACITY }), labels: [] };
      this.sets.push(cur);
    }
    const i = cur.labels.length;
    cur.labels.push(label);
    return { querySet: cur.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Called before the batch is finished: resolves this batch's timestamps into a readable buffer. */
  resolve(encoder: GPUCommandEncoder): void {
    for (const { set, labels } of this.sets) {
      if (!labels.length) continue;
      const bytes = 16 * labels.length;
      const resolved = this.resources.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const readable = this.resources.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.resolveQuerySet(set, 0, 2 * labels.length, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readable, 0, bytes);
      this.pending.push({ buffer: readable, labels: [...labels] });
      this.retired.push(resolved);
      labels.length = 0;
    }
  }

  /** Maps the resolved timestamps of submitted batches and adds them to the totals. */
  /** The totals so far, per kernel (kernelName) or, byShape, per whole label (kernel and shape). */
  async collect(byShape = false): Promise<ProfileEntry[]> {
    for (const { buffer, labels } of this.pending.splice(0)) {
      await buffer.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(buffer.getMappedRange());
      labels.forEach((label, i) => {
        const entry = this.totals.get(label) ?? { ms: 0, count: 0 };
        entry.ms += Number(t[2 * i + 1] - t[2 * i]) / 1e6;
        entry.count++;
        this.totals.set(label, entry);
      });
      this.resources.destroy(buffer);
    }
    for (const b of this.retired.splice(0)) this.resources.destroy(b);
    const grouped = new Map<string, { ms: number; count: number }>();
    for (const [label, v] of this.totals) {
      const name = byShape ? label : kernelName(label), g = grouped.get(name) ?? { ms: 0, count: 0 };
      grouped.set(name, { ms: g.ms + v.ms, count: g.count + v.count });
    }
    return [...grouped].map(([name, v]) => ({ name, ...v })).sort((a, b) => b.ms - a.ms);
  }
}

/**
 * "conv2d fwd v7 x[8,64,56,56] ... g1" -> "conv2d fwd v7": the words before the first shape; a
 * phase named after the shape stays ("... g1 pack" -> "conv2d fwd v7 pack"), as it is a kernel of its own.
 */
export function kernelName(label: string): string {
  const words = label.split(' ');
  const name = words.filter((w) => !/[\[\d]/.test(w[0] ?? '')).slice(0, 3);
  const last = words[words.length - 1];
  if (words.length > 3 && /^[a-z_]+$/.test(last) && !name.includes(last)) name.push(last);
  return name.join(' ');
}
