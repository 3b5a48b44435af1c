// Colour adjustments with torchvision's float-tensor semantics (_functional_tensor.py), in place on
// CHW images with values in [0, 1]. Blends clamp to [0, 1]; hue goes through torchvision's own
// RGB<->HSV (PIL-compatible hue in [0, 1)), not a YIQ rotation.
import type { PlanarImage } from './image.ts';

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** torchvision rgb_to_grayscale weights (ITU-R 601-2 luma, as PIL's 'L'). */
function gray(r: number, g: number, b: number): number {
  return 0.2989 * r + 0.587 * g + 0.114 * b;
}

/** Blend with black: clamp(f * img). */
export function adjustBrightness(img: PlanarImage, factor: number): PlanarImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = clamp01(factor * d[i]);
  return img;
}

/** Blend with the grayscale image: clamp(f * img + (1 - f) * gray). */
export function adjustSaturation(img: PlanarImage, factor: number): PlanarImage {
  const d = img.data;
  const n = img.width * img.height;
  const rest = 1 - factor;
  for (let p = 0; p < n; p++) {
    const r = d[p], g = d[n + p], b = d[2 * n + p];
    const l = rest * Math.fround(gray(r, g, b));
    d[p] = clamp01(factor * r + l);
    d[n + p] = clamp01(factor * g + l);
    d[2 * n + p] = clamp01(factor * b + l);
  }
  return img;
}

/** Blend with the mean of the grayscale image. */
export function adjustContrast(img: PlanarImage, factor: number): PlanarImage {
  const d = img.data;
  const n = img.width * img.height;
  let sum = 0;
  for (let p = 0; p < n; p++) sum += Math.fround(gray(d[p], d[n + p], d[2 * n + p]));
  const l = (1 - factor) * (sum / n);
  for (let i = 0; i < d.length; i++) d[i] = clamp01(factor * d[i] + l);
  return img;
}

/**
 * Shift hue by `factor` (in [-0.5, 0.5], a fraction of the colour circle): RGB -> HSV,
 * h = (h + factor) mod 1, HSV -> RGB. Greys (max == min) have s = 0 and stay grey.
 */
export function adjustHue(img: PlanarImage, factor: number): PlanarImage {
  if (!(factor >= -0.5 && factor <= 0.5)) throw new RangeError(`hue factor ${factor} is not in [-0.5, 0.5]`);
  const d = img.data;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = d[p], g = d[n + p], b = d[2 * n + p];
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const cr = maxc - minc;
    const eq = maxc === minc;
    const s = cr / (eq ? 1 : maxc);
    const div = eq ? 1 : cr;
    const rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
    let h: number;
    if (maxc === r) h = bc - gc;
    else if (maxc === g) h = 2 + rc - bc;
    else h = 4 + gc - rc;
    h = (h / 6 + 1) % 1; // torch.fmod of a positive number
    h = Math.fround(h + factor);
    h = Math.fround(h - Math.floor(h)); // Python-style % 1.0; float32 may round this up to 1.0
    const v = maxc;
    const h6 = h * 6;
    const sector = Math.floor(h6);
    const f = h6 - sector;
    const pp = clamp01(v * (1 - s));
    const q = clamp01(v * (1 - s * f));
    const t = clamp01(v * (1 - s * (1 - f)));
    let R: number, G: number, B: number;
    switch (sector % 6) {
      case 0: R = v; G = t; B = pp; break;
      case 1: R = q; G = v; B = pp; break;
      case 2: R = pp; G = v; B = t; break;
      case 3: R = pp; G = q; B = v; break;
      case 4: R = t; G = pp; B = v; break;
      default: R = v; G = pp; B = q; break;
    }
    d[p] = R;
    d[n + p] = G;
    d[2 * n + p] = B;
  }
  return img;
}
