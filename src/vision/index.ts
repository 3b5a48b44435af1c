// resnest-webgpu/vision: image input for training and inference. torchvision-exact transforms
// and augmentation, JPEG/PNG decoding (and a baseline JPEG encoder), the seeded PRNG they draw
// from, a labelled-image-set description and a worker-thread batch loader. Bundles for the
// browser: the loader and thread helpers reach Node's built-ins only when called (in Node).
export * from './prng.ts';
export * from './image.ts';
export * from './decode.ts';
export * from './transforms.ts';
export * from './color.ts';
export * from './augment.ts';
export * from './dataset.ts';
export { encodeJpeg } from './jpeg_encode.ts';
export {
  ImageLoader, ImageReadError, createLoader, type Batch, type EpochReport, type LoaderOptions, type LoaderState,
} from './loader.ts';
export { defaultWorkerCount, startTsWorker } from './threads.ts';
