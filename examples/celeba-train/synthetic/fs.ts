// Node-only: writes the synthetic set in the official on-disk layout, cached by a marker file.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTR_FILE, CELEBA_ATTRIBUTES, formatAttributeList, formatPartitionList, PARTITION_FILE,
} from '../celeba/labels.ts';
import { defaultWorkerCount, encodeJpeg, startTsWorker } from '../../../src/vision/index.ts';
import {
  renderSyntheticImage, SYNTHETIC_HEIGHT, SYNTHETIC_VERSION, SYNTHETIC_WIDTH, syntheticFileName, syntheticSplits,
} from './render.ts';

export const SYNTHETIC_MARKER = 'synthetic-celeba.json';
export const IMAGE_DIR = 'img_align_celeba';

export interface SyntheticOptions {
  dir: string;
  count: number;
  seed: number;
  /** JPEG quality, 1..100 (default 90). */
  quality?: number;
  /** Worker threads for large sets (default: one per core; small sets are made inline). */
  workers?: number;
  onProgress?: (done: number, count: number) => void;
}

export interface SyntheticResult {
  dir: string;
  count: number;
  seed: number;
  /** False when a complete set with the same (count, seed) was already there. */
  generated: boolean;
  ms: number;
}

interface Marker {
  format: 'synthetic-celeba';
  version: number;
  count: number;
  seed: number;
  quality: number;
}

function readMarker(dir: string): Marker | null {
  try {
    return JSON.parse(readFileSync(join(dir, SYNTHETIC_MARKER), 'utf8')) as Marker;
  } catch {
    return null;
  }
}

function isComplete(dir: string, m: Marker | null, count: number, seed: number, quality: number): boolean {
  return m !== null && m.format === 'synthetic-celeba' && m.version === SYNTHETIC_VERSION && m.count === count &&
    m.seed === seed && m.quality === quality && existsSync(join(dir, ATTR_FILE)) && existsSync(join(dir, PARTITION_FILE)) &&
    existsSync(join(dir, IMAGE_DIR, syntheticFileName(count - 1)));
}

/**
 * Write `count` synthetic faces to `dir` as CelebA's aligned release lays it out: img_align_celeba/
 * 000001.jpg..., list_attr_celeba.txt and list_eval_partition.txt. Does nothing if `dir` already
 * holds a complete set for the same (count, seed). Refuses to overwrite a dataset it did not make.
 */
export async function makeSyntheticCelebA(opts: SyntheticOptions): Promise<SyntheticResult> {
  const { dir, count, seed } = opts;
  const quality = opts.quality ?? 90;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const t0 = performance.now();
  const marker = readMarker(dir);
  if (isComplete(dir, marker, count, seed, quality)) return { dir, count, seed, generated: false, ms: performance.now() - t0 };
  if (!marker && existsSync(join(dir, ATTR_FILE))) {
    throw new Error(`${dir} already holds ${ATTR_FILE} without ${SYNTHETIC_MARKER}; not overwriting a dataset this tool did not make`);
  }
  // The marker goes last, so an interrupted run is never mistaken for a complete set.
  rmSync(join(dir, SYNTHETIC_MARKER), { force: true });
  rmSync(join(dir, IMAGE_DIR), { recursive: true, force: true });
  mkdirSync(join(dir, IMAGE_DIR), { recursive: true });

  const k = CELEBA_ATTRIBUTES.length;
  const labels = new Uint8Array(count * k);
  const files = Array.from({ length: count }, (_, i) => syntheticFileName(i));
  const workers = Math.min(opts.workers ?? defaultWorkerCount(), Math.floor(count / INLINE_LIMIT));
  if (workers <= 1) {
    for (let i = 0; i < count; i++) {
      labels.set(writeSyntheticImage(dir, seed, i, quality), i * k);
      if (opts.onProgress && ((i + 1) % 250 === 0 || i + 1 === count)) opts.onProgress(i + 1, count);
      // Yield now and then so a caller's timers and I/O keep running during long generations.
      if (i % 64 === 63) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } else {
    await inWorkers(workers, { dir, seed, quality }, count, (start, rows) => {
      rows.forEach((row, r) => labels.set(row, (start + r) * k));
    }, opts.onProgress);
  }
  writeFileSync(join(dir, ATTR_FILE), formatAttributeList(CELEBA_ATTRIBUTES, files, labels));
  writeFileSync(join(dir, PARTITION_FILE), formatPartitionList(files, syntheticSplits(count)));
  const done: Marker = { format: 'synthetic-celeba', version: SYNTHETIC_VERSION, count, seed, quality };
  writeFileSync(join(dir, SYNTHETIC_MARKER), JSON.stringify(done) + '\n');
  return { dir, count, seed, generated: true, ms: performance.now() - t0 };
}

const INLINE_LIMIT = 150;
const CHUNK = 50;

/** Render, encode and write image `index`; returns its 40 labels. */
export function writeSyntheticImage(dir: string, seed: number, index: number, quality: number): Uint8Array {
  const img = renderSyntheticImage(seed, index);
  writeFileSync(join(dir, IMAGE_DIR, syntheticFileName(index)), encodeJpeg(img.rgba, SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT, quality));
  return img.labels;
}

/** Hand out chunks of CHUNK images to `n` workers until all `count` are written. */
async function inWorkers(
  n: number, data: { dir: string; seed: number; quality: number }, count: number,
  onChunk: (start: number, labels: Uint8Array[]) => void, onProgress?: (done: number, count: number) => void,
): Promise<void> {
  let next = 0, done = 0;
  const pool = Array.from({ length: n }, () => startTsWorker(new URL('./writer_worker.ts', import.meta.url), data));
  try {
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      const give = (): void => {
        if (next >= count) return resolve();
        const start = next;
        next = Math.min(count, next + CHUNK);
        w.postMessage({ start, end: next });
      };
      w.on('message', (m: { start: number; labels: Uint8Array[] }) => {
        onChunk(m.start, m.labels);
        done += m.labels.length;
        onProgress?.(done, count);
        give();
      });
      w.on('error', reject);
      w.on('exit', (code) => reject(new Error(`synthetic image worker exited with code ${code}`)));
      give();
    })));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
