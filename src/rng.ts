// The library's seeded generator: one implementation (xoshiro128**, keyed by seed and optional
// stream keys, src/vision/prng.ts) for weight initialisation, randn, shuffles and augmentation,
// so a seed gives the same numbers on every platform.
import { Rng } from './vision/prng.ts';

export { Rng };

let globalRng = new Rng(0);

/** Reseeds the generator that Tensor.randn and module initialisation use when given none. */
export function manualSeed(seed: number): void {
  globalRng = new Rng(seed);
}

export function defaultRng(): Rng {
  return globalRng;
}
