// Worker thread for makeSyntheticCelebA: renders, encodes and writes one range of images per request.
import { parentPort, workerData } from 'node:worker_threads';
import { writeSyntheticImage } from './fs.ts';

const { dir, seed, quality } = workerData as { dir: string; seed: number; quality: number };

parentPort!.on('message', (job: { start: number; end: number }) => {
  const labels: Uint8Array[] = [];
  for (let i = job.start; i < job.end; i++) labels.push(writeSyntheticImage(dir, seed, i, quality));
  parentPort!.postMessage({ start: job.start, labels });
});
