// CelebA's two label files as text: parsing with file:line errors, exact official formatting,
// joining them into one table (split selection and positive rates are the library's). Browser-safe.

export const CELEBA_ATTRIBUTES = [
  '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Attractive', 'Bags_Under_Eyes', 'Bald', 'Bangs', 'Big_Lips',
  'Big_Nose', 'Black_Hair', 'Blond_Hair', 'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby', 'Double_Chin',
  'Eyeglasses', 'Goatee', 'Gray_Hair', 'Heavy_Makeup', 'High_Cheekbones', 'Male', 'Mouth_Slightly_Open',
  'Mustache', 'Narrow_Eyes', 'No_Beard', 'Oval_Face', 'Pale_Skin', 'Pointy_Nose', 'Receding_Hairline',
  'Rosy_Cheeks', 'Sideburns', 'Smiling', 'Straight_Hair', 'Wavy_Hair', 'Wearing_Earrings', 'Wearing_Hat',
  'Wearing_Lipstick', 'Wearing_Necklace', 'Wearing_Necktie', 'Young',
] as const;

export type CelebAAttribute = (typeof CELEBA_ATTRIBUTES)[number];

/** Positive counts over all 202,599 images of the official release, in attribute order. */
export const CELEBA_POSITIVE_COUNTS: readonly number[] = [
  22516, 54090, 103833, 41446, 4547, 30709, 48785, 47516, 48472, 29983, 10312, 41572, 28803, 11663, 9459,
  13193, 12716, 8499, 78390, 92189, 84437, 97942, 8417, 23329, 169158, 57567, 8701, 56210, 16163, 13315,
  11449, 97669, 42222, 64744, 38276, 9818, 95715, 24913, 14732, 156734,
];
export const CELEBA_IMAGE_COUNT = 202599;
export const CELEBA_SPLIT_SIZES = { train: 162770, val: 19867, test: 19962 } as const;

export { SPLITS, splitIndices, positiveRates, type Split } from '../../../src/vision/index.ts';

export const ATTR_FILE = 'list_attr_celeba.txt';
export const PARTITION_FILE = 'list_eval_partition.txt';

export class CelebAFormatError extends Error {
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'CelebAFormatError';
  }
}

/** A problem found in lenient mode instead of being thrown. */
export interface DataProblem {
  file: string;
  line: number;
  message: string;
}

export interface ParseOptions {
  /** Collect bad lines as problems and leave them out instead of throwing. */
  lenient?: boolean;
  file?: string;
}

export interface AttributeList {
  attributes: string[];
  files: string[];
  /** files.length x attributes.length, 0/1 (the file's -1/1). */
  labels: Uint8Array;
  /** 1-based line of each entry, for error messages downstream. */
  lines: Int32Array;
  problems: DataProblem[];
  /** Names on lines left out in lenient mode (so the other file does not report them again). */
  rejected: Set<string>;
}

export interface PartitionList {
  files: string[];
  splits: Uint8Array;
  lines: Int32Array;
  problems: DataProblem[];
  rejected: Set<string>;
}

function reporter(file: string, lenient: boolean, problems: DataProblem[]) {
  return (line: number, message: string): void => {
    if (!lenient) throw new CelebAFormatError(file, line, message);
    problems.push({ file, line, message });
  };
}

const textLines = (text: string): string[] => text.split(/\r?\n/);

/** Parse list_attr_celeba.txt: count line, attribute names, then `<file>` and one 1/-1 per attribute. */
export function parseAttributeList(text: string, opts: ParseOptions = {}): AttributeList {
  const file = opts.file ?? ATTR_FILE;
  const problems: DataProblem[] = [];
  const bad = reporter(file, opts.lenient ?? false, problems);
  const lines = textLines(text);
  const countText = (lines[0] ?? '').trim();
  if (!/^\d+$/.test(countText)) throw new CelebAFormatError(file, 1, `expected the image count, found "${countText.slice(0, 40)}"`);
  const attributes = (lines[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (attributes.length === 0) throw new CelebAFormatError(file, 2, 'expected the attribute names');
  const k = attributes.length;
  const files: string[] = [];
  const lineNos: number[] = [];
  const labels: number[] = [];
  const seen = new Set<string>();
  const rejected = new Set<string>();
  let imageLines = 0;
  for (let i = 2; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    imageLines++;
    const lineNo = i + 1;
    const tokens = raw.split(/\s+/);
    const name = tokens[0];
    if (tokens.length - 1 !== k) {
      bad(lineNo, `${name}: expected ${k} values, found ${tokens.length - 1}`);
      rejected.add(name);
      continue;
    }
    const badValue = tokens.findIndex((t, j) => j > 0 && t !== '1' && t !== '-1');
    if (badValue > 0) {
      bad(lineNo, `${name}: value "${tokens[badValue]}" for ${attributes[badValue - 1]} is not 1 or -1`);
      rejected.add(name);
      continue;
    }
    if (seen.has(name)) {
      bad(lineNo, `${name} is listed twice`);
      continue;
    }
    seen.add(name);
    files.push(name);
    lineNos.push(lineNo);
    for (let j = 1; j <= k; j++) labels.push(tokens[j] === '1' ? 1 : 0);
  }
  const declared = Number(countText);
  if (declared !== imageLines) bad(1, `count line says ${declared} images but ${imageLines} image lines follow`);
  return { attributes, files, labels: Uint8Array.from(labels), lines: Int32Array.from(lineNos), problems, rejected };
}

/** Parse list_eval_partition.txt: `<file> <0|1|2>` per line, no header. */
export function parsePartitionList(text: string, opts: ParseOptions = {}): PartitionList {
  const file = opts.file ?? PARTITION_FILE;
  const problems: DataProblem[] = [];
  const bad = reporter(file, opts.lenient ?? false, problems);
  const files: string[] = [];
  const splits: number[] = [];
  const lineNos: number[] = [];
  const seen = new Set<string>();
  const rejected = new Set<string>();
  textLines(text).forEach((rawLine, i) => {
    const raw = rawLine.trim();
    if (raw === '') return;
    const tokens = raw.split(/\s+/);
    if (tokens.length !== 2 || !/^[012]$/.test(tokens[1])) rejected.add(tokens[0]);
    if (tokens.length !== 2) return bad(i + 1, `expected "<file> <0|1|2>", found ${tokens.length} fields`);
    if (!/^[012]$/.test(tokens[1])) return bad(i + 1, `${tokens[0]}: split "${tokens[1]}" is not 0, 1 or 2`);
    if (seen.has(tokens[0])) return bad(i + 1, `${tokens[0]} is listed twice`);
    seen.add(tokens[0]);
    files.push(tokens[0]);
    splits.push(Number(tokens[1]));
    lineNos.push(i + 1);
  });
  return { files, splits: Uint8Array.from(splits), lines: Int32Array.from(lineNos), problems, rejected };
}

export interface CelebALabels {
  attributes: string[];
  files: string[];
  labels: Uint8Array;
  /** 0 train, 1 val, 2 test. */
  splits: Uint8Array;
  /** Line of each image in list_attr_celeba.txt. */
  lines: Int32Array;
  problems: DataProblem[];
}

/** Match partition entries to attribute entries by file name; order follows the attribute file. */
export function joinLabels(attr: AttributeList, part: PartitionList,
  opts: { lenient?: boolean; attrFile?: string; partitionFile?: string } = {}): CelebALabels {
  const problems = [...attr.problems, ...part.problems];
  const lenient = opts.lenient ?? false;
  const attrFile = opts.attrFile ?? ATTR_FILE, partitionFile = opts.partitionFile ?? PARTITION_FILE; // as messages name them
  const index = new Map<string, number>();
  attr.files.forEach((f, i) => index.set(f, i));
  const split = new Int16Array(attr.files.length).fill(-1);
  part.files.forEach((f, i) => {
    const at = index.get(f);
    if (at === undefined) {
      if (attr.rejected.has(f)) return;
      reporter(partitionFile, lenient, problems)(part.lines[i], `unknown image ${f} (not in ${attrFile})`);
    } else split[at] = part.splits[i];
  });
  const keep: number[] = [];
  split.forEach((sp, i) => {
    if (sp >= 0) keep.push(i);
    else if (!part.rejected.has(attr.files[i])) reporter(attrFile, lenient, problems)(attr.lines[i], `${attr.files[i]} has no split in ${partitionFile}`);
  });
  const k = attr.attributes.length;
  const labels = new Uint8Array(keep.length * k);
  keep.forEach((src, dst) => labels.set(attr.labels.subarray(src * k, src * k + k), dst * k));
  return {
    attributes: attr.attributes,
    files: keep.map((i) => attr.files[i]),
    labels,
    splits: Uint8Array.from(keep, (i) => split[i]),
    lines: Int32Array.from(keep, (i) => attr.lines[i]),
    problems,
  };
}

export function parseCelebALabels(attrText: string, partitionText: string, opts: { lenient?: boolean } = {}): CelebALabels {
  return joinLabels(parseAttributeList(attrText, opts), parsePartitionList(partitionText, opts), opts);
}

/** list_attr_celeba.txt exactly as released: values right-aligned in 2-wide fields, one space apart. */
export function formatAttributeList(attributes: readonly string[], files: readonly string[], labels: Uint8Array): string {
  const k = attributes.length;
  const out: string[] = [String(files.length), attributes.join(' ') + ' '];
  files.forEach((f, i) => {
    let line = f;
    for (let j = 0; j < k; j++) line += labels[i * k + j] ? '  1' : ' -1';
    out.push(line);
  });
  return out.join('\n') + '\n';
}

export function formatPartitionList(files: readonly string[], splits: Uint8Array): string {
  return files.map((f, i) => `${f} ${splits[i]}`).join('\n') + '\n';
}
