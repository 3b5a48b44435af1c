// The one device of the process: acquired once (Dawn in Node, navigator.gpu in the browser),
// with the adapter's own limits and the optional features the kernels can use.
import { BufferPool } from './buffer_pool.ts';
import { PipelineCache } from './pipeline_cache.ts';
import { CommandRecorder } from './recorder.ts';
import { UniformCache } from './uniforms.ts';
import { ScratchPool } from './scratch.ts';
import { describeAdapter, type AdapterDescription } from './adapter.ts';
import { GpuResources } from './resources.ts';
import type { GpuProvider } from './provider.ts';
import { defaultProvider } from './provider_node.ts';

export interface Gpu {
  device: GPUDevice;
  adapter: AdapterDescription;
  limits: GPUSupportedLimits;
  features: ReadonlySet<string>;
  pool: BufferPool;
  scratch: ScratchPool;
  pipelines: PipelineCache;
  recorder: CommandRecorder;
  uniforms: UniformCache;
  /** Creates and counts every buffer, texture, bind group and query set. */
  resources: GpuResources;
  provider: GpuProvider;
  /**
   * Per-device state of the layers above (caches, tuned choices, test settings): made by
   * `create` on first use, gone with the device. `key` names the owner, e.g. 'autotune'.
   */
  state<T>(key: string, create: () => T): T;
}

const WANTED_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'] as const;
const WANTED_LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxUniformBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage', 'maxBindGroups',
] as const;

let current: Gpu | null = null;
let pendingInit: Promise<Gpu> | null = null;
/** Why the last device went away when it was lost rather than released (gpu()'s error says so). */
let lostBecause: string | null = null;

export interface InitOptions {
  provider?: GpuProvider;
  powerPreference?: GPUPowerPreference;
  /** Features to leave off even when present, e.g. to test fallbacks. */
  disableFeatures?: string[];
}

export function initGpu(opts: InitOptions = {}): Promise<Gpu> {
  if (current) return Promise.resolve(current);
  pendingInit ??= acquire(opts).finally(() => { pendingInit = null; });
  return pendingInit;
}

async function acquire(opts: InitOptions): Promise<Gpu> {
  const provider = opts.provider ?? defaultProvider;
  const gpuApi = provider.gpu();
  if (!gpuApi) throw new Error('WebGPU is not available here (no navigator.gpu); use a browser with WebGPU enabled');
  const adapter = await gpuApi.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error('No WebGPU adapter found. On Linux without a GPU install Mesa >= 24 lavapipe ' +
      '(Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers), or run scripts/setup.sh');
  }
  const skip = new Set(opts.disableFeatures ?? []);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f) && !skip.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name] as number;
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'resnest-webgpu' });
  device.lost.then((info) => {
    if (current?.device === device) { current = null; lostBecause = info.message || info.reason || 'unknown'; }
    if (info.reason !== 'destroyed') console.error(`GPU device lost: ${info.message}`);
  });
  const resources = new GpuResources(device);
  const recorder = new CommandRecorder(device, resources, provider.wait);
  const features = new Set<string>(requiredFeatures);
  const states = new Map<string, unknown>();
  lostBecause = null;
  current = {
    device,
    adapter: describeAdapter(adapter.info, provider.name, device.limits, features, new Set(gpuApi.wgslLanguageFeatures ?? [])),
    limits: device.limits,
    features,
    pool: new BufferPool(resources, device.limits.maxBufferSize),
    scratch: new ScratchPool(device, resources),
    pipelines: new PipelineCache(device),
    recorder,
    uniforms: new UniformCache(resources, (b) => recorder.retire(b)),
    resources,
    provider,
    state<T>(key: string, create: () => T): T {
      if (!states.has(key)) states.set(key, create());
      return states.get(key) as T;
    },
  };
  return current;
}

/** The initialised device; ops are synchronous, so `await initGpu()` must have run first. */
export function gpu(): Gpu {
  if (!current && lostBecause !== null) {
    throw new Error(`the GPU device was lost (${lostBecause}): its tensors are gone; \`await initGpu()\` gives a new device`);
  }
  if (!current) throw new Error('GPU not initialised: call `await initGpu()` before creating tensors or running ops');
  return current;
}

export function hasGpu(): boolean {
  return current !== null;
}

/** Finishes pending work and destroys the device (tests, process exit). */
export async function releaseDevice(): Promise<void> {
  if (!current) return;
  const g = current;
  try {
    await g.recorder.sync();
  } finally {
    current = null;
    g.device.destroy();
  }
}
