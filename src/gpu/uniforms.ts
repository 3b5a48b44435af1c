// Uniform buffers keyed by their bytes. Kernel parameters derive from shapes, so a training
// loop meets the same few hundred parameter blocks every step; each is written once, at
// creation (mappedAtCreation), which also keeps uniform writes off the queue timeline where
// they could overtake commands still waiting in the open batch.
import type { GpuResources } from './resources.ts';

export class UniformCache {
  private buffers = new Map<string, GPUBuffer>();
  created = 0;

  constructor(private resources: GpuResources, private retire: (b: GPUBuffer) => void, private capacity = 4096) {}

  get(data: ArrayBuffer): GPUBuffer {
    const bytes = new Uint8Array(data);
    const key = String.fromCharCode(...bytes);
    let buffer = this.buffers.get(key);
    if (buffer) {
      this.buffers.delete(key); // re-insert: Map order doubles as LRU order
      this.buffers.set(key, buffer);
      return buffer;
    }
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    buffer = this.resources.createBuffer({ size, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true, label: 'params' });
    new Uint8Array(buffer.getMappedRange()).set(bytes);
    buffer.unmap();
    this.created++;
    this.buffers.set(key, buffer);
    if (this.buffers.size > this.capacity) {
      const [oldKey, old] = this.buffers.entries().next().value as [string, GPUBuffer];
      this.buffers.delete(oldKey);
      this.retire(old); // destroyed after the batch that may still use it is submitted
    }
    return buffer;
  }
}

/** Packs a uniform block of u32/i32/f32 fields, in order, 4 bytes each. */
export function packParams(fields: ReadonlyArray<readonly [type: 'u32' | 'i32' | 'f32', value: number]>): ArrayBuffer {
  const out = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(out);
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
  return out;
}
