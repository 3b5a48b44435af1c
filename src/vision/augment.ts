// The two pipelines the trainer uses, as plain serialisable configs (they cross worker boundaries):
//   train: RandomResizedCrop -> RandomHorizontalFlip -> ColorJitter -> Normalize
//   eval:  CenterCrop -> Resize -> Normalize
// Random parameters are drawn exactly as torchvision's get_params do, from our seeded Rng, in the
// order torchvision's Compose would draw them (crop, flip, jitter).
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './color.ts';
import type { PlanarImage, RgbImage } from './image.ts';
import { Rng } from './prng.ts';
import {
  centerCropBox, crop, IMAGENET_MEAN, IMAGENET_STD, normalize, resize, resizeOutputSize, roundHalfEven,
} from './transforms.ts';

export type Size = number | readonly [number, number];

export interface TrainTransform {
  kind: 'train';
  /** Output size; a number means square. */
  size: Size;
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  flip?: number;
  brightness?: number;
  contrast?: number;
  saturation?: number;
  hue?: number;
  antialias?: boolean;
  mean?: readonly number[];
  std?: readonly number[];
}

export interface EvalTransform {
  kind: 'eval';
  crop: Size;
  /** Resize after cropping; a number sets the shorter side (torchvision Resize(int)). */
  size: Size;
  antialias?: boolean;
  mean?: readonly number[];
  std?: readonly number[];
}

export type TransformConfig = TrainTransform | EvalTransform;

const square = (s: Size): [number, number] => (typeof s === 'number' ? [s, s] : [s[0], s[1]]);

/** Output [height, width] of a transform (fixed, so images of any size batch together). */
export function transformOutputSize(cfg: TransformConfig): [number, number] {
  if (cfg.kind === 'train') return square(cfg.size);
  const [ch, cw] = square(cfg.crop);
  return resizeOutputSize(ch, cw, cfg.size);
}

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** RandomResizedCrop.get_params: 10 tries with log-uniform aspect ratio, then a central fallback. */
export function sampleResizedCrop(
  rng: Rng, imgH: number, imgW: number,
  scale: readonly [number, number] = [0.08, 1], ratio: readonly [number, number] = [3 / 4, 4 / 3],
): CropBox {
  const area = imgH * imgW;
  const logLo = Math.log(Math.fround(ratio[0])), logHi = Math.log(Math.fround(ratio[1]));
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const width = roundHalfEven(Math.sqrt(targetArea * aspect));
    const height = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (width > 0 && width <= imgW && height > 0 && height <= imgH) {
      const top = rng.randint(0, imgH - height + 1);
      const left = rng.randint(0, imgW - width + 1);
      return { top, left, height, width };
    }
  }
  const inRatio = imgW / imgH;
  const rMin = Math.min(ratio[0], ratio[1]), rMax = Math.max(ratio[0], ratio[1]);
  let width = imgW, height = imgH;
  if (inRatio < rMin) height = roundHalfEven(width / rMin);
  else if (inRatio > rMax) width = roundHalfEven(height * rMax);
  return { top: Math.floor((imgH - height) / 2), left: Math.floor((imgW - width) / 2), height, width };
}

export interface JitterParams {
  /** Application order of ops 0 brightness, 1 contrast, 2 saturation, 3 hue (torch.randperm(4)). */
  order: number[];
  brightness?: number;
  contrast?: number;
  saturation?: number;
  hue?: number;
}

/** ColorJitter.get_params: a permutation first, then factors in the order b, c, s, h (disabled ones not drawn). */
export function sampleColorJitter(
  rng: Rng, opts: { brightness?: number; contrast?: number; saturation?: number; hue?: number },
): JitterParams {
  const order = Array.from(rng.permutation(4));
  const range = (v: number | undefined): [number, number] | null =>
    v ? [Math.max(0, 1 - v), 1 + v] : null;
  const params: JitterParams = { order };
  const b = range(opts.brightness), c = range(opts.contrast), s = range(opts.saturation);
  if (b) params.brightness = rng.uniform(b[0], b[1]);
  if (c) params.contrast = rng.uniform(c[0], c[1]);
  if (s) params.saturation = rng.uniform(s[0], s[1]);
  if (opts.hue) params.hue = rng.uniform(-opts.hue, opts.hue);
  return params;
}

export function applyColorJitter(img: PlanarImage, p: JitterParams): PlanarImage {
  for (const op of p.order) {
    if (op === 0 && p.brightness !== undefined) adjustBrightness(img, p.brightness);
    else if (op === 1 && p.contrast !== undefined) adjustContrast(img, p.contrast);
    else if (op === 2 && p.saturation !== undefined) adjustSaturation(img, p.saturation);
    else if (op === 3 && p.hue !== undefined) adjustHue(img, p.hue);
  }
  return img;
}

export interface TrainParams {
  crop: CropBox;
  flip: boolean;
  jitter: JitterParams;
}

export function sampleTrainParams(rng: Rng, imgH: number, imgW: number, cfg: TrainTransform): TrainParams {
  const box = sampleResizedCrop(rng, imgH, imgW, cfg.scale ?? [0.08, 1], cfg.ratio ?? [3 / 4, 4 / 3]);
  const flip = rng.uniform() < (cfg.flip ?? 0.5);
  const jitter = sampleColorJitter(rng, cfg);
  return { crop: box, flip, jitter };
}

/** Train pipeline with explicit parameters; writes normalised CHW floats (into `out` if given). */
export function applyTrainParams(img: RgbImage, p: TrainParams, cfg: TrainTransform, out?: Float32Array): PlanarImage {
  const [oh, ow] = square(cfg.size);
  const { top, left, height, width } = p.crop;
  const res = resize(crop(img, top, left, height, width), oh, ow, { antialias: cfg.antialias, flip: p.flip, out });
  applyColorJitter(res, p.jitter);
  return normalize(res, cfg.mean ?? IMAGENET_MEAN, cfg.std ?? IMAGENET_STD);
}

export function applyEval(img: RgbImage, cfg: EvalTransform, out?: Float32Array): PlanarImage {
  const [ch, cw] = square(cfg.crop);
  const { top, left } = centerCropBox(img.height, img.width, ch, cw);
  const [oh, ow] = resizeOutputSize(ch, cw, cfg.size);
  const res = resize(crop(img, top, left, ch, cw), oh, ow, { antialias: cfg.antialias, out });
  return normalize(res, cfg.mean ?? IMAGENET_MEAN, cfg.std ?? IMAGENET_STD);
}

/** Run a configured pipeline. Train transforms need the image's own Rng (e.g. new Rng(seed, epoch, index)). */
export function transformImage(img: RgbImage, cfg: TransformConfig, rng: Rng | null, out?: Float32Array): PlanarImage {
  if (cfg.kind === 'eval') return applyEval(img, cfg, out);
  if (!rng) throw new Error('train transform needs an Rng');
  return applyTrainParams(img, sampleTrainParams(rng, img.height, img.width, cfg), cfg, out);
}

const AUGMENT_STREAM = 2;
const SHUFFLE_STREAM = 1;

/** The Rng the loader gives image `index` in `epoch`: independent of batch, worker and order. */
export function imageRng(seed: number, epoch: number, index: number): Rng {
  return new Rng(seed, AUGMENT_STREAM, epoch, index);
}

/** The loader's visiting order of `n` items in `epoch` (a permutation of 0..n-1). */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  return new Rng(seed, SHUFFLE_STREAM, epoch).permutation(n);
}
