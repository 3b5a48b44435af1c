// Data pipeline throughput: JPEG decode + train augmentation (RandomResizedCrop, flip, ColorJitter,
// Normalize) at 320x320 (the reference recipe) and 64x64 (the demo), on one thread and through the
// worker-thread loader. Uses a set of CelebA-sized (178x218) JPEGs of smooth shapes and texture,
// made here once and cached in the temp dir.
//   node --import tsx bench/data.bench.ts [--quick] [--workers N] [--batch B]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createLoader, decodeImage, defaultWorkerCount, encodeJpeg, imageRng, splitIndices, transformImage, type LabeledImageSet, type Size,
  type TrainTransform,
} from '../src/vision/index.ts';

const WIDTH = 178, HEIGHT = 218;

/** The CelebA recipe's train transform: RandomResizedCrop(size, (0.5, 1)), flip 0.5, ColorJitter(0.4, 0, 0.4, 0.5). */
const trainTransform = (size: Size): TrainTransform =>
  ({ kind: 'train', size, scale: [0.5, 1], ratio: [3 / 4, 4 / 3], flip: 0.5, brightness: 0.4, contrast: 0, saturation: 0.4, hue: 0.5 });

/** Image k: a shaded ellipse on a gradient with fine texture, so JPEG decoding sees photo-like detail. */
function image(k: number): Uint8Array {
  const px = new Uint8Array(WIDTH * HEIGHT * 3);
  const cx = 89 + 20 * Math.sin(k), cy = 109 + 20 * Math.cos(k * 1.3), tint = (k * 37) % 255;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const inside = ((x - cx) / 60) ** 2 + ((y - cy) / 80) ** 2 < 1;
      const grain = 24 * Math.sin(x * 0.9 + y * 0.7 + k) * Math.cos(x * 0.31 - y * 1.1);
      const i = 3 * (y * WIDTH + x);
      px[i] = Math.max(0, Math.min(255, (inside ? 200 : tint) - y * 0.3 + grain));
      px[i + 1] = Math.max(0, Math.min(255, (inside ? 160 : 255 - tint) + x * 0.2 + grain));
      px[i + 2] = Math.max(0, Math.min(255, (inside ? 130 : 90) + grain));
    }
  }
  return px;
}

/** `count` images in `dir` (written once), every one in the train split. */
function imageSet(dir: string, count: number): LabeledImageSet {
  mkdirSync(dir, { recursive: true });
  const paths = Array.from({ length: count }, (_, k) => join(dir, `${String(k).padStart(6, '0')}.jpg`));
  for (const [k, path] of paths.entries()) if (!existsSync(path)) writeFileSync(path, encodeJpeg(image(k), WIDTH, HEIGHT, 90, 3));
  return { attributes: ['odd'], paths, labels: Uint8Array.from(paths, (_, k) => k % 2), splits: new Uint8Array(count) };
}

export interface DataBenchOptions {
  quick?: boolean;
  /** Where the synthetic set is (made if missing). */
  dir?: string;
  workers?: number;
  batchSize?: number;
  sizes?: number[];
}

export interface DataBenchRow {
  name: string;
  ms: number;
  imagesPerSec: number;
  images: number;
  workers: number;
  batchSize: number;
  size: number;
}

function inline(ds: LabeledImageSet, rows: Int32Array, size: number, count: number): DataBenchRow {
  const cfg = trainTransform(size);
  const out = new Float32Array(3 * size * size);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const k = rows[i % rows.length];
    transformImage(decodeImage(readFileSync(ds.paths[k]), ds.paths[k]), cfg, imageRng(0, 0, k), out);
  }
  const ms = performance.now() - t0;
  return { name: `train ${size}x${size}, 1 thread (no loader)`, ms, imagesPerSec: (count * 1000) / ms, images: count, workers: 0, batchSize: 1, size };
}

async function viaLoader(ds: LabeledImageSet, size: number, workers: number, batchSize: number): Promise<DataBenchRow> {
  const loader = createLoader({ dataset: ds, batchSize, transform: trainTransform(size), workers, seed: 1 });
  let images = 0, t0 = 0;
  try {
    for await (const b of loader.epoch()) {
      // The first batch pays for starting the workers; time the steady state after it.
      if (b.index === 0) t0 = performance.now();
      else images += b.size;
    }
  } finally {
    await loader.close();
  }
  const ms = performance.now() - t0;
  return {
    name: `train ${size}x${size}, loader ${workers} worker${workers > 1 ? 's' : ''}, batch ${batchSize}`,
    ms, imagesPerSec: (images * 1000) / ms, images, workers, batchSize, size,
  };
}

export async function run(opts: DataBenchOptions = {}): Promise<DataBenchRow[]> {
  const count = opts.quick ? 160 : 640;
  const dir = opts.dir ?? join(tmpdir(), `resnest-webgpu-data-bench-images-${count}`);
  const ds = imageSet(dir, count);
  const rows = splitIndices(ds, 'train');
  const workers = opts.workers ?? defaultWorkerCount();
  const batchSize = opts.batchSize ?? 32;
  const out: DataBenchRow[] = [];
  for (const size of opts.sizes ?? [320, 64]) {
    inline(ds, rows, size, 16); // warm-up: JIT
    out.push(inline(ds, rows, size, opts.quick ? 48 : 160));
    out.push(await viaLoader(ds, size, workers, batchSize));
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const option = (name: string): number | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const rows = await run({ quick: args.includes('--quick'), workers: option('workers'), batchSize: option('batch') });
  for (const r of rows) {
    console.log(`${r.name.padEnd(44)} ${r.imagesPerSec.toFixed(0).padStart(6)} images/s  (${r.images} images in ${r.ms.toFixed(0)} ms)`);
  }
}
