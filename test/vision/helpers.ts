// Shared by test/data/*.test.ts: fixture loading and tolerance checks.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { makeSyntheticCelebA } from '../../examples/celeba-train/celeba/index.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/data/', import.meta.url));

export interface FixtureTensor {
  shape: number[];
  data: Float32Array | Uint8Array;
}

/** Minimal safetensors reader (F32 and U8 only, which is all the fixture script writes). */
export function readSafetensors(path: string): Map<string, FixtureTensor> {
  const bytes = readFileSync(path);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string, { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out = new Map<string, FixtureTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const raw = bytes.subarray(base + t.data_offsets[0], base + t.data_offsets[1]);
    const copy = new Uint8Array(raw); // aligned copy
    const data = t.dtype === 'F32' ? new Float32Array(copy.buffer) : copy;
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

export function tensor(map: Map<string, FixtureTensor>, name: string): FixtureTensor {
  const t = map.get(name);
  if (!t) throw new Error(`fixture tensor ${name} missing`);
  return t;
}

/** |a - b| <= atol + rtol * |b| everywhere; reports the worst element. */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, label: string,
): number {
  assert.is(actual.length, expected.length, `${label}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(err <= worst)) { worst = err; at = i; }
  }
  if (at >= 0) {
    assert.unreachable(`${label}: element ${at} is ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`);
  }
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
  return maxAbs;
}


const temps: string[] = [];
process.on('exit', () => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `resnest-data-${tag}-`));
  temps.push(dir);
  return dir;
}

const sets = new Map<string, Promise<string>>();

/** A synthetic set made once per process; copy it (copySet) before damaging it. */
export function syntheticSet(count = 40, seed = 1): Promise<string> {
  const key = `${count}:${seed}`;
  if (!sets.has(key)) {
    const dir = tempDir(`set${count}`);
    sets.set(key, makeSyntheticCelebA({ dir, count, seed, workers: 0 }).then(() => dir));
  }
  return sets.get(key)!;
}

export async function copySet(tag: string, count = 40, seed = 1): Promise<string> {
  const dir = tempDir(tag);
  cpSync(await syntheticSet(count, seed), dir, { recursive: true });
  return dir;
}
