// A model's state made to look trained for the browser tests: batch-norm statistics and affine
// terms (and optionally the classifier bias) drawn away from their init values, so that a page
// that ignored or mangled any of them would give visibly different outputs.
import { Rng, type nn } from '../../src/index.ts';

export async function perturbedState(m: nn.ResNeSt, seed: number, classifierBias?: [number, number]): Promise<Map<string, nn.StateArray>> {
  const state = await m.stateArrays();
  const rng = new Rng(seed);
  const fill = (k: string, lo: number, hi: number) => {
    const a = state.get(k)!;
    state.set(k, { ...a, data: Float32Array.from(a.data as Float32Array, () => rng.uniform(lo, hi)) });
  };
  for (const k of [...state.keys()].filter((k) => k.endsWith('.running_mean'))) {
    const bn = k.slice(0, -'.running_mean'.length);
    fill(`${bn}.running_mean`, -0.2, 0.2); fill(`${bn}.running_var`, 0.5, 1.5);
    fill(`${bn}.weight`, 0.6, 1.4); fill(`${bn}.bias`, -0.2, 0.2);
  }
  if (classifierBias) fill('fc.bias', ...classifierBias);
  return state;
}
