// Procedural CelebA look-alike: 178x218 cartoon faces whose visible features are 16 of the 40
// attributes; the other 24 are independent label noise at CelebA's positive rates. Features are
// large and high-contrast so they survive CenterCrop(178) + Resize(64), and colour classes are told
// apart by brightness/saturation as well as hue, so ColorJitter's hue rotation cannot erase them.
// Browser-safe: returns RGBA pixels and label text; writing files is fs.ts's job.
import {
  CELEBA_ATTRIBUTES, CELEBA_IMAGE_COUNT, CELEBA_POSITIVE_COUNTS, CELEBA_SPLIT_SIZES, type CelebAAttribute,
} from '../celeba/labels.ts';
import { Rng } from '../../../src/vision/index.ts';
import {
  above, Canvas, capsule, circle, convexPolygon, ellipse, hsv, intersect, mix, outline, roundBox, scaleRgb, stroke,
  union, type Rgb, type Shape,
} from './draw.ts';

export const SYNTHETIC_WIDTH = 178;
export const SYNTHETIC_HEIGHT = 218;
/** Bumped whenever rendering or sampling changes, so cached sets are regenerated. */
export const SYNTHETIC_VERSION = 3;

export const RENDERED_ATTRIBUTES = [
  'Bald', 'Bangs', 'Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Eyeglasses', 'Goatee', 'Gray_Hair', 'Male',
  'Mouth_Slightly_Open', 'Mustache', 'No_Beard', 'Pale_Skin', 'Smiling', 'Wearing_Hat', 'Wearing_Necktie',
] as const satisfies readonly CelebAAttribute[];

const A = Object.fromEntries(CELEBA_ATTRIBUTES.map((n, i) => [n, i])) as Record<CelebAAttribute, number>;
const RENDERED = new Set<number>(RENDERED_ATTRIBUTES.map((n) => A[n]));
const SYNTHETIC_STREAM = 0x5eeded;

const HAIR = {
  Black_Hair: { color: [30, 26, 24] as Rgb, beard: [18, 16, 15] as Rgb, weight: 0.36 },
  Brown_Hair: { color: [118, 72, 36] as Rgb, beard: [66, 40, 22] as Rgb, weight: 0.31 },
  Blond_Hair: { color: [234, 200, 112] as Rgb, beard: [122, 98, 52] as Rgb, weight: 0.22 },
  Gray_Hair: { color: [176, 176, 174] as Rgb, beard: [96, 96, 96] as Rgb, weight: 0.11 },
} as const;
type HairColour = keyof typeof HAIR;

/** 40 labels (0/1) for one image: rendered attributes kept mutually consistent, the rest noise. */
export function sampleSyntheticLabels(rng: Rng): Uint8Array {
  const y = new Uint8Array(CELEBA_ATTRIBUTES.length);
  for (let j = 0; j < y.length; j++) {
    if (!RENDERED.has(j)) y[j] = rng.bernoulli(CELEBA_POSITIVE_COUNTS[j] / CELEBA_IMAGE_COUNT) ? 1 : 0;
  }
  const male = rng.bernoulli(0.42);
  const bald = male && rng.bernoulli(0.3);
  y[A.Male] = +male;
  y[A.Bald] = +bald;
  if (!bald) {
    let u = rng.uniform();
    const colours = Object.keys(HAIR) as HairColour[];
    const pick = colours.find((c) => (u -= HAIR[c].weight) < 0) ?? 'Black_Hair';
    y[A[pick]] = 1;
    y[A.Bangs] = +rng.bernoulli(0.25);
  }
  y[A.Eyeglasses] = +rng.bernoulli(0.2);
  y[A.Wearing_Hat] = +rng.bernoulli(0.15);
  y[A.Smiling] = +rng.bernoulli(0.48);
  y[A.Mouth_Slightly_Open] = +rng.bernoulli(0.48);
  y[A.Mustache] = +(male && rng.bernoulli(0.3));
  y[A.Goatee] = +(male && rng.bernoulli(0.35));
  y[A.No_Beard] = +!(y[A.Mustache] || y[A.Goatee]);
  y[A.Pale_Skin] = +rng.bernoulli(0.12);
  y[A.Wearing_Necktie] = +rng.bernoulli(male ? 0.4 : 0.05);
  return y;
}

const luma = (c: Rgb): number => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

function jitterRgb(rng: Rng, c: Rgb, amount: number): Rgb {
  return [c[0] + rng.uniform(-amount, amount), c[1] + rng.uniform(-amount, amount), c[2] + rng.uniform(-amount, amount)];
}

/** Draw the face for `labels` (as from sampleSyntheticLabels); `rng` supplies pose and colours. */
export function renderSyntheticFace(labels: Uint8Array, rng: Rng): Canvas {
  const has = (n: CelebAAttribute): boolean => labels[A[n]] === 1;
  const cv = new Canvas(SYNTHETIC_WIDTH, SYNTHETIC_HEIGHT);
  const s = rng.uniform(0.92, 1.06);
  const cx = 89 + rng.uniform(-6, 6);
  const cy = 99 + rng.uniform(-5, 5);
  const fw = 43 * s, fh = 56 * s;
  const male = has('Male');
  const hairName = (Object.keys(HAIR) as HairColour[]).find((c) => has(c));
  const hair = hairName ? jitterRgb(rng, HAIR[hairName].color, 8) : null;
  const skin: Rgb = has('Pale_Skin')
    ? jitterRgb(rng, [245, 231, 222], 4)
    : jitterRgb(rng, mix([226, 174, 138], [108, 68, 44], rng.uniform()), 6);
  // Facial hair follows the hair colour but is kept at most half as bright as the skin, so a blond
  // beard on dark skin is still a visible patch.
  const beardBase = hairName ? HAIR[hairName].beard : ([52, 36, 26] as Rgb);
  const beard = scaleRgb(beardBase, Math.min(1, (0.5 * luma(skin)) / luma(beardBase)));

  const bg = hsv(rng.uniform(), rng.uniform(0.2, 0.5), rng.uniform(0.4, 0.95));
  cv.fillGradient(bg, scaleRgb(bg, rng.uniform(0.75, 1.1)));
  for (let k = rng.randint(0, 3); k > 0; k--) {
    const blob = hsv(rng.uniform(), rng.uniform(0.2, 0.5), rng.uniform(0.4, 0.95));
    cv.fill(ellipse(rng.uniform(0, 178), rng.uniform(0, 218), rng.uniform(10, 40), rng.uniform(10, 40)), blob, 0.6);
  }

  // Hair behind the head: short cap (down to ear level) for men, a long curtain for women.
  if (hair) {
    const cap = intersect(ellipse(cx, cy - 0.1 * fh, fw + 9, fh + 7), above(cy - 0.02 * fh));
    cv.fill(male ? cap : union(cap, roundBox(cx, cy + 0.2 * fh, fw + 16, 1.15 * fh, 0.5 * fw)), hair);
  }

  const shoulderY = cy + fh + 12;
  const shirt = hsv(rng.uniform(), rng.uniform(0.15, 0.8), rng.uniform(0.3, 0.9));
  cv.fill(roundBox(cx, shoulderY + 60, 84, 60, 34), shirt);
  cv.fill(roundBox(cx, cy + fh, 17 * s, 0.22 * fh + 12, 5), scaleRgb(skin, 0.88));
  if (has('Wearing_Necktie')) {
    const dark = (shirt[0] + shirt[1] + shirt[2]) / 3 > 150;
    const tie = hsv(rng.uniform(), rng.uniform(0.5, 0.9), dark ? rng.uniform(0.12, 0.3) : rng.uniform(0.8, 0.98));
    const y0 = shoulderY - 6;
    for (const side of [-1, 1]) cv.fill(convexPolygon([cx, y0 + 8, cx + side * 24, y0 - 2, cx + side * 20, y0 + 20]), [246, 246, 242]);
    cv.fill(convexPolygon([cx - 10, y0, cx + 10, y0, cx + 7, y0 + 11, cx - 7, y0 + 11]), tie);
    cv.fill(convexPolygon([cx - 7, y0 + 11, cx + 7, y0 + 11, cx + 17, y0 + 44, cx, y0 + 58, cx - 17, y0 + 44]), tie);
  }

  for (const side of [-1, 1]) cv.fill(ellipse(cx + side * fw * 0.97, cy - 0.05 * fh, 6.5 * s, 11 * s), scaleRgb(skin, 0.93));
  const face: Shape = male
    ? union(ellipse(cx, cy - 0.05 * fh, fw, 0.95 * fh), roundBox(cx, cy + 0.45 * fh, 0.93 * fw, 0.5 * fh, 0.35 * fw))
    : ellipse(cx, cy, fw, fh);
  cv.fill(face, skin);
  if (hair) {
    const head = ellipse(cx, cy, fw + 1, fh + 1);
    if (has('Bangs')) {
      // A fringe over the eyebrows with a jagged edge of strands: a texture, not only a colour.
      const y = cy - 0.36 * fh;
      const strands: Shape[] = [above(y)];
      for (let x = cx - fw; x < cx + fw; x += 9 * s) strands.push(convexPolygon([x, y - 1, x + 9 * s, y - 1, x + 4.5 * s, y + 7 * s]));
      cv.fill(intersect(head, union(...strands)), hair);
    } else {
      cv.fill(intersect(head, above(cy - 0.8 * fh)), hair);
    }
  } else {
    // Bald scalps get a large specular highlight: something to detect, not just missing hair.
    cv.fill(ellipse(cx - 0.2 * fw, cy - 0.78 * fh, 20 * s, 10 * s), mix(skin, [255, 255, 255], 0.6));
  }

  const brow = mix(beard, skin, 0.15);
  const eyeY = cy - 0.18 * fh;
  const iris = hsv(rng.uniform(), rng.uniform(0.3, 0.8), rng.uniform(0.2, 0.45));
  for (const side of [-1, 1]) {
    const ex = cx + side * 17 * s;
    if (!has('Bangs')) cv.fill(roundBox(ex, cy - 0.33 * fh, 11 * s, male ? 3.4 : 2.3, 2), brow);
    // Smiling eyes narrow: a second cue away from the mouth.
    const white = ellipse(ex, eyeY, 8.5 * s, (has('Smiling') ? 2.8 : 4.8) * s);
    cv.fill(white, [242, 240, 236]);
    cv.fill(intersect(circle(ex, eyeY, 4 * s), white), iris);
    cv.fill(circle(ex, eyeY, 1.8 * s), [12, 10, 10]);
  }
  cv.fill(convexPolygon([cx, eyeY + 2, cx + 6 * s, cy + 0.2 * fh, cx - 6 * s, cy + 0.2 * fh]), scaleRgb(skin, 0.84));

  if (has('Goatee')) cv.fill(roundBox(cx, cy + 0.78 * fh, 15 * s, 0.17 * fh, 6), beard);
  if (has('Smiling')) {
    for (const side of [-1, 1]) cv.fill(ellipse(cx + side * 27 * s, cy + 0.25 * fh, 10 * s, 7 * s), mix(skin, [196, 64, 72], 0.5));
  }
  drawMouth(cv, cx, cy + 0.46 * fh, s, has('Smiling'), has('Mouth_Slightly_Open'), mix(skin, [150, 46, 58], 0.55));
  if (has('Mustache')) {
    const my = cy + 0.46 * fh;
    cv.fill(stroke([cx - 19 * s, my - 4, cx, my - 10, cx + 19 * s, my - 4], 4 * s), beard);
  }

  if (has('Eyeglasses')) {
    const frame = jitterRgb(rng, [28, 26, 30], 10);
    for (const side of [-1, 1]) {
      const lens = roundBox(cx + side * 18 * s, eyeY, 13.5 * s, 9.5 * s, 4);
      cv.fill(lens, [235, 240, 245], 0.15);
      cv.fill(outline(lens, 5), frame);
      cv.fill(capsule(cx + side * 31.5 * s, eyeY - 3, cx + side * fw * 0.98, eyeY - 5, 2.2), frame);
    }
    cv.fill(capsule(cx - 4.5 * s, eyeY - 2, cx + 4.5 * s, eyeY - 2, 2.5), frame);
  }

  if (has('Wearing_Hat')) {
    const hat = hsv(rng.uniform(), rng.uniform(0.6, 0.9), rng.uniform(0.45, 0.9));
    const top = cy - fh - 20 * s, bottom = cy - 0.62 * fh;
    cv.fill(roundBox(cx, (top + bottom) / 2, 0.95 * fw, (bottom - top) / 2, 10), hat);
    cv.fill(roundBox(cx, bottom - 8, 0.95 * fw, 4, 0), scaleRgb(hat, 0.55));
    cv.fill(roundBox(cx, bottom, 1.38 * fw, 5 * s, 4), scaleRgb(hat, 0.8));
  }
  return cv;
}

function drawMouth(cv: Canvas, cx: number, y: number, s: number, smiling: boolean, open: boolean, lip: Rgb): void {
  // Smiles are wide and deeply curved, neutral mouths narrow and flat: the two differ in width,
  // not only in a few pixels of curvature, so the difference survives a 64x64 resize.
  const hw = (smiling ? 25 : 14) * s;
  if (!open) {
    if (!smiling) return cv.fill(capsule(cx - hw, y, cx + hw, y, 2.8), lip);
    // Closed smile: a filled crescent, thick in the middle, corners turned up.
    const lower: number[] = [], upper: number[] = [];
    for (let k = 0; k <= 8; k++) {
      const u = k / 4 - 1;
      lower.push(cx + u * hw, y - 8 + 15 * (1 - u * u) + 3);
      upper.push(cx + u * hw, y - 8 + 8 * (1 - u * u) - 1);
    }
    return cv.fill(union(stroke(lower, 3), stroke(upper, 2.5), crescent(lower, upper)), lip);
  }
  const inside: Rgb = [48, 14, 20];
  if (!smiling) {
    const o = ellipse(cx, y + 1, 9 * s, 9 * s);
    cv.fill(o, inside);
    return cv.fill(outline(o, 2.5), lip);
  }
  const pts: number[] = [];
  for (let k = 0; k <= 10; k++) {
    const u = 1 - k / 5;
    pts.push(cx + u * hw, y - 6 + 18 * s * (1 - u * u));
  }
  const d = convexPolygon(pts);
  cv.fill(d, inside);
  cv.fill(intersect(d, above(y)), [244, 242, 236]);
  cv.fill(outline(d, 2.5), lip);
}

/** Region between two polylines with the same x samples (upper above lower), as vertical strips. */
function crescent(lower: number[], upper: number[]): Shape {
  const strips: Shape[] = [];
  for (let i = 0; i + 3 < lower.length; i += 2) {
    strips.push(convexPolygon([upper[i], upper[i + 1], upper[i + 2], upper[i + 3], lower[i + 2], lower[i + 3], lower[i], lower[i + 1]]));
  }
  return union(...strips);
}

/** CelebA-like contiguous split: the official 162770 / 19867 / 19962 proportions (~80/10/10). */
export function syntheticSplits(count: number): Uint8Array {
  const nTrain = Math.round((count * CELEBA_SPLIT_SIZES.train) / CELEBA_IMAGE_COUNT);
  const nVal = Math.round((count * CELEBA_SPLIT_SIZES.val) / CELEBA_IMAGE_COUNT);
  return Uint8Array.from({ length: count }, (_, i) => (i < nTrain ? 0 : i < nTrain + nVal ? 1 : 2));
}

export function syntheticFileName(index: number): string {
  return `${String(index + 1).padStart(6, '0')}.jpg`;
}

/** Labels and RGBA pixels of image `index` of the set made from `seed` (independent of other images). */
export function renderSyntheticImage(seed: number, index: number): { labels: Uint8Array; rgba: Uint8Array } {
  const rng = new Rng(seed, SYNTHETIC_STREAM, index);
  const labels = sampleSyntheticLabels(rng);
  return { labels, rgba: renderSyntheticFace(labels, rng).data };
}
