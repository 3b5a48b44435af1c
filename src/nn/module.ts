// Module: named parameters, buffers and children, train/eval, and a state_dict whose keys and
// shapes are PyTorch's, so weights move between the two unchanged.
import { Tensor } from '../tensor.ts';

/** A state_dict entry as stored on disk: float tensors and the int64 `num_batches_tracked`. */
export interface StateArray { dtype: string; shape: number[]; data: ArrayLike<number> | BigInt64Array }
export type StateValue = Tensor | { dtype: 'I64'; shape: []; value: number };

export interface LoadOptions {
  /** Report missing, unexpected and mis-shaped keys as one error (default true). */
  strict?: boolean;
  /** Key prefixes to leave as initialised (e.g. ['fc.'] to replace a classifier head). */
  skip?: string[];
  /** Named in errors (a file path). */
  source?: string;
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Replaces a registered tensor (after loading or folding), disposing the old one. */
  protected replaceTensor(name: string, t: Tensor): void {
    const table = this.params.has(name) ? this.params : this.buffers;
    const old = table.get(name);
    if (!old) throw new Error(`${this.constructor.name}: no tensor named ${name}`);
    if (table === this.params) t.requiresGrad = true;
    old.dispose();
    table.set(name, t);
  }

  /** Extra state_dict entries that are not tensors (BatchNorm's num_batches_tracked). */
  protected extraState(): Map<string, number> {
    return new Map();
  }

  protected setExtraState(_name: string, _value: number): void {}

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.namedModules().flatMap(([p, m]) => [...m.params].map(([n, t]): [string, Tensor] => [p ? `${p}.${n}` : n, t]));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  numParameters(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  /** Keys in PyTorch's registration order: per module its parameters, then buffers and extra state, then children. */
  stateDict(): Map<string, StateValue> {
    const out = new Map<string, StateValue>();
    const visit = (m: Module, prefix: string) => {
      const key = (n: string) => (prefix ? `${prefix}.${n}` : n);
      for (const [n, t] of m.params) out.set(key(n), t);
      for (const [n, t] of m.buffers) out.set(key(n), t);
      for (const [n, v] of m.extraState()) out.set(key(n), { dtype: 'I64', shape: [], value: v });
      for (const [n, c] of m.children) visit(c, key(n));
    };
    visit(this, '');
    return out;
  }

  /** Reads every entry back from the device, as safetensors-ready arrays. */
  async stateArrays(): Promise<Map<string, StateArray>> {
    const out = new Map<string, StateArray>();
    for (const [k, v] of this.stateDict()) {
      if (v instanceof Tensor) out.set(k, { dtype: 'F32', shape: [...v.shape], data: await v.toArray() });
      else out.set(k, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(v.value)) });
    }
    return out;
  }

  /**
   * Copies values from `state` into this module's tensors. Every problem (missing,
   * unexpected, shape mismatch, non-float data) is collected and thrown as one error
   * before anything is written, so a failed load leaves the model untouched.
   */
  loadStateDict(state: Map<string, StateArray>, opts: LoadOptions = {}): void {
    const strict = opts.strict ?? true;
    const skip = opts.skip ?? [];
    const skipped = (k: string) => skip.some((p) => k.startsWith(p));
    const own = this.stateDict();
    const source = opts.source ? ` from ${opts.source}` : '';
    const missing: string[] = [], mismatched: string[] = [];
    for (const [k, v] of own) {
      if (skipped(k)) continue;
      const src = state.get(k);
      if (!src) { missing.push(k); continue; }
      const want = v instanceof Tensor ? [...v.shape] : [];
      const have = src.shape;
      const sameShape = want.length === have.length && want.every((d, i) => d === have[i]) ||
        (!(v instanceof Tensor) && have.reduce((a, b) => a * b, 1) === 1);
      if (!sameShape) mismatched.push(`${k}: checkpoint [${have}] vs model [${want}]`);
      else if (v instanceof Tensor && src.data instanceof BigInt64Array) mismatched.push(`${k}: integer data (${src.dtype}) for a float tensor`);
    }
    const unexpected = [...state.keys()].filter((k) => !own.has(k) && !skipped(k));
    const problems = [
      ...(missing.length ? [`missing keys (${missing.length}): ${missing.join(', ')}`] : []),
      ...(strict && unexpected.length ? [`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`] : []),
      ...(mismatched.length ? [`shape mismatches (${mismatched.length}): ${mismatched.join('; ')}`] : []),
    ];
    if (problems.length && (strict || mismatched.length)) {
      throw new Error(`loadStateDict${source}: ${problems.join('\n  ')}`);
    }
    const owners = new Map(this.namedModules());
    for (const [k, v] of own) {
      const src = state.get(k);
      if (!src || skipped(k)) continue;
      if (v instanceof Tensor) {
        // in place: optimizers and arenas keep referring to the same tensors
        v.write(src.data instanceof Float32Array ? src.data : Float32Array.from(src.data as ArrayLike<number>));
      } else {
        const dot = k.lastIndexOf('.');
        const raw = src.data instanceof BigInt64Array ? Number(src.data[0]) : Number((src.data as ArrayLike<number>)[0]);
        owners.get(dot < 0 ? '' : k.slice(0, dot))!.setExtraState(k.slice(dot + 1), raw);
      }
    }
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees tensors a module keeps beside its state (derived copies). */
  protected disposeExtra(): void {}

  /** Frees every tensor of the module tree. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.params.values()) { t.grad?.dispose(); t.dispose(); }
      for (const t of m.buffers.values()) t.dispose();
      m.disposeExtra();
    }
  }
}
