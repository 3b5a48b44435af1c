// The one place the project creates GPU buffers, textures, bind groups and query sets, so that
// every one is counted: created so far, live now (created and not yet destroyed through
// here), and live bytes. "No new buffers per step" is then a claim about all of them (pool,
// staging, uniforms, arenas, textures), not about the pool alone. test/gpu/resources.test.ts
// greps the sources so that no other file calls the device's create* methods.
// Bind groups have no destroy(): the garbage collector frees them, so only creations are
// counted; the recorder's cache size says how many are held.

export interface ResourceCounts { created: number; live: number; liveBytes: number }

export interface ResourceStats {
  buffers: ResourceCounts;
  textures: ResourceCounts;
  querySets: ResourceCounts;
  bindGroups: { created: number };
}

type Destroyable = GPUBuffer | GPUTexture | GPUQuerySet;
type Kind = 'buffers' | 'textures' | 'querySets';

// bytes per texel of the formats the kernels use; others count 0 bytes (still counted as textures)
const TEXEL_BYTES: Record<string, number> = { rgba32float: 16, rgba16float: 8, r32float: 4, rgba8unorm: 4 };
const QUERY_BYTES = 8;

function extent(size: GPUExtent3D): number {
  if (Symbol.iterator in Object(size)) return [...(size as Iterable<number>)].reduce((a, b) => a * (b ?? 1), 1);
  const d = size as GPUExtent3DDict;
  return d.width * (d.height ?? 1) * (d.depthOrArrayLayers ?? 1);
}

export class GpuResources {
  private readonly counts: Record<Kind, ResourceCounts> = {
    buffers: { created: 0, live: 0, liveBytes: 0 },
    textures: { created: 0, live: 0, liveBytes: 0 },
    querySets: { created: 0, live: 0, liveBytes: 0 },
  };
  private bindGroupsCreated = 0;
  private readonly live = new WeakMap<Destroyable, { kind: Kind; bytes: number }>();

  constructor(private readonly device: GPUDevice) {}

  private track<T extends Destroyable>(resource: T, kind: Kind, bytes: number): T {
    const c = this.counts[kind];
    c.created++;
    c.live++;
    c.liveBytes += bytes;
    this.live.set(resource, { kind, bytes });
    return resource;
  }

  createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    return this.track(this.device.createBuffer(desc), 'buffers', desc.size);
  }

  createTexture(desc: GPUTextureDescriptor): GPUTexture {
    return this.track(this.device.createTexture(desc), 'textures', extent(desc.size) * (TEXEL_BYTES[desc.format] ?? 0));
  }

  createQuerySet(desc: GPUQuerySetDescriptor): GPUQuerySet {
    return this.track(this.device.createQuerySet(desc), 'querySets', desc.count * QUERY_BYTES);
  }

  createBindGroup(desc: GPUBindGroupDescriptor): GPUBindGroup {
    this.bindGroupsCreated++;
    return this.device.createBindGroup(desc);
  }

  /** Destroys a buffer, texture or query set made here (once; a second call does nothing). */
  destroy(resource: Destroyable): void {
    const entry = this.live.get(resource);
    if (entry) {
      const c = this.counts[entry.kind];
      c.live--;
      c.liveBytes -= entry.bytes;
      this.live.delete(resource);
    }
    resource.destroy();
  }

  /** A copy of the counters. */
  stats(): ResourceStats {
    return {
      buffers: { ...this.counts.buffers }, textures: { ...this.counts.textures }, querySets: { ...this.counts.querySets },
      bindGroups: { created: this.bindGroupsCreated },
    };
  }
}
