// Node-only: reading weights from disk, as a PyTorch .pth/.pt file or as safetensors. Browser
// code fetches the bytes and calls parseTorchStateDict / parseSafetensors directly.
import { readFile } from 'node:fs/promises';
import { parseSafetensors, type SafetensorsFile } from './safetensors.ts';
import { isTorchFile, parseTorchStateDict, type TorchStateDict } from './torch_state_dict.ts';

async function readSource(pathOrBytes: string | URL | Uint8Array): Promise<[Uint8Array, string]> {
  if (pathOrBytes instanceof Uint8Array) return [pathOrBytes, '<bytes>'];
  const file = await readFile(pathOrBytes);
  return [new Uint8Array(file.buffer, file.byteOffset, file.byteLength), typeof pathOrBytes === 'string' ? pathOrBytes : pathOrBytes.pathname];
}

/** Reads a state_dict saved by torch.save (e.g. the official resnest50-528c19ca.pth, as downloaded). */
export async function loadTorchStateDict(pathOrBytes: string | URL | Uint8Array): Promise<TorchStateDict> {
  const [bytes, source] = await readSource(pathOrBytes);
  return parseTorchStateDict(bytes, source);
}

/**
 * Reads weights in either format, told apart by their first bytes (a torch.save zip or legacy
 * pickle, else safetensors). `notes` says what was adjusted (see parseTorchStateDict).
 */
export async function loadWeights(pathOrBytes: string | URL | Uint8Array): Promise<SafetensorsFile & { notes: string[] }> {
  const [bytes, source] = await readSource(pathOrBytes);
  if (isTorchFile(bytes)) return parseTorchStateDict(bytes, source);
  return { ...parseSafetensors(bytes, source), notes: [] };
}
