// CelebA for the trainer: the label files, the dataset reader, the report's transforms and the
// synthetic CelebA-format set (written in the official layout, so it takes the same path).
export * from './labels.ts';
export { IMAGE_DIRS, loadCelebAImage, readCelebA, type CelebADataset, type ReadCelebAOptions } from './read.ts';
export { celebaEvalTransform, celebaTrainTransform } from './recipe.ts';
export * from '../synthetic/render.ts';
export { IMAGE_DIR, makeSyntheticCelebA, SYNTHETIC_MARKER, type SyntheticOptions, type SyntheticResult } from '../synthetic/fs.ts';
