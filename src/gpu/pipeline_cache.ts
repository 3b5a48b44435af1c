// Compute pipelines keyed by (shader name, entry point, override constants), with explicit
// bind group layouts: read-only storage inputs, then storage outputs, then one uniform.
// 'texture' is a sampled rgba32float texture read with textureLoad, 'storage-texture' a
// write-only rgba32float storage texture and 'storage-texture-read' a read-only one: adapters
// where texel fetches are faster than storage-buffer loads (lavapipe) keep activations in them,
// and lavapipe loads a storage texel in about a third of a sampled texel's instructions.
export type BindingKind = 'read' | 'write' | 'uniform' | 'texture' | 'storage-texture' | 'storage-texture-read';

export interface PipelineKey {
  shader: string;              // family name, for the cache key and labels
  code: () => string;          // WGSL text, fetched only on a cache miss
  entry: string;
  bindings: readonly BindingKind[];
  constants?: Record<string, number>;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  label: string;
}

const bufferType: Record<'read' | 'write' | 'uniform', GPUBufferBindingType> = {
  read: 'read-only-storage',
  write: 'storage',
  uniform: 'uniform',
};

function layoutEntry(kind: BindingKind, binding: number): GPUBindGroupLayoutEntry {
  const visibility = GPUShaderStage.COMPUTE;
  if (kind === 'texture') return { binding, visibility, texture: { sampleType: 'unfilterable-float', viewDimension: '2d' } };
  if (kind === 'storage-texture-read') return { binding, visibility, storageTexture: { access: 'read-only', format: 'rgba32float' } };
  if (kind === 'storage-texture') return { binding, visibility, storageTexture: { access: 'write-only', format: 'rgba32float' } };
  return { binding, visibility, buffer: { type: bufferType[kind] } };
}

export class PipelineCache {
  private pipelines = new Map<string, CachedPipeline>();
  private modules = new Map<string, GPUShaderModule>();
  private layouts = new Map<string, GPUBindGroupLayout>();
  compiled = 0;

  constructor(private device: GPUDevice) {}

  get(key: PipelineKey): CachedPipeline {
    const constants = key.constants ?? {};
    const id = `${key.shader}:${key.entry}:${JSON.stringify(constants)}`;
    let cached = this.pipelines.get(id);
    if (cached) return cached;
    let module = this.modules.get(key.shader);
    if (!module) {
      module = this.device.createShaderModule({ code: key.code(), label: key.shader });
      this.modules.set(key.shader, module);
    }
    const layoutId = key.bindings.join(',');
    let layout = this.layouts.get(layoutId);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: layoutId,
        entries: key.bindings.map((kind, binding) => layoutEntry(kind, binding)),
      });
      this.layouts.set(layoutId, layout);
    }
    const pipeline = this.device.createComputePipeline({
      label: id,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: key.entry, constants },
    });
    this.compiled++;
    cached = { pipeline, layout, label: id };
    this.pipelines.set(id, cached);
    return cached;
  }
}
