// One command encoder and one compute pass collect every dispatch until flush(): a training
// step is one submission. Validation and out-of-memory errors are caught by error scopes
// around each batch and thrown from the next sync(), with Dawn's message, which names the
// labelled pipeline and bind group (kernel and shapes). Staging buffers for uploads and
// readbacks are kept and reused by size, so a steady training loop creates none.
import type { CachedPipeline } from './pipeline_cache.ts';
import { Profiler } from './profiler.ts';
import type { GpuResources } from './resources.ts';
import { bucketSize } from './buffer_pool.ts';

export interface BufferRange { buffer: GPUBuffer; offset?: number; size?: number }
/** A texture bound to a 'texture' or 'storage-texture' slot; `id` keys the bind group cache. */
export interface TextureBinding { textureView: GPUTextureView; id: number }
export type Binding = GPUBuffer | BufferRange | TextureBinding;

export interface RecorderStats { submissions: number; dispatches: number; bindGroupsCreated: number }

// GPUBufferUsage, as numbers: Node defines the GPU globals only once Dawn is loaded
const MAP_READ = 0x01, COPY_SRC = 0x04, COPY_DST = 0x08;
/** Bind groups held before the cache starts over (a training step of ResNeSt-50 uses ~2k). */
export const BIND_GROUP_CACHE_SIZE = 8192;

/** Free staging buffers by bucket size. */
class StagingShelf {
  private free = new Map<number, GPUBuffer[]>();
  constructor(private resources: GpuResources, private usage: number, private label: string) {}

  take(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    return this.free.get(size)?.pop() ?? this.resources.createBuffer({ size, usage: this.usage, label: this.label });
  }

  put(b: GPUBuffer): void {
    let list = this.free.get(b.size);
    if (!list) this.free.set(b.size, (list = []));
    list.push(b);
  }
}

export class CommandRecorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private nextPassTimestamps: GPUComputePassTimestampWrites | undefined;
  private pendingChecks: Promise<string | null>[] = [];
  private retired: GPUBuffer[] = [];
  // an upload's staging buffer is written with queue.writeBuffer, which runs before the open
  // batch: it is reused only once the batch that copies from it has been submitted
  private uploadShelf: StagingShelf;
  private uploadsInBatch: GPUBuffer[] = [];
  private readbackShelf: StagingShelf;
  private bindGroups = new Map<string, GPUBindGroup>();
  private ids = new WeakMap<GPUBuffer | GPUBindGroupLayout, number>();
  private nextId = 1;
  private uncaptured: string[] = [];
  private batchLabels: string[] = [];
  private profiler: Profiler | null = null;
  readonly stats: RecorderStats = { submissions: 0, dispatches: 0, bindGroupsCreated: 0 };
  /** Sees every dispatch as it is recorded: pipeline id (shader:entry:constants), label, workgroups. */
  onDispatch: ((pipeline: string, label: string, workgroups: readonly [number, number, number]) => void) | null = null;

  constructor(private device: GPUDevice, private resources: GpuResources, private wait: <T>(p: Promise<T>) => Promise<T>) {
    this.uploadShelf = new StagingShelf(resources, COPY_SRC | COPY_DST, 'upload staging');
    this.readbackShelf = new StagingShelf(resources, MAP_READ | COPY_DST, 'readback staging');
    device.addEventListener('uncapturederror', (e) => {
      this.uncaptured.push((e as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Bind groups held by the cache now (at most BIND_GROUP_CACHE_SIZE). */
  get bindGroupCacheSize(): number {
    return this.bindGroups.size;
  }

  get pending(): boolean {
    return this.encoder !== null;
  }

  /** Opens the batch (and its error scopes) if none is open; call before creating pipelines. */
  open(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
      this.batchLabels = [];
    }
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.pass = this.open().beginComputePass({ timestampWrites: this.nextPassTimestamps });
      this.nextPassTimestamps = undefined;
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private id(o: GPUBuffer | GPUBindGroupLayout): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  dispatch(p: CachedPipeline, bindings: Binding[], workgroups: readonly [number, number, number], label: string): void {
    const ranges = bindings.map((b) => ('textureView' in b || ('buffer' in b && !('mapState' in b)) ? b : { buffer: b as GPUBuffer }));
    const key = `${this.id(p.layout)}|` + ranges.map((r) => ('textureView' in r ? `t${r.id}`
      : `${this.id(r.buffer)}:${r.offset ?? 0}:${r.size ?? -1}`)).join('|');
    let group = this.bindGroups.get(key);
    if (!group) {
      if (this.bindGroups.size >= BIND_GROUP_CACHE_SIZE) this.bindGroups.clear();
      group = this.resources.createBindGroup({
        label, layout: p.layout,
        entries: ranges.map((r, binding) => ({ binding,
          resource: 'textureView' in r ? r.textureView : { buffer: r.buffer, offset: r.offset ?? 0, size: r.size } })),
      });
      this.bindGroups.set(key, group);
      this.stats.bindGroupsCreated++;
    }
    if (this.profiler) { this.endPass(); this.nextPassTimestamps = this.profiler.next(label); }
    const pass = this.computePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    this.stats.dispatches++;
    this.onDispatch?.(p.label, label, workgroups);
    if (this.profiler) this.endPass();
    if (this.batchLabels.length < 64) this.batchLabels.push(label);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass();
    this.open().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Copies whole rows of texels from a buffer into the top of a texture (rows of bytesPerRow, a multiple of 256). */
  copyToTexture(src: GPUBuffer, dst: GPUTexture, width: number, rows: number, bytesPerRow: number, srcOffset = 0, dstRow = 0): void {
    this.endPass();
    this.open().copyBufferToTexture({ buffer: src, bytesPerRow, offset: srcOffset }, { texture: dst, origin: [0, dstRow] }, [width, rows]);
  }

  clear(buffer: GPUBuffer, offset = 0, size?: number): void {
    this.endPass();
    this.open().clearBuffer(buffer, offset, size);
  }

  /**
   * Writes a timestamp once everything recorded before it has run (benchmarks): an empty compute
   * pass of its own, so that the span between two marks counts every dispatch and copy in it.
   */
  timestampMark(querySet: GPUQuerySet, index: number): void {
    this.endPass();
    this.open().beginComputePass({ timestampWrites: { querySet, endOfPassWriteIndex: index } }).end();
  }

  resolveQuery(set: GPUQuerySet, count: number, dst: GPUBuffer): void {
    this.endPass();
    this.open().resolveQuerySet(set, 0, count, dst, 0);
  }

  /**
   * Writes host data into a buffer in order with the recorded commands: with a batch open, a
   * queue.writeBuffer would land before commands recorded earlier, so the data goes through
   * a staging buffer copied inside the batch instead.
   */
  upload(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const size = Math.ceil(bytes.byteLength / 4) * 4;
    if (size === 0) return;
    if (!this.encoder) {
      if (size === bytes.byteLength) this.device.queue.writeBuffer(buffer, offset, bytes as Uint8Array<ArrayBuffer>);
      else { const padded = new Uint8Array(size); padded.set(bytes); this.device.queue.writeBuffer(buffer, offset, padded); }
      return;
    }
    const staging = this.uploadShelf.take(size);
    if (size === bytes.byteLength) this.device.queue.writeBuffer(staging, 0, bytes as Uint8Array<ArrayBuffer>);
    else { const padded = new Uint8Array(size); padded.set(bytes); this.device.queue.writeBuffer(staging, 0, padded); }
    this.copy(staging, 0, buffer, offset, size);
    this.uploadsInBatch.push(staging);
  }

  /** Destroys the buffer once the batch that may use it has been submitted (now, when no batch is open). */
  retire(buffer: GPUBuffer): void {
    if (this.encoder) this.retired.push(buffer);
    else this.resources.destroy(buffer);
  }

  /** Times every dispatch from now on (see profiler.ts); needs the timestamp-query feature. */
  startProfiling(): Profiler {
    this.profiler ??= new Profiler(this.resources);
    return this.profiler;
  }

  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    this.profiler?.resolve(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.stats.submissions++;
    const labels = this.batchLabels.join(', ');
    const check = Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]).then(([validation, oom]) => {
      const err = validation ?? oom;
      return err ? `${err.message}\n  (batch of kernels: ${labels})` : null;
    });
    this.pendingChecks.push(check);
    for (const b of this.retired) this.resources.destroy(b);
    this.retired = [];
    for (const b of this.uploadsInBatch) this.uploadShelf.put(b);
    this.uploadsInBatch = [];
  }

  /** Submits pending work, waits for the queue and throws any GPU error of the batches since the last sync. */
  async sync(): Promise<void> {
    this.flush();
    await this.wait(this.device.queue.onSubmittedWorkDone());
    await this.throwErrors();
  }

  async throwErrors(): Promise<void> {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    const messages = (await Promise.all(checks)).filter((m): m is string => m !== null);
    messages.push(...this.uncaptured.splice(0));
    if (messages.length) throw new Error(`GPU error: ${messages.join('\n')}`);
  }

  /** Copies [offset, offset+size) of a storage buffer to the host. */
  async read(buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
    const aligned = Math.ceil(size / 4) * 4;
    const staging = this.readbackShelf.take(aligned);
    this.copy(buffer, offset, staging, 0, aligned);
    this.flush();
    try {
      await this.wait(staging.mapAsync(GPUMapMode.READ, 0, aligned));
      const out = staging.getMappedRange(0, aligned).slice(0, size);
      staging.unmap();
      await this.throwErrors();
      return out;
    } finally {
      // back on the shelf when cleanly unmapped; a buffer left mapped or pending (a failed map) is dropped
      if (staging.mapState === 'unmapped') this.readbackShelf.put(staging);
      else this.resources.destroy(staging);
    }
  }
}
