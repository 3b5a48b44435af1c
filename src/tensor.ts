// Tensor: an f32 array on the device, contiguous, shape in PyTorch order (NCHW for images).
// Storage is shared by views (reshape) and returned to the buffer pool when the last user
// disposes it. Ownership: tensors made by ops inside `tidy()` are freed at the end of the
// scope unless returned, or handed to the tape when a backward closure still needs them;
// the tape frees those as soon as their backward has run.
import { gpu, type BufferRange } from './gpu/index.ts';
import { Rng, defaultRng } from './rng.ts';
import { elementwiseFill } from '../kernels/elementwise.ts';

/** What the tape attaches to a tensor an op computed (src/autograd/tape.ts). */
export interface GradNode { readonly op: string }

/**
 * Autograd plugs in here (src/autograd installs both at load), so that this file imports
 * nothing of it: `created` lets an open tidy() scope track a new tensor, `backward` is the walk.
 */
interface AutogradHooks {
  created: (t: Tensor) => void;
  backward: (root: Tensor, grad?: Tensor) => void;
}
const hooks: AutogradHooks = {
  created: () => {},
  backward: () => { throw new Error('backward(): the tape (src/autograd/tape.ts) is not loaded'); },
};

/** @internal */
export function installAutograd(h: Partial<AutogradHooks>): void {
  Object.assign(hooks, h);
}

// A region of a GPU buffer: a whole pooled buffer, or a slice of a larger one (a flat
// parameter arena). `pooled` storage returns to the pool when the last tensor lets go.
// `version` counts in-place writes of the values; views share it (PyTorch's version counter).
class Storage {
  refs = 1;
  constructor(readonly buffer: GPUBuffer, readonly offset: number, readonly bytes: number, readonly pooled: boolean,
    public version = 0) {}
}

/** Bytes a tensor of n values occupies: padded to whole vec4s, which the vec4 kernels rely on. */
export const paddedBytes = (n: number): number => Math.max(16, Math.ceil(n / 4) * 16);

export interface TensorOptions { requiresGrad?: boolean; label?: string }

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${what}: invalid shape [${shape}] (dimensions must be non-negative integers)`);
  }
}

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly label: string;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /**
   * @internal Where the tape accumulates this leaf's gradient while .grad is null: an
   * optimizer's zeroed arena slice, so gradients land in place with no copy.
   */
  gradHome: (() => Tensor) | null = null;
  /** @internal the tape record that produced this tensor; null for leaves */
  node: GradNode | null = null;
  private storage: Storage | null;

  /** @internal use the static constructors or an op */
  constructor(shape: readonly number[], storage: Storage | null, opts: TensorOptions = {}) {
    checkShape(shape, opts.label ?? 'Tensor');
    this.shape = Object.freeze([...shape]);
    this.size = numel(shape);
    this.label = opts.label ?? 'tensor';
    this.requiresGrad = opts.requiresGrad ?? false;
    this.storage = storage ?? new Storage(gpu().pool.acquire(paddedBytes(this.size), this.label), 0, paddedBytes(this.size), true);
    hooks.created(this);
  }

  /** @internal an uninitialised tensor from the pool (op outputs). */
  static empty(shape: readonly number[], label: string): Tensor {
    return new Tensor(shape, null, { label });
  }

  static fromArray(data: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
    checkShape(shape, 'Tensor.fromArray');
    const n = numel(shape);
    if (data.length !== n) {
      throw new Error(`Tensor.fromArray: data has ${data.length} values but shape [${shape}] needs ${n}`);
    }
    const t = new Tensor(shape, null, { label: 'fromArray', ...opts });
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    const { buffer, offset } = t.binding;
    gpu().recorder.upload(buffer, offset, f32);
    return t;
  }

  static full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
    const t = new Tensor(shape, null, { label: 'full', ...opts });
    if (t.size > 0) elementwiseFill(t.binding, t.size, value, `full [${shape}]`);
    return t;
  }

  static zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 0, { label: 'zeros', ...opts });
  }

  static ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    return Tensor.full(shape, 1, { label: 'ones', ...opts });
  }

  /** Normal(mean, std) from a seeded generator (the library's default one unless given). */
  static randn(shape: readonly number[], opts: TensorOptions & { mean?: number; std?: number; rng?: Rng } = {}): Tensor {
    checkShape(shape, 'Tensor.randn');
    const rng = opts.rng ?? defaultRng();
    const data = new Float32Array(numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(opts.mean ?? 0, opts.std ?? 1);
    return Tensor.fromArray(data, shape, { label: 'randn', ...opts });
  }

  /** The buffer region holding the values (padded to 16 bytes), for binding in a kernel. */
  get binding(): Required<BufferRange> {
    const s = this.storage;
    if (!s) throw new Error(`${this.label} tensor of shape [${this.shape}] used after dispose()`);
    return { buffer: s.buffer, offset: s.offset, size: s.bytes };
  }

  /**
   * @internal Moves the values into `region` (a slice of an arena the caller owns, at least
   * paddedBytes(size) long, 256-byte aligned) and keeps them there from now on.
   */
  moveTo(region: BufferRange): void {
    const from = this.binding;
    const bytes = paddedBytes(this.size);
    if ((region.size ?? bytes) < bytes) throw new Error(`moveTo: region of ${region.size} bytes for ${this.label} [${this.shape}]`);
    gpu().recorder.copy(from.buffer, from.offset, region.buffer, region.offset ?? 0, bytes);
    const version = this.version + 1;
    this.releaseStorage();
    this.storage = new Storage(region.buffer, region.offset ?? 0, bytes, false, version);
  }

  /** @internal A tensor over a region of a buffer the caller owns (arenas); dispose() never frees it. */
  static over(region: BufferRange, shape: readonly number[], label: string): Tensor {
    return new Tensor(shape, new Storage(region.buffer, region.offset ?? 0, paddedBytes(numel(shape)), false), { label });
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /**
   * Bumped by every in-place write of the values (write(), an optimizer step, a batch-norm
   * running-statistics update, a load); shared with views. Copies derived from a tensor
   * (eval mode's folded conv+BN weights) compare it to know they are current.
   */
  get version(): number {
    return this.storage?.version ?? -1;
  }

  /** @internal called by code that writes the values in place on the device. */
  markWritten(): void {
    if (this.storage) this.storage.version++;
  }

  /** @internal a tensor sharing this one's storage under another shape. */
  view(shape: readonly number[], label: string): Tensor {
    if (numel(shape) !== this.size) {
      throw new Error(`${label}: cannot view [${this.shape}] (${this.size} values) as [${shape}]`);
    }
    const storage = this.storage;
    if (!storage) throw new Error(`${label}: ${this.label} tensor of shape [${this.shape}] used after dispose()`);
    storage.refs++;
    return new Tensor(shape, storage, { label });
  }

  /** @internal whether both tensors read the same storage (one is the other or a view of it). */
  sharesStorage(other: Tensor): boolean {
    return this.storage !== null && this.storage === other.storage;
  }

  /** Overwrites the values from host memory (ordered with the ops recorded so far). */
  write(data: Float32Array): void {
    if (data.length !== this.size) {
      throw new Error(`write: ${data.length} values for ${this.label} tensor of shape [${this.shape}] (${this.size} values)`);
    }
    const { buffer, offset } = this.binding;
    gpu().recorder.upload(buffer, offset, data);
    this.markWritten();
  }

  async toArray(): Promise<Float32Array> {
    const { buffer, offset } = this.binding;
    if (this.size === 0) return new Float32Array(0);
    return new Float32Array(await gpu().recorder.read(buffer, offset, this.size * 4));
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor of shape [${this.shape}] has ${this.size} values, not 1`);
    return (await this.toArray())[0];
  }

  dispose(): void {
    this.releaseStorage();
  }

  private releaseStorage(): void {
    const storage = this.storage;
    if (!storage) return;
    this.storage = null;
    if (--storage.refs === 0 && storage.pooled) gpu().pool.release(storage.buffer);
  }

  /** Gradients of this tensor w.r.t. every leaf that requires them (PyTorch semantics). */
  backward(grad?: Tensor): void {
    hooks.backward(this, grad);
  }

  toString(): string {
    return `Tensor(${this.label}, [${this.shape}]${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
