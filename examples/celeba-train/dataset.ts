// Reads a CelebA copy in any of the layouts of layout.ts into the loader's table, checking up
// front what can be checked without decoding: the label files, the 40 attribute names, and that
// every listed image exists (one directory listing). Decoding every image is `celeba-train check`.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { joinLabels, parseAttributeList, parsePartitionList, type CelebADataset } from './celeba/index.ts';
import { detectLayout, type DatasetLayout } from './layout.ts';
import { parseAttributeCsv, parsePartitionCsv } from './csv_labels.ts';
import { checkAttributeNames, splitSizes, type SplitSizes } from './attributes.ts';

export interface TrainingData extends CelebADataset {
  layout: DatasetLayout;
  /** Split sizes as the files define them, before --limit-train / --limit-val. */
  fullSizes: SplitSizes;
}

/** A file-system error in words (no bare ENOENT). */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a parent is not a directory';
    default: return e.code ? `${e.code}: ${e.message}` : e.message;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read (${fsReason(err)})`);
  }
}

export interface ReadOptions {
  imageDir?: string | null;
  /** Leave out bad label lines and do not require every image to exist (recorded in `problems`; the loader skips unreadable images). */
  lenient?: boolean;
  /** check collects name problems itself instead of stopping at them. */
  skipNameCheck?: boolean;
}

export function readDataset(data: string, opts: ReadOptions = {}): TrainingData {
  const layout = detectLayout(data, opts.imageDir ?? null);
  const lenient = opts.lenient ?? false;
  const attrText = readText(layout.attrFile), partText = readText(layout.partitionFile);
  const [attr, part] = layout.format === 'csv'
    ? [parseAttributeCsv(attrText, { lenient }), parsePartitionCsv(partText, { lenient })]
    : [parseAttributeList(attrText, { lenient }), parsePartitionList(partText, { lenient })];
  if (!opts.skipNameCheck) checkAttributeNames(attr.attributes, `${layout.attrFile}:${layout.format === 'csv' ? 1 : 2}`);
  const labels = joinLabels(attr, part, { lenient, attrFile: basename(layout.attrFile), partitionFile: basename(layout.partitionFile) });
  const onDisk = (f: string) => (layout.imageExt ? f.replace(/\.[^.]+$/, layout.imageExt) : f);
  const paths = labels.files.map((f) => join(layout.imageDir, onDisk(f)));
  if (!lenient) {
    let listing: string[];
    try { listing = readdirSync(layout.imageDir); } catch (err) { throw new Error(`${layout.imageDir}: cannot list images (${fsReason(err)})`); }
    const present = new Set(listing);
    const missing = labels.files.map((f, i) => [onDisk(f), labels.lines[i]] as const).filter(([f]) => !present.has(f));
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).map(([f, line]) => `${f} (${basename(layout.attrFile)}:${line})`).join(', ');
      throw new Error(`${missing.length} listed image${missing.length > 1 ? 's are' : ' is'} missing from ${layout.imageDir}: ${shown}` +
        `${missing.length > 5 ? ', ...' : ''}; 'celeba-train check --data ${data}' lists every problem, --skip-bad-images trains without them`);
    }
  }
  return { ...labels, root: data, imageDir: layout.imageDir, paths, layout, fullSizes: splitSizes(labels) };
}
