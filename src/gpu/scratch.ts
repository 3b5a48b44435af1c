// Scratch beyond the buffer pool, for kernels that read activations through textures:
// rgba32float textures (sampled, and storage-written or copied into) and buffers usable both as storage
// (written by a packing kernel) and as uniform (read by the next kernel). Sized in the buffer
// pool's buckets, released as soon as their last use is recorded and reused by the next op;
// safe within one batch because WebGPU orders the dispatches' accesses. Oldest first, as the
// buffer pool: a step gets the same scratch every time, so its bind groups stay cached. Made
// and destroyed through the device's resource counter (resources.ts).
import { bucketSize, insertBySerial } from './buffer_pool.ts';
import type { GpuResources } from './resources.ts';
import type { TextureBinding } from './recorder.ts';

const COPY_DST = 0x02, TEXTURE_BINDING = 0x04, STORAGE_BINDING = 0x08; // GPUTextureUsage
const BUF_COPY_DST = 0x08, BUF_UNIFORM = 0x40, BUF_STORAGE = 0x80; // GPUBufferUsage

export interface GridTexture { texture: GPUTexture; rows: number; binding: TextureBinding }

export class ScratchPool {
  private freeTextures = new Map<string, GridTexture[]>();
  private freeUniforms = new Map<number, GPUBuffer[]>();
  private nextId = 1;
  private serial = new WeakMap<object, number>();

  constructor(private device: GPUDevice, private resources: GpuResources) {}

  /** A width x (at least) rows rgba32float texture; rows are bucketed, capped at the device's texture size. */
  acquireTexture(width: number, rows: number, label: string): GridTexture {
    const max = this.device.limits.maxTextureDimension2D;
    if (rows > max || width > max) throw new Error(`${label}: a ${width}x${rows} texture exceeds this device's maxTextureDimension2D (${max})`);
    const fitRows = Math.min(bucketSize(Math.max(rows, 1), 1), max);
    const key = `${width}x${fitRows}`;
    const got = this.freeTextures.get(key)?.pop();
    if (got) return got;
    const texture = this.resources.createTexture({ label, size: [width, fitRows], format: 'rgba32float', usage: COPY_DST | TEXTURE_BINDING | STORAGE_BINDING });
    const grid = { texture, rows: fitRows, binding: { textureView: texture.createView(), id: this.nextId++ } };
    this.serial.set(grid, grid.binding.id);
    return grid;
  }

  releaseTexture(t: GridTexture): void {
    const key = `${t.texture.width}x${t.rows}`;
    let list = this.freeTextures.get(key);
    if (!list) this.freeTextures.set(key, (list = []));
    insertBySerial(list, t, this.serial);
  }

  /** A buffer bindable as uniform and as storage, of at least `bytes` (a multiple of 256). */
  acquireUniform(bytes: number, label: string): GPUBuffer {
    const size = Math.ceil(bucketSize(bytes, 1) / 256) * 256;
    const got = this.freeUniforms.get(size)?.pop();
    if (got) return got;
    const buffer = this.resources.createBuffer({ label, size, usage: BUF_UNIFORM | BUF_STORAGE | BUF_COPY_DST });
    this.serial.set(buffer, this.nextId++);
    return buffer;
  }

  releaseUniform(b: GPUBuffer): void {
    let list = this.freeUniforms.get(b.size);
    if (!list) this.freeUniforms.set(b.size, (list = []));
    insertBySerial(list, b, this.serial);
  }

  /** Destroys every pooled texture and buffer (after the pending work is flushed). */
  trim(): void {
    for (const list of this.freeTextures.values()) for (const t of list) this.resources.destroy(t.texture);
    for (const list of this.freeUniforms.values()) for (const b of list) this.resources.destroy(b);
    this.freeTextures.clear();
    this.freeUniforms.clear();
  }
}
