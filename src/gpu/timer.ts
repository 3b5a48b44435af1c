// GPU timing for benchmarks: timestamp marks before and after each repeat's commands (dispatches
// and copies alike) when the adapter has timestamp queries, else wall clock around submit + queue drain (which then includes the
// fixed submission cost; benchmarks measure and state it).
import { gpu } from './device.ts';

export interface Timing { ms: number[]; method: 'timestamp' | 'wall' }

export async function timeGpu(record: () => void, repeats: number, opts: { forceWall?: boolean } = {}): Promise<Timing> {
  const g = gpu();
  const rec = g.recorder;
  if (!g.features.has('timestamp-query') || opts.forceWall) {
    const ms: number[] = [];
    await rec.sync();
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      record();
      await rec.sync();
      ms.push(performance.now() - t0);
    }
    return { ms, method: 'wall' };
  }
  const querySet = g.resources.createQuerySet({ type: 'timestamp', count: 2 * repeats });
  const resolved = g.resources.createBuffer({ size: 16 * repeats, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  try {
    for (let i = 0; i < repeats; i++) {
      rec.timestampMark(querySet, 2 * i);
      record();
      rec.timestampMark(querySet, 2 * i + 1);
    }
    rec.resolveQuery(querySet, 2 * repeats, resolved);
    const stamps = new BigInt64Array(await rec.read(resolved, 0, 16 * repeats));
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) ms.push(Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6);
    return { ms, method: 'timestamp' };
  } finally {
    g.resources.destroy(querySet);
    g.resources.destroy(resolved);
  }
}
