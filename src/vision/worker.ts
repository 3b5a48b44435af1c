// Worker thread of ImageLoader: decodes and transforms whole batches, replying with a transferred
// NCHW Float32Array. Errors for one image are reported with its path; with skipBadImages the image
// is dropped from the batch and named in `skipped` instead.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { imageRng, transformImage, transformOutputSize, type TransformConfig } from './augment.ts';
import { decodeImage } from './decode.ts';

export interface WorkerInit {
  transform: TransformConfig;
  skipBadImages: boolean;
  /** Int32Array view: [dataset index + 1 of the image in hand, or 0], read by the parent after a crash. */
  progress: SharedArrayBuffer;
  crashOnImage?: string;
}

export interface BatchJob {
  id: number;
  seed: number;
  epoch: number;
  indices: Int32Array;
  paths: string[];
}

export interface BatchDone {
  id: number;
  images: Float32Array;
  kept: Int32Array;
  skipped: { path: string; reason: string }[];
}
export type BatchReply = BatchDone | { id: number; error: string; path: string };

const init = workerData as WorkerInit;
const progress = new Int32Array(init.progress);
const [h, w] = transformOutputSize(init.transform);
const chw = 3 * h * w;

function readImage(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${path}: cannot read image (${e.code === 'ENOENT' ? 'missing file' : e.code ?? e.message})`);
  }
}

function runJob(job: BatchJob): BatchReply {
  const images = new Float32Array(job.indices.length * chw);
  const kept: number[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (let k = 0; k < job.indices.length; k++) {
    const index = job.indices[k], path = job.paths[k];
    Atomics.store(progress, 0, index + 1);
    if (init.crashOnImage && path.endsWith(init.crashOnImage)) process.exit(70);
    try {
      const img = decodeImage(readImage(path), path);
      const rng = init.transform.kind === 'train' ? imageRng(job.seed, job.epoch, index) : null;
      transformImage(img, init.transform, rng, images.subarray(kept.length * chw, (kept.length + 1) * chw));
      kept.push(index);
    } catch (err) {
      const reason = (err as Error).message;
      if (!init.skipBadImages) return { id: job.id, error: reason.includes(path) ? reason : `${path}: ${reason}`, path };
      skipped.push({ path, reason });
    }
  }
  Atomics.store(progress, 0, 0);
  return { id: job.id, images: images.subarray(0, kept.length * chw), kept: Int32Array.from(kept), skipped };
}

parentPort!.on('message', (job: BatchJob) => {
  const reply = runJob(job);
  parentPort!.postMessage(reply, 'images' in reply ? [reply.images.buffer as ArrayBuffer] : []);
});
