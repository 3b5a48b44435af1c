// Module: named parameters, buffers and children, train/eval, and a state_dict whose keys and
// shapes are PyTorch's, so weights move between the two unchanged.
import { Tensor } from '../tensor.ts';

/** A state_dict entry as stored on disk: float tensors and the int64 `num_batches_tracked`. */
export interface StateArray { dtype: string; shape: number[]; data: ArrayLike<number> | BigInt64Array }
export type StateValue = Tensor | { dtype: 'I64'; shape: []; value: number };

const NUM_BATCHES_TRACKED = 'num_batches_tracked';
/** Entries of each kind an error lists before "... and N more": enough to see the pattern, short enough for a terminal. */
const LISTED_PER_KIND = 5;

function listed(items: string[], sep: string): string {
  const shown = items.slice(0, LISTED_PER_KIND).join(sep);
  return items.length > LISTED_PER_KIND ? `${shown}${sep}... and ${items.length - LISTED_PER_KIND} more` : shown;
}

/** One line per kind of problem, with its count and the first few keys; shape mismatches one per line. */
function loadErrorMessage(source: string | undefined, missing: string[], unexpected: string[], mismatched: string[]): string {
  const lines = [
    ...(missing.length ? [`missing keys (${missing.length}): ${listed(missing, ', ')}`] : []),
    ...(unexpected.length ? [`unexpected keys (${unexpected.length}): ${listed(unexpected, ', ')}`] : []),
    ...(mismatched.length ? [`shape mismatches (${mismatched.length}):\n    ${listed(mismatched, '\n    ')}`] : []),
  ];
  return `loadStateDict${source ? ` from ${source}` : ''}: the state_dict does not fit this model\n  ${lines.join('\n  ')}`;
}

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
   * before anything is written, so a failed load leaves the model untouched. A missing
   * `num_batches_tracked` is not a problem: it becomes 0, as PyTorch's BatchNorm does for
   * state_dicts saved without it.
   */
  loadStateDict(state: Map<string, StateArray>, opts: LoadOptions = {}): void {
    const strict = opts.strict ?? true;
    const skip = opts.skip ?? [];
    const skipped = (k: string) => skip.some((p) => k.startsWith(p));
    const own = this.stateDict();
    const missing: string[] = [], mismatched: string[] = [], zeroed: string[] = [];
    for (const [k, v] of own) {
      if (skipped(k)) continue;
      const src = state.get(k);
      if (!src) {
        if (!(v instanceof Tensor) && k.endsWith(NUM_BATCHES_TRACKED)) zeroed.push(k);
        else missing.push(k);
        continue;
      }
      const want = v instanceof Tensor ? [...v.shape] : [];
      const have = src.shape;
      const sameShape = want.length === have.length && want.every((d, i) => d === have[i]) ||
        (!(v instanceof Tensor) && have.reduce((a, b) => a * b, 1) === 1);
      if (!sameShape) mismatched.push(`${k}: checkpoint [${have}] vs model [${want}]`);
      else if (v instanceof Tensor && src.data instanceof BigInt64Array) mismatched.push(`${k}: integer data (${src.dtype}) for a float tensor`);
    }
    const unexpected = [...state.keys()].filter((k) => !own.has(k) && !skipped(k));
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new Error(loadErrorMessage(opts.source, missing, strict ? unexpected : [], mismatched));
    }
    const owners = new Map(this.namedModules());
    const setExtra = (k: string, value: number) => {
      const dot = k.lastIndexOf('.');
      owners.get(dot < 0 ? '' : k.slice(0, dot))!.setExtraState(k.slice(dot + 1), value);
    };
    for (const k of zeroed) setExtra(k, 0);
    for (const [k, v] of own) {
      const src = state.get(k);
      if (!src || skipped(k)) continue;
      if (v instanceof Tensor) {
        // in place: optimizers and arenas keep referring to the same tensors
        v.write(src.data instanceof Float32Array ? src.data : Float32Array.from(src.data as ArrayLike<number>));
      } else {
        setExtra(k, src.data instanceof BigInt64Array ? Number(src.data[0]) : Number((src.data as ArrayLike<number>)[0]));
      }
    }
  }

  /**
   * Sets requiresGrad on every parameter of the tree, as PyTorch's requires_grad_(): false
   * freezes them (the tape computes no gradient for them and an optimizer skips them).
   */
  requireGrad(on = true): this {
    for (const p of this.parameters()) p.requiresGrad = on;
    return this;
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
