// Finite-difference gradient checks (a test tool: the library does not ship it).
// - numericGradCpu: f64 central differences of a CPU function (eps 1e-6), to check the f64
//   reference backward of each kernel family.
// - gradcheck: a differentiable GPU function against central differences of itself, on a
//   sample of coordinates. The GPU computes in f32, so eps is larger (default 1e-2) and the
//   tolerances are looser; with smooth functions the truncation error is O(eps^2).
import { Tensor } from '../src/tensor.ts';
import { Rng } from '../src/rng.ts';
import { noGrad, clearTape } from '../src/autograd/tape.ts';
import { tidy } from '../src/autograd/scope.ts';
import { mul } from '../src/ops/elementwise.ts';
import { sum } from '../src/ops/reduce.ts';

/** d(sum(w * f(x)))/dx_i by central differences, for each input, in f64. */
export function numericGradCpu(f: (inputs: Float64Array[]) => ArrayLike<number>, inputs: Float64Array[],
  weights: ArrayLike<number>, eps = 1e-6): Float64Array[] {
  const objective = () => {
    const out = f(inputs);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * weights[i];
    return s;
  };
  return inputs.map((x) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + eps; const plus = objective();
      x[i] = keep - eps; const minus = objective();
      x[i] = keep;
      g[i] = (plus - minus) / (2 * eps);
    }
    return g;
  });
}

export interface GradcheckOptions { eps?: number; atol?: number; rtol?: number; samples?: number; seed?: number }
export interface GradcheckReport { ok: boolean; maxAbsErr: number; checked: number; failures: string[] }

/**
 * Compares the tape's gradient of sum(w * fn(inputs)) with central differences of the same
 * GPU function at `samples` random coordinates of each input that requires grad.
 */
export async function gradcheck(fn: (inputs: Tensor[]) => Tensor, data: Float32Array[], shapes: number[][],
  opts: GradcheckOptions = {}): Promise<GradcheckReport> {
  const { eps = 1e-2, atol = 1e-2, rtol = 1e-2, samples = 12, seed = 1 } = opts;
  const rng = new Rng(seed);
  const inputs = data.map((d, i) => Tensor.fromArray(d, shapes[i], { requiresGrad: true }));
  const probe = noGrad(() => fn(inputs));
  const w = Float32Array.from({ length: probe.size }, () => rng.uniform(-1, 1));
  const weights = Tensor.fromArray(w, probe.shape);
  probe.dispose();
  const loss = tidy(() => sum(mul(fn(inputs), weights)));
  loss.backward();
  loss.dispose();
  const analytic = await Promise.all(inputs.map((t) => t.grad ? t.grad.toArray() : Promise.resolve(new Float32Array(t.size))));
  const evalAt = async (k: number, i: number, value: number) => {
    const saved = data[k][i];
    data[k][i] = value;
    const perturbed = Tensor.fromArray(data[k], shapes[k]);
    data[k][i] = saved;
    const args = inputs.map((t, j) => (j === k ? perturbed : t));
    const out = noGrad(() => tidy(() => sum(mul(fn(args), weights))));
    const v = await out.item();
    out.dispose(); perturbed.dispose();
    return v;
  };
  const report: GradcheckReport = { ok: true, maxAbsErr: 0, checked: 0, failures: [] };
  for (let k = 0; k < data.length; k++) {
    const count = Math.min(samples, data[k].length);
    for (let s = 0; s < count; s++) {
      const i = count === data[k].length ? s : rng.randint(0, data[k].length);
      const x = data[k][i];
      const numeric = ((await evalAt(k, i, x + eps)) - (await evalAt(k, i, x - eps))) / (2 * eps);
      const err = Math.abs(numeric - analytic[k][i]);
      report.maxAbsErr = Math.max(report.maxAbsErr, err);
      report.checked++;
      if (err > atol + rtol * Math.abs(numeric)) {
        report.ok = false;
        if (report.failures.length < 5) report.failures.push(`input ${k}[${i}]: analytic ${analytic[k][i]}, numeric ${numeric}`);
      }
    }
  }
  clearTape();
  for (const t of inputs) { t.grad?.dispose(); t.dispose(); }
  weights.dispose();
  return report;
}
