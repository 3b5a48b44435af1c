// Where a CelebA copy keeps its label files and images. Three layouts are in circulation:
//   official     DIR/list_attr_celeba.txt, DIR/list_eval_partition.txt, DIR/img_align_celeba/*.jpg
//                (or DIR/img_align_celeba_png/*.png, the PNG release with the same .jpg names in the lists)
//   torchvision  the official layout under DIR/celeba/ (torchvision.datasets.CelebA(root=DIR))
//   kaggle       DIR/list_attr_celeba.csv, DIR/list_eval_partition.csv,
//                DIR/img_align_celeba/img_align_celeba/*.jpg (the zip unpacks into a folder of its own name)
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export type LayoutKind = 'official' | 'torchvision' | 'kaggle';

export interface DatasetLayout {
  kind: LayoutKind;
  attrFile: string;
  partitionFile: string;
  format: 'txt' | 'csv';
  imageDir: string;
  /** Extension the images have on disk when it differs from the names in the lists (the PNG release). */
  imageExt: '.png' | null;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

interface Candidate { kind: LayoutKind; labels: string; format: 'txt' | 'csv'; images: { dir: string; ext: '.png' | null }[] }

function candidates(data: string): Candidate[] {
  const official = (kind: LayoutKind, dir: string): Candidate => ({
    kind, labels: dir, format: 'txt',
    images: [{ dir: join(dir, 'img_align_celeba'), ext: null }, { dir: join(dir, 'img_align_celeba_png'), ext: '.png' }],
  });
  return [
    official('official', data),
    official('torchvision', join(data, 'celeba')),
    { kind: 'kaggle', labels: data, format: 'csv', images: [
      { dir: join(data, 'img_align_celeba', 'img_align_celeba'), ext: null }, { dir: join(data, 'img_align_celeba'), ext: null }] },
  ];
}

const labelFiles = (c: Candidate) => [join(c.labels, `list_attr_celeba.${c.format}`), join(c.labels, `list_eval_partition.${c.format}`)];

/**
 * The layout of the CelebA copy at `data`. `imageDir` (relative to `data`, or absolute) overrides
 * the image folder. Throws naming what was looked for when no layout matches.
 */
export function detectLayout(data: string, imageDir: string | null = null): DatasetLayout {
  if (!isDir(data)) throw new Error(`--data ${data}: ${existsSync(data) ? 'not a directory' : 'no such directory'}`);
  const overridden = imageDir === null ? null : isAbsolute(imageDir) ? imageDir : join(data, imageDir);
  if (overridden !== null && !isDir(overridden)) throw new Error(`--image-dir ${imageDir}: no such directory (${overridden})`);
  for (const c of candidates(data)) {
    const [attrFile, partitionFile] = labelFiles(c);
    if (!existsSync(attrFile) && !existsSync(partitionFile)) continue;
    for (const f of [attrFile, partitionFile]) {
      if (!existsSync(f)) throw new Error(`--data ${data}: found the ${c.kind} layout's ${[attrFile, partitionFile].find(existsSync)} but not ${f}`);
    }
    const images = overridden !== null ? { dir: overridden, ext: /_png\/?$/.test(overridden) ? '.png' as const : null } : c.images.find((i) => isDir(i.dir));
    if (!images) {
      throw new Error(`--data ${data}: label files of the ${c.kind} layout found, but no image folder ` +
        `(looked for ${c.images.map((i) => i.dir).join(', ')}); name it with --image-dir DIR`);
    }
    return { kind: c.kind, attrFile, partitionFile, format: c.format, imageDir: images.dir, imageExt: images.ext };
  }
  throw new Error(`--data ${data}: not a CelebA folder; looked for ` +
    candidates(data).map((c) => `${c.kind} (${labelFiles(c).join(', ')})`).join('; '));
}
