// Node-only data API: filesystem reading, the worker-thread loader and the synthetic set writer.
export * from './index.ts';
export { IMAGE_DIRS, loadCelebAImage, readCelebA, type CelebADataset, type ReadCelebAOptions } from './celeba_fs.ts';
export {
  CelebALoader, createLoader, ImageReadError, type Batch, type EpochReport, type LoaderOptions, type LoaderState,
} from './loader.ts';
export {
  IMAGE_DIR, makeSyntheticCelebA, SYNTHETIC_MARKER, type SyntheticOptions, type SyntheticResult,
} from './synthetic_fs.ts';
export { defaultWorkerCount } from './threads.ts';
