// Geometric transforms with torchvision's tensor semantics (torchvision/transforms/functional.py and
// _functional_tensor.py): crop with zero padding, center_crop, bilinear resize with half-pixel
// centres (align_corners=False, optional antialias), resized_crop, hflip, normalize.
// Everything after decoding runs on float CHW, i.e. torchvision applied to to_tensor(img).
import { planarImage, type PlanarImage, type RgbImage } from './image.ts';

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Python's round(): halves go to the even neighbour (torchvision computes crop sizes with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Crop rows [top, top+height) and columns [left, left+width); outside the image is zero (black). */
export function crop(img: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, img.width - left);
  if (x1 > x0) {
    for (let y = 0; y < height; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= img.height) continue;
      const src = (sy * img.width + left + x0) * 3;
      out.set(img.data.subarray(src, src + (x1 - x0) * 3), (y * width + x0) * 3);
    }
  }
  return { width, height, data: out };
}

/** Offsets torchvision's center_crop uses, including its pad-then-crop for crops larger than the image. */
export function centerCropBox(imgH: number, imgW: number, cropH: number, cropW: number): { top: number; left: number } {
  const padTop = cropH > imgH ? Math.floor((cropH - imgH) / 2) : 0;
  const padLeft = cropW > imgW ? Math.floor((cropW - imgW) / 2) : 0;
  const padH = cropH > imgH ? imgH + padTop + Math.floor((cropH - imgH + 1) / 2) : imgH;
  const padW = cropW > imgW ? imgW + padLeft + Math.floor((cropW - imgW + 1) / 2) : imgW;
  return {
    top: Math.trunc(roundHalfEven((padH - cropH) / 2)) - padTop,
    left: Math.trunc(roundHalfEven((padW - cropW) / 2)) - padLeft,
  };
}

export function centerCrop(img: RgbImage, size: number | readonly [number, number]): RgbImage {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const { top, left } = centerCropBox(img.height, img.width, h, w);
  return crop(img, top, left, h, w);
}

/** Output size of Resize(size): an int sets the shorter side, the longer is int(size * long / short). */
export function resizeOutputSize(h: number, w: number, size: number | readonly [number, number]): [number, number] {
  if (typeof size !== 'number') return [size[0], size[1]];
  if (w <= h) return [Math.trunc((size * h) / w), size];
  return [size, Math.trunc((size * w) / h)];
}

/** Per-output-index source taps of a 1-D bilinear resize. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float64Array; // weights[o * taps + k] applies to source index start[o] + k
}

/**
 * aten's upsample_bilinear2d (align_corners=False): src = (dst + 0.5) * in/out - 0.5 clamped at 0,
 * two taps. With antialias (aten's _upsample_bilinear2d_aa, PIL-style) the triangle filter widens
 * to the scale when downsampling and weights are renormalised; for upsampling both agree.
 */
function axisTaps(inSize: number, outSize: number, antialias: boolean): AxisTaps {
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  if (!antialias) {
    // aten keeps the scale and source coordinate in float32; rounding the same way keeps the
    // interpolation weights identical, not just close.
    const scale = Math.fround(inSize / outSize);
    const weights = new Float64Array(outSize * 2);
    for (let o = 0; o < outSize; o++) {
      const src = Math.max(0, Math.fround(scale * (o + 0.5) - 0.5));
      const i0 = Math.floor(src);
      const lambda = Math.fround(src - i0);
      start[o] = i0;
      count[o] = i0 < inSize - 1 ? 2 : 1;
      weights[o * 2] = count[o] === 2 ? 1 - lambda : 1;
      weights[o * 2 + 1] = count[o] === 2 ? lambda : 0;
    }
    return { start, count, taps: 2, weights };
  }
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = scale * (o + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let k = 0; k < xsize; k++) {
      const w = Math.max(0, 1 - Math.abs((k + xmin - center + 0.5) * invScale));
      weights[o * taps + k] = w;
      total += w;
    }
    if (total !== 0) for (let k = 0; k < xsize; k++) weights[o * taps + k] /= total;
    start[o] = xmin;
    count[o] = xsize;
  }
  return { start, count, taps, weights };
}

export interface ResizeOptions {
  antialias?: boolean;
  /** Mirror left-right while resizing (identical to hflip afterwards, without a second pass). */
  flip?: boolean;
  /** Write into this buffer (e.g. a slot of a batch) instead of allocating. */
  out?: Float32Array;
}

/**
 * Bilinear resize to (outH, outW). Accepts uint8 HWC (read as value/255, i.e. after ToTensor) or
 * float CHW; returns float CHW. Horizontal pass first, then vertical, as aten's separable kernels.
 */
export function resize(img: RgbImage | PlanarImage, outH: number, outW: number, opts: ResizeOptions = {}): PlanarImage {
  const { width: inW, height: inH } = img;
  const hx = axisTaps(inW, outW, opts.antialias ?? false);
  const hy = axisTaps(inH, outH, opts.antialias ?? false);
  const planeIn = inH * outW;
  const tmp = new Float32Array(3 * planeIn);
  horizontalPass(img, hx, outW, opts.flip ?? false, tmp);
  const res = planarImage(outW, outH, opts.out);
  const dst = res.data;
  const planeOut = outH * outW;
  for (let c = 0; c < 3; c++) {
    const tb = c * planeIn, ob = c * planeOut;
    for (let oy = 0; oy < outH; oy++) {
      const s0 = hy.start[oy], n = hy.count[oy], wBase = oy * hy.taps;
      const row = ob + oy * outW;
      if (n === 2) {
        // The common bilinear case, unrolled: two source rows.
        const w0 = hy.weights[wBase], w1 = hy.weights[wBase + 1];
        const r0 = tb + s0 * outW, r1 = r0 + outW;
        for (let x = 0; x < outW; x++) dst[row + x] = w0 * tmp[r0 + x] + w1 * tmp[r1 + x];
        continue;
      }
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += hy.weights[wBase + k] * tmp[tb + (s0 + k) * outW + x];
        dst[row + x] = acc;
      }
    }
  }
  return res;
}

/** Resize along x into CHW `tmp` (inH rows of outW), reading uint8 HWC (scaled by 1/255) or float CHW. */
function horizontalPass(img: RgbImage | PlanarImage, hx: AxisTaps, outW: number, flip: boolean, tmp: Float32Array): void {
  const { width: inW, height: inH } = img;
  const planeIn = inH * outW;
  const { start, count, weights, taps } = hx;
  if (img.data instanceof Uint8Array) {
    const src = img.data;
    for (let y = 0; y < inH; y++) {
      const rowIn = y * inW;
      for (let ox = 0; ox < outW; ox++) {
        const t = y * outW + (flip ? outW - 1 - ox : ox);
        const n = count[ox], wBase = ox * taps;
        let i = (rowIn + start[ox]) * 3;
        let r = 0, g = 0, b = 0;
        for (let k = 0; k < n; k++, i += 3) {
          const w = weights[wBase + k];
          r += w * src[i]; g += w * src[i + 1]; b += w * src[i + 2];
        }
        tmp[t] = r / 255;
        tmp[planeIn + t] = g / 255;
        tmp[2 * planeIn + t] = b / 255;
      }
    }
    return;
  }
  const src = img.data;
  const inPlane = inW * inH;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < inH; y++) {
      const rowIn = c * inPlane + y * inW, rowOut = c * planeIn + y * outW;
      for (let ox = 0; ox < outW; ox++) {
        const n = count[ox], wBase = ox * taps, s0 = rowIn + start[ox];
        let acc = 0;
        for (let k = 0; k < n; k++) acc += weights[wBase + k] * src[s0 + k];
        tmp[rowOut + (flip ? outW - 1 - ox : ox)] = acc;
      }
    }
  }
}

/** torchvision F.resized_crop: crop (top, left, height, width) then resize to `size` ([h, w] or square). */
export function resizedCrop(
  img: RgbImage, top: number, left: number, height: number, width: number,
  size: number | readonly [number, number], opts: ResizeOptions = {},
): PlanarImage {
  const [oh, ow] = typeof size === 'number' ? [size, size] : size;
  return resize(crop(img, top, left, height, width), oh, ow, opts);
}

/** Reverse the width axis in place. */
export function hflip(img: PlanarImage): PlanarImage {
  const { width: w, height: h, data } = img;
  for (let row = 0; row < 3 * h; row++) {
    for (let a = row * w, b = a + w - 1; a < b; a++, b--) {
      const t = data[a];
      data[a] = data[b];
      data[b] = t;
    }
  }
  return img;
}

/** (x - mean) / std per channel, in place. */
export function normalize(
  img: PlanarImage, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD,
): PlanarImage {
  const plane = img.width * img.height;
  for (let c = 0; c < 3; c++) {
    const m = mean[c], s = std[c];
    for (let i = c * plane, end = i + plane; i < end; i++) img.data[i] = (img.data[i] - m) / s;
  }
  return img;
}
