// The Kaggle copy of CelebA's label files: list_attr_celeba.csv (`image_id,<40 names>` then
// `000001.jpg,-1,1,...`) and list_eval_partition.csv (`image_id,partition` then `000001.jpg,0`).
// Parsed into the same tables as the official text files, with the same file:line errors.
import { CelebAFormatError, type AttributeList, type DataProblem, type PartitionList } from './celeba/index.ts';

export const KAGGLE_ATTR_FILE = 'list_attr_celeba.csv';
export const KAGGLE_PARTITION_FILE = 'list_eval_partition.csv';

function rows(text: string): string[][] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => (l.trim() === '' ? [] : l.split(',').map((c) => c.trim())));
}

function reporter(file: string, lenient: boolean, problems: DataProblem[]) {
  return (line: number, message: string): void => {
    if (!lenient) throw new CelebAFormatError(file, line, message);
    problems.push({ file, line, message });
  };
}

export function parseAttributeCsv(text: string, opts: { lenient?: boolean } = {}): AttributeList {
  const file = KAGGLE_ATTR_FILE, problems: DataProblem[] = [];
  const bad = reporter(file, opts.lenient ?? false, problems);
  const [header = [], ...body] = rows(text);
  if (header[0] !== 'image_id' || header.length < 2) throw new CelebAFormatError(file, 1, `expected the header "image_id,<attribute names>", found "${header.join(',').slice(0, 60)}"`);
  const attributes = header.slice(1), k = attributes.length;
  const files: string[] = [], lines: number[] = [], labels: number[] = [];
  const seen = new Set<string>(), rejected = new Set<string>();
  body.forEach((cells, i) => {
    if (cells.length === 0) return;
    const line = i + 2, name = cells[0];
    if (cells.length - 1 !== k) { rejected.add(name); return bad(line, `${name}: expected ${k} values, found ${cells.length - 1}`); }
    const badAt = cells.findIndex((c, j) => j > 0 && c !== '1' && c !== '-1');
    if (badAt > 0) { rejected.add(name); return bad(line, `${name}: value "${cells[badAt]}" for ${attributes[badAt - 1]} is not 1 or -1`); }
    if (seen.has(name)) return bad(line, `${name} is listed twice`);
    seen.add(name);
    files.push(name);
    lines.push(line);
    for (let j = 1; j <= k; j++) labels.push(cells[j] === '1' ? 1 : 0);
  });
  return { attributes, files, labels: Uint8Array.from(labels), lines: Int32Array.from(lines), problems, rejected };
}

export function parsePartitionCsv(text: string, opts: { lenient?: boolean } = {}): PartitionList {
  const file = KAGGLE_PARTITION_FILE, problems: DataProblem[] = [];
  const bad = reporter(file, opts.lenient ?? false, problems);
  const [header = [], ...body] = rows(text);
  if (header.join(',') !== 'image_id,partition') throw new CelebAFormatError(file, 1, `expected the header "image_id,partition", found "${header.join(',').slice(0, 60)}"`);
  const files: string[] = [], splits: number[] = [], lines: number[] = [];
  const seen = new Set<string>(), rejected = new Set<string>();
  body.forEach((cells, i) => {
    if (cells.length === 0) return;
    const line = i + 2;
    if (cells.length !== 2 || !/^[012]$/.test(cells[1])) rejected.add(cells[0]);
    if (cells.length !== 2) return bad(line, `expected "<file>,<0|1|2>", found ${cells.length} fields`);
    if (!/^[012]$/.test(cells[1])) return bad(line, `${cells[0]}: split "${cells[1]}" is not 0, 1 or 2`);
    if (seen.has(cells[0])) return bad(line, `${cells[0]} is listed twice`);
    seen.add(cells[0]);
    files.push(cells[0]);
    splits.push(Number(cells[1]));
    lines.push(line);
  });
  return { files, splits: Uint8Array.from(splits), lines: Int32Array.from(lines), problems, rejected };
}
