// Image containers shared by decoding, transforms and the loader.

/** 8-bit RGB, interleaved row-major (HWC), as decoded from JPEG/PNG. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Float32 planar image (CHW, 3 planes), the layout torchvision tensors use. Values are in [0, 1]
 * until `normalize` runs. `data` may be a view into a larger batch buffer.
 */
export interface PlanarImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function planarImage(width: number, height: number, data?: Float32Array): PlanarImage {
  const n = 3 * width * height;
  if (data && data.length < n) throw new RangeError(`planar buffer holds ${data.length} floats, need ${n}`);
  return { width, height, data: data ? data.subarray(0, n) : new Float32Array(n) };
}

/** ToTensor: HWC uint8 -> CHW float in [0, 1]. */
export function toPlanar(img: RgbImage, out?: Float32Array): PlanarImage {
  const res = planarImage(img.width, img.height, out);
  const plane = img.width * img.height;
  const src = img.data;
  const dst = res.data;
  for (let p = 0, s = 0; p < plane; p++, s += 3) {
    dst[p] = src[s] / 255;
    dst[plane + p] = src[s + 1] / 255;
    dst[2 * plane + p] = src[s + 2] / 255;
  }
  return res;
}
