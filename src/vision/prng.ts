// Deterministic random numbers for augmentation, shuffling and synthetic data.
// xoshiro128** keyed by a hash of (seed, ...stream keys): every (seed, epoch, image) gets its own
// independent stream, so results never depend on which worker handled an image or in what order.

const TWO_POW_32 = 4294967296;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Hash any number of non-negative integer keys (each < 2^53) into one 32-bit value. */
export function hashKeys(...keys: number[]): number {
  let h = 0x243f6a88;
  for (const key of keys) {
    if (!Number.isSafeInteger(key) || key < 0) throw new RangeError(`rng key must be a non-negative safe integer, got ${key}`);
    const lo = key >>> 0;
    const hi = Math.floor(key / TWO_POW_32) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `new Rng(seed, epoch, index)` and `new Rng(seed, epoch, index + 1)` are unrelated streams. */
  constructor(seed: number, ...stream: number[]) {
    // splitmix32 expands the key hash into the 128-bit state (never all zero).
    let x = hashKeys(seed, ...stream);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [lo, hi) with 53 random bits. */
  uniform(lo = 0, hi = 1): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    const u = (a * 67108864 + b) / 9007199254740992;
    return lo + (hi - lo) * u;
  }

  /** Uniform integer in [lo, hi), like torch.randint(lo, hi); unbiased (rejection sampling). */
  randint(lo: number, hi: number): number {
    const n = hi - lo;
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`randint needs lo < hi, got [${lo}, ${hi})`);
    if (n > TWO_POW_32) return lo + Math.floor(this.uniform() * n);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return lo + (x % n);
  }

  /** Normal deviate (Box–Muller; the second value is discarded so the state stays four words). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.uniform(); // (0, 1] keeps log finite
    const u2 = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Random permutation of 0..n-1 (Fisher–Yates), like torch.randperm(n). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randint(0, i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }
}
