// Scratch the texture version of conv2d needs beyond the buffer pool: rgba32float textures
// (sampled and storage-written) and buffers usable both as storage (written by a packing
// kernel) and as uniform (read by the conv kernel). Both are pooled by size like the buffer
// pool: released as soon as their last use is recorded, reused by the next op, safe within
// one batch because WebGPU orders the dispatches' accesses. Oldest first, as the buffer pool:
// a step gets the same scratch every time, so its bind groups stay cached.
import { gpu, insertBySerial } from '../src/gpu/index.ts';
import type { TextureBinding } from '../src/gpu/recorder.ts';

export const LOG_TW = 12;
export const TW = 1 << LOG_TW; // texture width in texels; tensors are laid out linearly in rows of TW

const TEXTURE_BINDING = 0x04, STORAGE_BINDING = 0x08;            // GPUTextureUsage
const BUF_COPY_DST = 0x08, BUF_UNIFORM = 0x40, BUF_STORAGE = 0x80; // GPUBufferUsage

export interface GridTexture { texture: GPUTexture; rows: number; binding: TextureBinding }

const freeTextures = new Map<number, GridTexture[]>();
const freeUniformBuffers = new Map<number, GPUBuffer[]>();
let nextId = 1;
const serial = new WeakMap<object, number>();
let device: GPUDevice | null = null;

function sameDevice(): void {
  const d = gpu().device;
  if (device !== d) { freeTextures.clear(); freeUniformBuffers.clear(); device = d; }
}

const bucket = (n: number): number => {
  const pow = 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
  return n <= (pow / 4) * 3 ? (pow / 4) * 3 : pow;
};

/** Most texels one grid texture can hold on this device. */
export function maxGridTexels(): number {
  return TW * gpu().limits.maxTextureDimension2D;
}

export function acquireGrid(texels: number, label: string): GridTexture {
  sameDevice();
  const need = Math.max(1, Math.ceil(texels / TW));
  const max = gpu().limits.maxTextureDimension2D;
  if (need > max) throw new Error(`${label}: ${texels} texels exceed a ${TW}x${max} texture`);
  const fitRows = Math.min(bucket(need), max);
  const got = freeTextures.get(fitRows)?.pop();
  if (got) return got;
  const texture = gpu().resources.createTexture({ label, size: [TW, fitRows], format: 'rgba32float', usage: TEXTURE_BINDING | STORAGE_BINDING });
  const grid = { texture, rows: fitRows, binding: { textureView: texture.createView(), id: nextId++ } };
  serial.set(grid, grid.binding.id);
  return grid;
}

export function releaseGrid(t: GridTexture): void {
  let list = freeTextures.get(t.rows);
  if (!list) freeTextures.set(t.rows, (list = []));
  insertBySerial(list, t, serial);
}

export function acquireUniformBuffer(bytes: number, label: string): GPUBuffer {
  sameDevice();
  const size = Math.ceil(bucket(bytes) / 256) * 256;
  const got = freeUniformBuffers.get(size)?.pop();
  if (got) return got;
  const buffer = gpu().resources.createBuffer({ label, size, usage: BUF_UNIFORM | BUF_STORAGE | BUF_COPY_DST });
  serial.set(buffer, nextId++);
  return buffer;
}

export function releaseUniformBuffer(b: GPUBuffer): void {
  let list = freeUniformBuffers.get(b.size);
  if (!list) freeUniformBuffers.set(b.size, (list = []));
  insertBySerial(list, b, serial);
}

/** Destroys every pooled texture and buffer (after the pending work is flushed). */
export function trimConv2dScratch(): void {
  const { resources } = gpu();
  for (const list of freeTextures.values()) for (const t of list) resources.destroy(t.texture);
  for (const list of freeUniformBuffers.values()) for (const b of list) resources.destroy(b);
  freeTextures.clear();
  freeUniformBuffers.clear();
}
