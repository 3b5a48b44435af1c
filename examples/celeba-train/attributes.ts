// The attribute names of a label file against CelebA's official 40 (spelling and order), and
// whether a dataset is the official CelebA (the names and the published split sizes): only
// then may a report compare its figures with the published ones.
import { CELEBA_ATTRIBUTES, CELEBA_SPLIT_SIZES, SPLITS, type CelebALabels } from './celeba/index.ts';

const OFFICIAL: readonly string[] = CELEBA_ATTRIBUTES;
const folded = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Every difference between `names` and the official list, one sentence each (empty when they agree). */
export function attributeNameProblems(names: readonly string[]): string[] {
  const problems: string[] = [];
  const accounted = new Set<string>(); // official names a spelling note already points at
  if (names.length !== OFFICIAL.length) problems.push(`${names.length} attribute names, CelebA has ${OFFICIAL.length}`);
  names.forEach((name, j) => {
    if (name === OFFICIAL[j]) return;
    const at = OFFICIAL.indexOf(name);
    if (at >= 0) { problems.push(`column ${j + 1} is ${name}, which CelebA has in column ${at + 1} (order)`); return; }
    const near = OFFICIAL.find((o) => folded(o) === folded(name)) ?? (j < OFFICIAL.length && !names.includes(OFFICIAL[j]) ? OFFICIAL[j] : null);
    if (near) accounted.add(near);
    problems.push(near ? `column ${j + 1} is "${name}", expected "${near}" (spelling)` : `column ${j + 1} is "${name}", which is not a CelebA attribute`);
  });
  const given = new Set(names.map(folded));
  for (const o of OFFICIAL) if (!given.has(folded(o)) && !accounted.has(o)) problems.push(`${o} is missing`);
  return problems;
}

/** Throws naming the label file and every difference; the model's 40 outputs are tied to this order. */
export function checkAttributeNames(names: readonly string[], file: string): void {
  const problems = attributeNameProblems(names);
  if (problems.length === 0) return;
  throw new Error(`${file}: the attribute names are not CelebA's 40 in file order: ${problems.join('; ')}`);
}

export type SplitSizes = Record<(typeof SPLITS)[number], number>;

export function splitSizes(labels: Pick<CelebALabels, 'splits'>): SplitSizes {
  const sizes: SplitSizes = { train: 0, val: 0, test: 0 };
  for (const s of labels.splits) if (s < SPLITS.length) sizes[SPLITS[s]]++;
  return sizes;
}

/** Why a dataset is not the official CelebA, or null when it is (names and split sizes 162,770 / 19,867 / 19,962). */
export function notOfficialReason(attributes: readonly string[], sizes: SplitSizes): string | null {
  if (attributeNameProblems(attributes).length > 0) return 'its attribute names are not CelebA\'s 40';
  const differ = SPLITS.filter((s) => sizes[s] !== CELEBA_SPLIT_SIZES[s]);
  if (differ.length === 0) return null;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return `its split sizes (${SPLITS.map((s) => `${s} ${fmt(sizes[s])}`).join(', ')}) are not CelebA's (${SPLITS.map((s) => `${s} ${fmt(CELEBA_SPLIT_SIZES[s])}`).join(', ')})`;
}
