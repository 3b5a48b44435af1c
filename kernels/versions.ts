// The version contract every kernel family with several versions follows. A family is a table
// of named versions, each saying which shapes it can run on which adapter, plus one default
// rule; setKernelVersion / WG_KERNEL_VERSION, autotune (kernels/autotune.ts), the tests (every
// version of every family against the f64 reference) and `npm run bench` (every version, and a
// --version filter) all go through the table.
//
// A version may have tuning parameters (thread counts, tile sizes): each lists its candidate
// values, the first being the default. A choice is a version with values for its parameters,
// written `v2` (the defaults) or `v2(reductionThreads=32768)`; autotune measures the choices,
// and a forced choice names one.
import { gpu, type AdapterDescription } from '../src/gpu/index.ts';
import { forcedVersion, selectVersion, type TuneJob } from './autotune.ts';

export interface KernelVersion<S> {
  about: string;
  /**
   * false where the version cannot run the shape on this adapter (it is then neither chosen, tuned
   * nor forced); `op` is the pass (one of the family's ops), for families whose passes differ.
   */
  supports(shape: S, adapter: AdapterDescription, op: string): boolean;
  /**
   * What the version needs of the adapter whatever the shape (a feature, a subgroup size), false
   * where this adapter lacks it; `supports` answers false there too. Tests tell by it a version
   * this adapter cannot run at all from one that runs none of their shapes. Absent: any adapter.
   */
  needs?(adapter: AdapterDescription): boolean;
  /** Tuning parameters and their candidate values, the first the default. */
  params?: Readonly<Record<string, readonly number[]>>;
  /**
   * Where false, the version runs the shape only when requested or forced: it is neither the
   * default nor among autotune's candidates (say, a GPU-shaped version on a CPU adapter, still
   * forced there by its tests). Absent: always.
   */
  automatic?(shape: S, adapter: AdapterDescription): boolean;
}

export interface KernelFamily<S> {
  /** Family name, the prefix of its ops for setKernelVersion ('conv2d' forces every op, 'conv2d_fwd' one). */
  name: string;
  /** The passes that choose a version separately. */
  ops: readonly string[];
  versions: Readonly<Record<string, KernelVersion<S>>>;
  /** The choice a shape runs with before (or without) measurement; one of `usable`. */
  defaultChoice(op: string, shape: S, adapter: AdapterDescription, usable: readonly string[]): string;
  /** A short key of the shape for the autotune store and labels. */
  shapeKey(shape: S): string;
  /** Where present, the choice among usable ones is measured once per adapter and shape. */
  tune?: { revision: string; job(op: string, shape: S): TuneJob };
}

export interface Choice { id: string; version: string; params: Record<string, number> }

/** The `subgroups` feature, which the subgroup versions of several families need. */
export const adapterHasSubgroups = (adapter: AdapterDescription): boolean => adapter.features.has('subgroups');

/**
 * Whether `version` runs pass `op` on `shape` on `adapter`: the adapter has what the version
 * needs and the version supports the shape there. The one check for benches and tests that pick
 * versions themselves, instead of asking `supports` alone.
 */
export function runs<S>(version: KernelVersion<S>, shape: S, adapter: AdapterDescription, op: string): boolean {
  return (version.needs?.(adapter) ?? true) && version.supports(shape, adapter, op);
}

/** Whether this device's adapter has what `version` needs, whatever the shape. */
export function adapterHas<S>(fam: KernelFamily<S>, version: string): boolean {
  return fam.versions[version].needs?.(gpu().adapter) ?? true;
}

const CHOICE = /^(\w+)(?:\((\w+=[-\d.]+(?:,\w+=[-\d.]+)*)\))?$/;

/** The id of a version with parameter values (defaults omitted). */
export function choiceId(fam: KernelFamily<never>, version: string, params: Record<string, number> = {}): string {
  const defaults = fam.versions[version]?.params ?? {};
  const set = Object.keys(defaults).filter((k) => params[k] !== undefined && params[k] !== defaults[k][0]);
  return set.length ? `${version}(${set.map((k) => `${k}=${params[k]}`).join(',')})` : version;
}

/** Parses a choice id; throws, naming the family, for an unknown version or parameter value. */
export function parseChoice<S>(fam: KernelFamily<S>, id: string, what = fam.name): Choice {
  // a choice is parsed on every kernel call: parsed ids are kept per family table
  let parsed = parsedChoices.get(fam);
  if (!parsed) parsedChoices.set(fam, parsed = new Map());
  let c = parsed.get(id);
  if (!c) parsed.set(id, c = Object.freeze(parseChoiceText(fam, id, what)));
  return c;
}
const parsedChoices = new WeakMap<object, Map<string, Choice>>();

function parseChoiceText<S>(fam: KernelFamily<S>, id: string, what: string): Choice {
  const m = CHOICE.exec(id.trim());
  const have = Object.keys(fam.versions).join(', ');
  if (!m || !(m[1] in fam.versions)) throw new Error(`${what}: no version ${id} (have ${have})`);
  const version = m[1], spec = fam.versions[version].params ?? {};
  const params: Record<string, number> = {};
  for (const [k, values] of Object.entries(spec)) params[k] = values[0];
  for (const item of m[2]?.split(',') ?? []) {
    const [k, raw] = item.split('=');
    const value = Number(raw);
    if (!(k in spec)) throw new Error(`${what}: version ${version} has no parameter ${k} (has ${Object.keys(spec).join(', ') || 'none'})`);
    if (!spec[k].includes(value)) throw new Error(`${what}: ${version} parameter ${k} must be one of ${spec[k].join(', ')}, got ${raw}`);
    params[k] = value;
  }
  return { id: choiceId(fam as KernelFamily<never>, version, params), version, params: Object.freeze(params) };
}

/** Every choice of every version (parameter values crossed), defaults first. */
export function allChoices<S>(fam: KernelFamily<S>): string[] {
  let out = choiceLists.get(fam);
  if (!out) choiceLists.set(fam, out = listChoices(fam));
  return [...out];
}
const choiceLists = new WeakMap<object, string[]>();

function listChoices<S>(fam: KernelFamily<S>): string[] {
  const out: string[] = [];
  for (const [version, v] of Object.entries(fam.versions)) {
    let combos: Record<string, number>[] = [{}];
    for (const [k, values] of Object.entries(v.params ?? {})) combos = combos.flatMap((c) => values.map((x) => ({ ...c, [k]: x })));
    for (const c of combos) out.push(choiceId(fam as KernelFamily<never>, version, c));
  }
  return out;
}

/** The choices that can run pass `op` (by default the family's first) on `shape` on this device's adapter. */
export function usableChoices<S>(fam: KernelFamily<S>, shape: S, op = fam.ops[0]): string[] {
  const adapter = gpu().adapter;
  return allChoices(fam).filter((id) => runs(fam.versions[parseChoice(fam, id).version], shape, adapter, op));
}

/**
 * The choice `op` runs with on `shape`: `requested` (which must run it), else one forced by
 * setKernelVersion / WG_KERNEL_VERSION where it can run the shape, else the measured choice
 * among the automatic ones, else the family's default rule.
 */
export function chooseVersion<S>(fam: KernelFamily<S>, op: string, shape: S, requested?: string): Choice {
  const opName = `${fam.name}_${op}`;
  const adapter = gpu().adapter;
  if (requested !== undefined) {
    const c = parseChoice(fam, requested, opName);
    if (!runs(fam.versions[c.version], shape, adapter, op)) throw new Error(`${opName} ${fam.shapeKey(shape)}: version ${c.version} cannot run this shape`);
    return c;
  }
  const forced = forcedVersion(opName);
  if (forced !== undefined) {
    const c = parseChoice(fam, forced, `${opName} (forced by setKernelVersion or WG_KERNEL_VERSION)`);
    if (runs(fam.versions[c.version], shape, adapter, op)) return c;
  }
  const usable = usableChoices(fam, shape, op).filter((id) => fam.versions[parseChoice(fam, id).version].automatic?.(shape, adapter) ?? true);
  if (usable.length === 0) throw new Error(`${opName} ${fam.shapeKey(shape)}: no version of ${fam.name} runs this shape by default`);
  const fallback = fam.defaultChoice(op, shape, adapter, usable);
  if (!fam.tune || usable.length === 1) return parseChoice(fam, fallback);
  const tune = fam.tune;
  // forcing was settled above, so selectVersion answers with the measured choice or the fallback
  const id = forced === undefined
    ? selectVersion({ op: opName, revision: tune.revision, versions: usable, fallback }, fam.shapeKey(shape), () => tune.job(op, shape))
    : fallback;
  return parseChoice(fam, id);
}
