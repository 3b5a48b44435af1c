// Node-only parallel loader. Each batch is one job for one worker thread, which decodes, augments
// and packs it into a fresh NCHW Float32Array whose buffer is transferred (not copied) back.
// Everything random is a pure function of (seed, epoch, image index), so a run resumed from
// state() sees exactly the batches it would have seen.
import type { Worker } from 'node:worker_threads';
import { epochOrder, transformOutputSize, type TransformConfig } from './augment.ts';
import { splitIndices, type LabeledImageSet, type Split } from './dataset.ts';
import { defaultWorkerCount, startTsWorker } from './threads.ts';
import type { BatchDone, BatchJob, BatchReply, WorkerInit } from './worker.ts';

export interface LoaderOptions {
  dataset: LabeledImageSet;
  split?: Split | 'all';
  batchSize: number;
  transform: TransformConfig;
  seed?: number;
  /** Default: true for a train transform, false for eval. */
  shuffle?: boolean;
  dropLast?: boolean;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Batches requested ahead of the consumer (default: max(2, workers)). Memory: prefetch x batch bytes. */
  prefetch?: number;
  /** Skip images that cannot be read or decoded and count them, instead of failing the epoch. */
  skipBadImages?: boolean;
  /** Resume from a state() snapshot. */
  state?: LoaderState;
  onEpochEnd?: (report: EpochReport) => void;
  /** Testing only: the worker exits abruptly when it reaches an image whose path ends with this. */
  crashOnImage?: string;
}

/** JSON-serialisable position: the next batch to hand out. */
export interface LoaderState {
  seed: number;
  epoch: number;
  batch: number;
  /** Images skipped so far in this epoch. */
  skipped: number;
  /** Guards against resuming with a different split, batch size or dataset. */
  fingerprint: string;
}

export interface Batch {
  /** [size, 3, H, W], its own transferable ArrayBuffer (hand it to the GPU without copying). */
  images: Float32Array;
  /** [size, attributes] of 0/1. */
  labels: Float32Array;
  size: number;
  shape: [number, number, number, number];
  epoch: number;
  index: number;
  /** Dataset rows in this batch, in order. */
  indices: Int32Array;
  /** Images skipped in this batch (skipBadImages), with the reason. */
  skipped: { path: string; reason: string }[];
}

export interface EpochReport {
  epoch: number;
  batches: number;
  images: number;
  /** Images skipped as unreadable during the epoch. */
  skipped: number;
  /** Label lines left out when the dataset was read (skipBadImages). */
  excluded: number;
}

/** An image of the dataset could not be read or decoded (without skipBadImages). */
export class ImageReadError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'ImageReadError';
  }
}

interface Pending {
  resolve: (r: BatchDone) => void;
  reject: (e: Error) => void;
  job: BatchJob;
}

interface Slot {
  worker: Worker;
  progress: Int32Array;
  pending: Map<number, Pending>;
  dead: Error | null;
}

export class ImageLoader {
  readonly batchesPerEpoch: number;
  readonly imageShape: [number, number, number];
  private readonly rows: Int32Array;
  private readonly k: number;
  private st: LoaderState;
  private slots: Slot[] | null = null;
  private nextJob = 1;
  private closed = false;
  private epochImages = 0;

  constructor(private readonly opts: LoaderOptions) {
    const ds = opts.dataset;
    if (!(opts.batchSize >= 1)) throw new RangeError(`batchSize must be >= 1, got ${opts.batchSize}`);
    this.rows = splitIndices(ds, opts.split ?? 'train');
    this.k = ds.attributes.length;
    const n = this.rows.length;
    this.batchesPerEpoch = opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
    if (this.batchesPerEpoch === 0) throw new RangeError(`split '${opts.split ?? 'train'}' has ${n} images: not one batch of ${opts.batchSize}`);
    const [h, w] = transformOutputSize(opts.transform);
    this.imageShape = [3, h, w];
    const fingerprint = `${opts.split ?? 'train'}:${n}:${ds.paths.length}:${opts.batchSize}:${this.shuffle}:${!!opts.dropLast}`;
    const seed = opts.state?.seed ?? opts.seed ?? 0;
    if (opts.state && opts.state.fingerprint !== fingerprint) {
      throw new Error(`loader state is for ${opts.state.fingerprint}, this loader is ${fingerprint}`);
    }
    this.st = opts.state ? { ...opts.state } : { seed, epoch: 0, batch: 0, skipped: 0, fingerprint };
  }

  private get shuffle(): boolean {
    return this.opts.shuffle ?? this.opts.transform.kind === 'train';
  }

  /** Snapshot to persist with a checkpoint; pass it back as `state` to resume at the next batch. */
  state(): LoaderState {
    return { ...this.st };
  }

  /** Batches of the current epoch from the current position; the state then moves to the next epoch. */
  async *epoch(): AsyncGenerator<Batch, EpochReport> {
    if (this.closed) throw new Error('loader is closed');
    if (this.st.batch >= this.batchesPerEpoch) this.finishEpoch();
    const { epoch, seed } = this.st;
    const order = this.shuffle ? epochOrder(seed, epoch, this.rows.length) : null;
    const prefetch = Math.max(1, this.opts.prefetch ?? Math.max(2, this.workerCount()));
    const inflight = new Map<number, Promise<BatchDone>>();
    let ahead = this.st.batch;
    try {
      for (let b = this.st.batch; b < this.batchesPerEpoch; b++) {
        for (; ahead < this.batchesPerEpoch && ahead < b + prefetch; ahead++) {
          const p = this.submit(this.batchJob(epoch, ahead, order));
          p.catch(() => {}); // awaited in order below; keeps later failures from being "unhandled"
          inflight.set(ahead, p);
        }
        const r = await inflight.get(b)!;
        inflight.delete(b);
        const batch = this.toBatch(r, epoch, b);
        this.st.batch = b + 1;
        this.st.skipped += batch.skipped.length;
        this.epochImages += batch.size;
        yield batch;
      }
      return this.finishEpoch();
    } finally {
      inflight.clear();
    }
  }

  /** Stop the workers; pending batches are rejected. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots ?? [];
    this.slots = null;
    for (const s of slots) this.failSlot(s, new Error('loader closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private finishEpoch(): EpochReport {
    const report: EpochReport = {
      epoch: this.st.epoch, batches: this.batchesPerEpoch, images: this.epochImages,
      skipped: this.st.skipped, excluded: this.opts.dataset.problems?.length ?? 0,
    };
    this.st = { ...this.st, epoch: this.st.epoch + 1, batch: 0, skipped: 0 };
    this.epochImages = 0;
    this.opts.onEpochEnd?.(report);
    return report;
  }

  private workerCount(): number {
    return Math.max(1, Math.min(this.opts.workers ?? defaultWorkerCount(), this.batchesPerEpoch || 1));
  }

  private batchJob(epoch: number, b: number, order: Int32Array | null): BatchJob {
    const B = this.opts.batchSize;
    const end = Math.min(this.rows.length, (b + 1) * B);
    const indices = new Int32Array(end - b * B);
    for (let i = b * B; i < end; i++) indices[i - b * B] = this.rows[order ? order[i] : i];
    const paths = Array.from(indices, (i) => this.opts.dataset.paths[i]);
    return { id: this.nextJob++, seed: this.st.seed, epoch, indices, paths };
  }

  private toBatch(r: BatchDone, epoch: number, index: number): Batch {
    const n = r.kept.length, k = this.k, src = this.opts.dataset.labels;
    const labels = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) labels[i * k + j] = src[r.kept[i] * k + j];
    const [c, h, w] = this.imageShape;
    return {
      images: r.images, labels, size: n, shape: [n, c, h, w], epoch, index, indices: r.kept,
      skipped: r.skipped,
    };
  }

  private startWorkers(): Slot[] {
    const init: Omit<WorkerInit, 'progress'> = {
      transform: this.opts.transform, skipBadImages: !!this.opts.skipBadImages, crashOnImage: this.opts.crashOnImage,
    };
    return Array.from({ length: this.workerCount() }, (_, id) => {
      const progress = new SharedArrayBuffer(4);
      const worker = startTsWorker(new URL('./worker.ts', import.meta.url), { ...init, progress });
      const slot: Slot = { worker, progress: new Int32Array(progress), pending: new Map(), dead: null };
      worker.unref(); // only pending jobs keep the process alive
      worker.on('message', (reply: BatchReply) => this.onReply(slot, reply));
      worker.on('error', (err) => this.onCrash(slot, id, `threw ${err.message}`));
      worker.on('exit', (code) => this.onCrash(slot, id, `exited with code ${code}`));
      return slot;
    });
  }

  private submit(job: BatchJob): Promise<BatchDone> {
    this.slots ??= this.startWorkers();
    const live = this.slots.filter((s) => !s.dead);
    if (live.length === 0) return Promise.reject(this.slots[0].dead ?? new Error('no data workers'));
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(job.id, { resolve, reject, job });
      slot.worker.postMessage(job);
    });
  }

  private onReply(slot: Slot, reply: BatchReply): void {
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if ('error' in reply) p.reject(new ImageReadError(reply.path, `epoch ${p.job.epoch + 1}: ${reply.error}`)); // 1-based, as progress shows
    else p.resolve(reply);
  }

  private onCrash(slot: Slot, id: number, how: string): void {
    if (this.closed || slot.dead) return;
    const current = Atomics.load(slot.progress, 0) - 1;
    const where = current >= 0 ? `while processing ${this.opts.dataset.paths[current]}` : 'between images';
    this.failSlot(slot, new Error(`data worker ${id} ${how} ${where}`));
  }

  private failSlot(slot: Slot, err: Error): void {
    slot.dead ??= err;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  }
}

export function createLoader(opts: LoaderOptions): ImageLoader {
  return new ImageLoader(opts);
}
