// The report's transforms for CelebA's 178x218 aligned images, as the library's transform configs.
import type { EvalTransform, Size, TrainTransform } from '../../../src/vision/index.ts';

/** RandomResizedCrop(size, (0.5, 1)), flip 0.5, ColorJitter(0.4, 0, 0.4, 0.5). */
export function celebaTrainTransform(size: Size = 320): TrainTransform {
  return { kind: 'train', size, scale: [0.5, 1], ratio: [3 / 4, 4 / 3], flip: 0.5, brightness: 0.4, contrast: 0, saturation: 0.4, hue: 0.5 };
}

/** CenterCrop(178) then Resize(size): the whole face region of a 178x218 aligned image. */
export function celebaEvalTransform(size: Size = 320): EvalTransform {
  return { kind: 'eval', crop: 178, size };
}
