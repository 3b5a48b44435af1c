// What the full-size ResNeSt-50 tests (resnest50_parity, resnest50_accuracy) share: reading a
// fixture written by scripts/fixtures/*.py, building the model its script built (weights from the
// counter hash, the rest from the file), and each parameter gradient's relative L2 error on the
// fixture's sample beside PyTorch float32's on its three CPU backends.
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import { resnest50, type ResNeSt, type StateArray } from '../../src/nn/index.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { hashUniform, sampleIndices } from './counter_hash.ts';

// torch: PyTorch float32's error on its default CPU backend; typical: the median over its three
// backends (default, mkldnn off, channels_last); envelope: the largest of the three.
export interface GradError { key: string; ours: number; torch: number; typical: number; envelope: number; normRatio: number }

export const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
export const describe = (e: GradError) =>
  `${e.key} ${e.ours.toExponential(2)} (PyTorch f32 ${e.torch.toExponential(2)}, its backends' median ${e.typical.toExponential(2)}, largest ${e.envelope.toExponential(2)})`;

export function openFixture(name: string) {
  const file = parseSafetensors(new Uint8Array(readFileSync(new URL(`../fixtures/model/${name}`, import.meta.url))), name);
  const meta = JSON.parse(file.metadata.fixture);
  const summary = JSON.parse(file.metadata.summary);
  const parameterKeys: string[] = JSON.parse(file.metadata.parameters);
  const get = (key: string): ArrayLike<number> => {
    const t = file.tensors.get(key);
    if (!t) throw new Error(`${name}: no tensor '${key}'`);
    return t.data as ArrayLike<number>;
  };

  /** The model, its weights (2-d and up) uniform in +-bound(key, fanIn) from the counter hash, the rest from the file. */
  function buildModel(bound: (key: string, fanIn: number) => number): ResNeSt {
    const model = resnest50({ numClasses: meta.num_classes });
    const state = new Map<string, StateArray>();
    [...model.stateDict()].forEach(([key, v], ordinal) => {
      if (v instanceof Tensor && v.shape.length >= 2) {
        const fanIn = v.shape.slice(1).reduce((a, b) => a * b, 1);
        state.set(key, { dtype: 'F32', shape: [...v.shape], data: hashUniform(ordinal, v.size, meta.weight_seed, bound(key, fanIn)) });
      } else {
        const t = file.tensors.get(key);
        if (!t) throw new Error(`${name}: no tensor '${key}'`);
        state.set(key, t as StateArray);
      }
    });
    model.loadStateDict(state, { source: name });
    return model;
  }

  /**
   * Relative L2 of each parameter gradient on the fixture's sample, beside PyTorch float32's; a
   * parameter without a gradient is left out, or refused where `everyGradient`.
   */
  async function gradientErrors(model: ResNeSt, mode: 'eval' | 'train', everyGradient: boolean): Promise<GradError[]> {
    const ordinals = new Map([...model.stateDict().keys()].map((k, i) => [k, i]));
    const norms = get(`${mode}.grad_norm`), backends = get(`${mode}.torch_f32_error_backends`);
    const torch = file.tensors.has(`${mode}.torch_f32_error`) ? get(`${mode}.torch_f32_error`) : null;
    const params = new Map(model.namedParameters());
    const out: GradError[] = [];
    for (const [i, key] of parameterKeys.entries()) {
      const p = params.get(key)!;
      if (!p.grad) {
        if (everyGradient) throw new Error(`${mode}: no gradient for ${key}`);
        continue;
      }
      const ref = get(`${mode}.grad.${key}`);
      const idx = sampleIndices(ordinals.get(key)!, p.size, meta.sample_seed, meta.sample, meta.sample_all);
      const g = await p.grad.toArray();
      let err = 0, den = 0, full = 0;
      for (let k = 0; k < idx.length; k++) { const d = g[idx[k]] - ref[k]; err += d * d; den += ref[k] * ref[k]; }
      for (let k = 0; k < g.length; k++) full += g[k] * g[k];
      const [b0, b1, b2] = [backends[3 * i], backends[3 * i + 1], backends[3 * i + 2]];
      out.push({ key, ours: Math.sqrt(err / den), torch: torch ? torch[i] : b0, typical: Math.max(Math.min(b0, b1), Math.min(Math.max(b0, b1), b2)),
        envelope: Math.max(b0, b1, b2), normRatio: Math.sqrt(full) / norms[i] });
    }
    return out;
  }

  return { name, file, meta, summary, parameterKeys, get, buildModel, gradientErrors };
}
