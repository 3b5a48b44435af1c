// A PyTorch state_dict file (.pth / .pt, as torch.save writes it) read without PyTorch.
// Browser-safe. Both container formats; the result has the shape of a parsed safetensors file,
// so it goes straight to Module.loadStateDict.
import { describe } from './pickle.ts';
import type { SafetensorsFile, SafetensorsTensor } from './safetensors.ts';
import { isTensor, materialize } from './torch_pickle.ts';
import { isLegacyTorch, loadLegacyPickle } from './torch_legacy.ts';
import { isZip, loadZipPickle, TorchFileError } from './torch_zip.ts';

export { TorchFileError } from './torch_zip.ts';
export { PickleError } from './pickle.ts';

export interface TorchStateDict extends SafetensorsFile {
  format: 'zip' | 'legacy';
  /** What was adjusted on the way: an unwrapped 'state_dict'/'model' entry, a stripped 'module.' prefix. */
  notes: string[];
}

/** True when `bytes` start like a torch.save file of either format. */
export const isTorchFile = (bytes: Uint8Array): boolean => isZip(bytes) || isLegacyTorch(bytes);

/**
 * Reads the state_dict saved in `bytes`. Accepts a plain state_dict, or one nested under
 * 'state_dict' or 'model' (a training checkpoint), and strips the 'module.' prefix that
 * DataParallel adds; both are reported in `notes`. Tensors come back contiguous, in the dtype
 * the file stores (floats as Float32Array, as parseSafetensors does).
 */
export function parseTorchStateDict(input: Uint8Array, source = '<bytes>'): TorchStateDict {
  const bytes: Uint8Array<ArrayBuffer> = input.buffer instanceof ArrayBuffer ? (input as Uint8Array<ArrayBuffer>) : input.slice();
  const fail = (detail: string): never => { throw new TorchFileError(source, detail); };
  let format: TorchStateDict['format'];
  if (isZip(bytes)) format = 'zip';
  else if (isLegacyTorch(bytes)) format = 'legacy';
  else return fail(`${bytes.byteLength} bytes that are neither a torch.save zip nor a legacy torch.save file`);
  let saved = format === 'zip' ? loadZipPickle(bytes, source) : loadLegacyPickle(bytes, source);

  const notes: string[] = [];
  for (const wrapper of ['state_dict', 'model']) {
    if (saved instanceof Map && !allTensors(saved) && saved.get(wrapper) instanceof Map) {
      notes.push(`using the state_dict under the '${wrapper}' key (the other top-level entries are ignored)`);
      saved = saved.get(wrapper);
    }
  }
  if (!(saved instanceof Map)) fail(`holds a ${describe(saved)}, not a state_dict (a dict of tensors)`);
  const entries = [...(saved as Map<unknown, unknown>)];
  for (const [key, value] of entries) {
    if (typeof key !== 'string') fail(`state_dict key ${String(key)} is a ${describe(key)}, not a string`);
    if (!isTensor(value)) fail(`state_dict entry "${key as string}" is a ${describe(value)}, not a tensor`);
  }
  const prefix = 'module.';
  const strip = entries.length > 0 && entries.every(([k]) => (k as string).startsWith(prefix));
  if (strip) notes.push(`stripped the '${prefix}' prefix (a DataParallel model) from ${entries.length} keys`);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const [key, value] of entries) {
    const name = strip ? (key as string).slice(prefix.length) : (key as string);
    try {
      tensors.set(name, materialize(value as Parameters<typeof materialize>[0], key as string));
    } catch (e) {
      fail((e as Error).message);
    }
  }
  return { tensors, metadata: {}, format, notes };
}

function allTensors(d: Map<unknown, unknown>): boolean {
  for (const v of d.values()) if (!isTensor(v)) return false;
  return true;
}
