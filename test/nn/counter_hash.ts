// The counter-based hash that scripts/fixtures/resnest50_parity_fixtures.py uses for weights and
// gradient samples, bit for bit: lowbias32 of (element index XOR a per-tensor key), whose top 24
// bits give a uniform value in (-1, 1) that is exact in float64.

export function lowbias32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export const tensorKey = (ordinal: number, seed: number): number => lowbias32((Math.imul(ordinal, 0x9e3779b9) + seed) >>> 0);

/** uniform(-b, b) rounded to float32, element i from lowbias32(i ^ key). */
export function hashUniform(ordinal: number, numel: number, seed: number, bound = 1): Float32Array {
  const key = tensorKey(ordinal, seed);
  const out = new Float32Array(numel);
  for (let i = 0; i < numel; i++) out[i] = (((lowbias32(i ^ key) >>> 8) * 2 + 1) / 2 ** 24 - 1) * bound;
  return out;
}

/** All indices of a small tensor, else `sample` hashed indices modulo numel (repeats allowed). */
export function sampleIndices(ordinal: number, numel: number, seed: number, sample: number, sampleAll: number): Uint32Array {
  if (numel <= sampleAll) return Uint32Array.from({ length: numel }, (_, i) => i);
  const key = tensorKey(ordinal, seed);
  return Uint32Array.from({ length: sample }, (_, k) => lowbias32(k ^ key) % numel);
}
