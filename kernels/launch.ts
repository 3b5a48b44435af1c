// The host side every kernel family shares: pipeline lookup, uniform upload, binding-size
// checks against the device limit, and dispatch geometry.
import { gpu, type Binding, type BindingKind } from '../src/gpu/index.ts';
import { wgsl } from './wgsl.ts';

export interface KernelEntry {
  shader: string;                       // shaders/<shader>.wgsl
  entry: string;                        // @compute entry point
  bindings: readonly BindingKind[];     // inputs, outputs, then optionally one uniform
  constants?: Record<string, number>;   // WGSL override values
}

function bindingBytes(b: Binding): number {
  if ('textureView' in b) return 0; // textures are sized against maxTextureDimension2D by whoever creates them
  if ('mapState' in b) return (b as GPUBuffer).size;
  return b.size ?? b.buffer.size - (b.offset ?? 0);
}

/**
 * Records one dispatch into the open batch. `label` names the kernel and its shapes; it is
 * attached to the bind group so that device errors name it too.
 */
export function launch(k: KernelEntry, buffers: Binding[], params: ArrayBuffer | null,
  workgroups: readonly [number, number, number], label: string): void {
  const g = gpu();
  const maxBinding = g.limits.maxStorageBufferBindingSize;
  for (const b of buffers) {
    const bytes = bindingBytes(b);
    if (bytes > maxBinding) {
      throw new Error(`${label}: a binding of ${bytes} bytes exceeds this device's maxStorageBufferBindingSize (${maxBinding})`);
    }
  }
  const maxWg = g.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((n) => n > maxWg || n < 0 || !Number.isInteger(n))) {
    throw new Error(`${label}: dispatch [${workgroups.join(', ')}] exceeds ${maxWg} workgroups per dimension`);
  }
  if (workgroups.some((n) => n === 0)) return;
  g.recorder.open();
  const pipeline = g.pipelines.get({ shader: k.shader, code: () => wgsl(k.shader), entry: k.entry, bindings: k.bindings, constants: k.constants });
  const all = params ? [...buffers, g.uniforms.get(params)] : buffers;
  if (all.length !== k.bindings.length) {
    throw new Error(`${label}: ${k.entry} takes ${k.bindings.length} bindings, got ${all.length}`);
  }
  g.recorder.dispatch(pipeline, all, workgroups, label);
}

/** Workgroup counts for `invocations` threads in groups of `wgSize`, folded into y past the x limit. */
export function grid1d(invocations: number, wgSize: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.ceil(invocations / wgSize);
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** The buffer and byte offset a buffer binding starts at (for binding sub-ranges of it). */
export function bufferRegion(b: Binding): { buffer: GPUBuffer; offset: number } {
  if ('textureView' in b) throw new Error('bufferRegion: a texture binding has no buffer range');
  return 'mapState' in b ? { buffer: b as GPUBuffer, offset: 0 } : { buffer: b.buffer, offset: b.offset ?? 0 };
}
