// A fine-tuned model as a trainer checkpoint: the classifier's rows with the new heads' rows
// appended (fc.weight [40 + k, C]), the `run` metadata of the checkpoint it started from with
// `attributes` naming every output in order and `fineTuned` recording each run. Node's
// `celeba-train predict` and the demo page read it like any trainer checkpoint; this file
// writes bytes (no filesystem), so it runs in the browser as well.
import { nn, serializeSafetensors, type AttributeFineTuner, type TensorToWrite } from '../../src/browser.ts';
import { CELEBA_ATTRIBUTES } from './celeba/labels.ts';

/** What a checkpoint records of one fine-tuning run. */
export interface FineTuneRecord {
  attribute: string; steps: number; seed: number; lastStage: boolean; lr: number; batch: number; imageSize: number;
  positives: number; negatives: number; losses: number[];
}

/** The `run` metadata fields this file reads and writes; the rest of a trainer's run is kept as it was. */
export interface FineTunedRun {
  format?: string;
  options?: { arch?: string; imageSize?: number; seed?: number };
  attributes?: string[];
  fineTuned?: FineTuneRecord[];
  [other: string]: unknown;
}

/**
 * Names of a checkpoint's outputs: the run's `attributes` when present (one per classifier row),
 * else the 40 CelebA attributes for a 40-row classifier; anything else is refused, naming the file.
 */
export function outputNames(run: { attributes?: unknown } | null | undefined, rows: number, source: string): string[] {
  const names = run?.attributes;
  if (names !== undefined) {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || !n)) throw new Error(`${source}: "attributes" in the run metadata must be a list of names`);
    if (names.length !== rows) throw new Error(`${source}: the run metadata names ${names.length} attributes but the classifier has ${rows} outputs`);
    return [...names] as string[];
  }
  if (rows !== CELEBA_ATTRIBUTES.length) {
    throw new Error(`${source}: the classifier has ${rows} outputs and the run metadata names none; a checkpoint without ` +
      `"attributes" must have the ${CELEBA_ATTRIBUTES.length} CelebA attributes`);
  }
  return [...CELEBA_ATTRIBUTES];
}

export interface BaseCheckpoint {
  /** The `run` metadata of the checkpoint the model came from (null for a plain state_dict). */
  run: FineTunedRun | null;
  arch: string;
  imageSize: number;
  /** Names of the model's own outputs. */
  attributes: readonly string[];
}

/** The fine-tuned model (the tuner's model with its new head appended to fc) as safetensors bytes. */
export async function fineTunedCheckpoint(tuner: AttributeFineTuner, base: BaseCheckpoint): Promise<Uint8Array> {
  const { model, head, options } = tuner;
  if (base.attributes.length !== model.fc.outFeatures) {
    throw new Error(`fine-tuned checkpoint: ${base.attributes.length} names for a classifier of ${model.fc.outFeatures} outputs`);
  }
  if (base.attributes.includes(tuner.attribute)) throw new Error(`fine-tuned checkpoint: the model already has an output named "${tuner.attribute}"`);
  const tensors = new Map<string, TensorToWrite>();
  for (const [k, v] of await model.stateArrays()) if (!k.startsWith('fc.')) tensors.set(`model.${k}`, v as TensorToWrite);
  const fc = await nn.concatLinear([model.fc, head]);
  try {
    for (const [k, v] of await fc.stateArrays()) tensors.set(`model.fc.${k}`, v as TensorToWrite);
  } finally {
    fc.dispose();
  }
  const record: FineTuneRecord = {
    attribute: tuner.attribute, steps: tuner.steps, seed: options.seed, lastStage: options.lastStage, lr: options.lr,
    batch: options.batch, imageSize: options.imageSize, positives: tuner.positiveCount, negatives: tuner.negativeCount,
    losses: [...tuner.losses],
  };
  const run: FineTunedRun = {
    completedEpochs: 0, ...base.run, format: 'celeba-train/1',
    options: { ...base.run?.options, arch: base.arch, imageSize: base.imageSize, seed: base.run?.options?.seed ?? 0 },
    attributes: [...base.attributes, tuner.attribute],
    fineTuned: [...(base.run?.fineTuned ?? []), record],
  };
  return serializeSafetensors(tensors, { run: JSON.stringify(run) });
}
