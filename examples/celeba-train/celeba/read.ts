// Node-only: read a CelebA (aligned & cropped) directory into a CelebADataset.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import {
  ATTR_FILE, CelebAFormatError, joinLabels, PARTITION_FILE, parseAttributeList, parsePartitionList, type CelebALabels,
} from './labels.ts';
import { decodeImage, type RgbImage } from '../../../src/vision/index.ts';

/** Image folders of the official release, in the order they are looked for. */
export const IMAGE_DIRS = [
  { dir: 'img_align_celeba', ext: '.jpg' },
  { dir: 'img_align_celeba_png', ext: '.png' },
] as const;

export interface CelebADataset extends CelebALabels {
  root: string;
  imageDir: string;
  /** Absolute path of each image (the PNG release keeps the label files' .jpg names; mapped here). */
  paths: string[];
}

export interface ReadCelebAOptions {
  /** Image folder, relative to root or absolute; default: the first of IMAGE_DIRS that exists. */
  imageDir?: string;
  /**
   * Leave out label lines that do not parse and images without a split (recorded in `problems`),
   * and do not require every listed image to exist: the loader skips and counts unreadable images.
   */
  skipBadImages?: boolean;
}

function readText(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Read list_attr_celeba.txt, list_eval_partition.txt and locate the images under `root`. */
export function readCelebA(root: string, opts: ReadCelebAOptions = {}): CelebADataset {
  const lenient = opts.skipBadImages ?? false;
  let imageDir: string;
  let ext: string | null = null;
  if (opts.imageDir) {
    imageDir = isAbsolute(opts.imageDir) ? opts.imageDir : join(root, opts.imageDir);
    if (/_png\/?$/.test(opts.imageDir)) ext = '.png';
  } else {
    const found = IMAGE_DIRS.find((d) => existsSync(join(root, d.dir)));
    if (!found) throw new Error(`${root}: no image folder (looked for ${IMAGE_DIRS.map((d) => d.dir).join(', ')})`);
    imageDir = join(root, found.dir);
    ext = found.ext;
  }
  const attr = parseAttributeList(readText(join(root, ATTR_FILE), ATTR_FILE), { lenient });
  const part = parsePartitionList(readText(join(root, PARTITION_FILE), PARTITION_FILE), { lenient });
  const labels = joinLabels(attr, part, { lenient });
  const rename = (f: string): string => (ext ? f.replace(/\.[^.]+$/, ext) : f);
  const paths = labels.files.map((f) => join(imageDir, rename(f)));
  if (!lenient) {
    // One directory listing instead of 200k stat calls.
    const present = new Set(readdirSync(imageDir));
    labels.files.forEach((f, i) => {
      if (!present.has(rename(f))) {
        throw new CelebAFormatError(ATTR_FILE, labels.lines[i], `image ${rename(f)} is missing from ${imageDir}`);
      }
    });
  }
  return { ...labels, root, imageDir, paths };
}

/** Decode image `index` of the dataset. */
export function loadCelebAImage(ds: CelebADataset, index: number): RgbImage {
  return decodeImage(readFileSync(ds.paths[index]), ds.paths[index]);
}
