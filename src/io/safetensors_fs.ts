// Node-only file helpers for safetensors. Browser code should fetch the bytes and call
// parseSafetensors from ./safetensors.ts directly.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseSafetensors, serializeSafetensors, type SafetensorsFile, type TensorToWrite } from './safetensors.ts';

/** Reads and validates a safetensors file (or parses bytes already in memory). */
export async function loadSafetensors(pathOrBytes: string | URL | Uint8Array): Promise<SafetensorsFile> {
  if (pathOrBytes instanceof Uint8Array) return parseSafetensors(pathOrBytes);
  const file = await readFile(pathOrBytes);
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : pathOrBytes.pathname;
  return parseSafetensors(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), source);
}

/**
 * Writes atomically: a reader (or a crash) sees either the old file or the complete new one,
 * never a partial write. The temp file lives in the target directory so rename stays on one
 * filesystem.
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable; not every platform lets a directory be opened, hence best effort. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch {
    // Windows and some filesystems refuse; the data itself is already fsynced.
  }
}
