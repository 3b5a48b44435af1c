// Data pipeline throughput: JPEG decode + train augmentation (RandomResizedCrop, flip, ColorJitter,
// Normalize) at 320x320 (the reference recipe) and 64x64 (the demo), on one thread and through the
// worker-thread loader. Uses a synthetic CelebA-format set (178x218 JPEGs) cached in the temp dir.
//   node --import tsx bench/data.bench.ts [--quick] [--workers N] [--batch B]
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLoader, decodeImage, defaultWorkerCount, imageRng, splitIndices, transformImage } from '../src/vision/index.ts';
import { celebaTrainTransform, makeSyntheticCelebA, readCelebA, type CelebADataset } from '../examples/celeba-train/celeba/index.ts';

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

function inline(ds: CelebADataset, rows: Int32Array, size: number, count: number): DataBenchRow {
  const cfg = celebaTrainTransform(size);
  const out = new Float32Array(3 * size * size);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const k = rows[i % rows.length];
    transformImage(decodeImage(readFileSync(ds.paths[k]), ds.paths[k]), cfg, imageRng(0, 0, k), out);
  }
  const ms = performance.now() - t0;
  return { name: `train ${size}x${size}, 1 thread (no loader)`, ms, imagesPerSec: (count * 1000) / ms, images: count, workers: 0, batchSize: 1, size };
}

async function viaLoader(ds: CelebADataset, size: number, workers: number, batchSize: number): Promise<DataBenchRow> {
  const loader = createLoader({ dataset: ds, batchSize, transform: celebaTrainTransform(size), workers, seed: 1 });
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
  const dir = opts.dir ?? join(tmpdir(), `resnest-webgpu-data-bench-${count}`);
  await makeSyntheticCelebA({ dir, count, seed: 0 });
  const ds = readCelebA(dir);
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
