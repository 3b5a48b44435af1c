// SGD as torch.optim.SGD (momentum with the first-step rule per parameter, dampening,
// Nesterov, coupled weight decay, per-group hyper-parameters): a parameter without a gradient
// (.grad null) or not requiring grad is skipped entirely. Updates run over flat arenas: at
// construction the parameters move into one arena (slices 256-byte aligned), their gradients
// live in a second (the tape accumulates into a zeroed slice in place, through the
// parameter's gradHome) and momentum, created at the first momentum step, in a third. Each
// run of consecutive parameters that all step, with the same first-step state, is one
// dispatch: one per group when every parameter has a gradient. Arenas larger than a storage
// binding are split into chunks; runs never cross chunks.
import { Tensor, paddedBytes } from '../tensor.ts';
import { gpu, STORAGE_USAGE } from '../gpu/index.ts';
import { shapeStr } from '../../kernels/launch.ts';
import { sgdStep, type SgdHyper } from '../../kernels/sgd.ts';
import { chunkBytesLimit } from '../../kernels/chunking.ts';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Largest arena chunk in bytes (default: the device's storage binding limit). */
  arenaChunkBytes?: number;
}

export interface ParamGroupSpec { params: Tensor[]; lr?: number; weightDecay?: number; momentum?: number; dampening?: number; nesterov?: boolean }

/** A group's hyper-parameters; lr and weightDecay may change between steps. */
export interface ParamGroup extends SgdHyper { readonly params: readonly Tensor[] }

export interface SGDStateDict {
  step: number;
  paramGroups: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; params: number[] }[];
  /**
   * One entry per parameter (in group order), null for a parameter without momentum state (it
   * has not yet stepped with momentum); empty when no parameter has any. Checkpoints written
   * before per-parameter state (empty, or a buffer for every parameter) load unchanged.
   */
  momentumBuffers: (Float32Array | null)[];
}

interface Slot {
  param: Tensor;
  grad: Tensor;          // the arena slice, as a tensor
  chunk: number;
  offset: number;
  bytes: number;
  /** The slice holds zeros and is not attached as param.grad: the tape may accumulate into it as is. */
  clean: boolean;
  /** PyTorch's state[p]['momentum_buffer'] exists: the next momentum step is not the first. */
  hasMomentum: boolean;
}
interface Chunk { params: GPUBuffer; grads: GPUBuffer; momentum: GPUBuffer | null; bytes: number }
interface Run { chunk: number; offset: number; end: number; first: boolean; params: number }

const ALIGN = 256;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
// The optimizer whose arena holds each parameter: a newer optimizer over the same parameters
// takes them over (moving them into its own arena), and the older one refuses to step.
const owners = new WeakMap<Tensor, SGD>();

/** Two groups: weight decay for parameters of 2+ dimensions, none for BN weights/biases and biases (1-D). */
export function splitWeightDecayGroups(params: Tensor[], weightDecay: number): ParamGroupSpec[] {
  return [
    { params: params.filter((p) => p.shape.length > 1), weightDecay },
    { params: params.filter((p) => p.shape.length <= 1), weightDecay: 0 },
  ];
}

function arena(bytes: number, what: string): GPUBuffer {
  return gpu().resources.createBuffer({ size: Math.max(bytes, ALIGN), usage: STORAGE_USAGE, label: `SGD ${what} arena` });
}

function checkHyper(what: string, h: SgdHyper): void {
  if (!Number.isFinite(h.lr) || h.lr < 0) throw new Error(`SGD: ${what} lr must be a finite number >= 0, got ${h.lr}`);
  if (!Number.isFinite(h.momentum) || h.momentum < 0) throw new Error(`SGD: ${what} momentum must be >= 0, got ${h.momentum}`);
  if (!Number.isFinite(h.weightDecay) || h.weightDecay < 0) throw new Error(`SGD: ${what} weightDecay must be >= 0, got ${h.weightDecay}`);
  if (!Number.isFinite(h.dampening)) throw new Error(`SGD: ${what} dampening must be finite, got ${h.dampening}`);
  if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) throw new Error(`SGD: ${what} Nesterov momentum requires a momentum > 0 and zero dampening`);
}

export class SGD {
  readonly paramGroups: ParamGroup[];
  private slots: Slot[] = [];
  private chunks: Chunk[] = [];
  private groupSlots: number[][] = [];
  private steps = 0;

  constructor(params: Tensor[] | ParamGroupSpec[], opts: SGDOptions) {
    const specs: ParamGroupSpec[] = params.length > 0 && !(params[0] instanceof Tensor)
      ? (params as ParamGroupSpec[]) : [{ params: params as Tensor[] }];
    const defaults: SgdHyper = { lr: opts.lr, momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0,
      weightDecay: opts.weightDecay ?? 0, nesterov: opts.nesterov ?? false };
    this.paramGroups = specs.map((spec, gi) => {
      if (!spec || !Array.isArray(spec.params)) throw new Error(`SGD: parameter group ${gi} has no params array`);
      const group: ParamGroup = {
        params: [...spec.params], lr: spec.lr ?? defaults.lr, momentum: spec.momentum ?? defaults.momentum,
        dampening: spec.dampening ?? defaults.dampening, weightDecay: spec.weightDecay ?? defaults.weightDecay,
        nesterov: spec.nesterov ?? defaults.nesterov,
      };
      checkHyper(`group ${gi}`, group);
      return group;
    });
    const all = this.paramGroups.flatMap((g) => g.params);
    if (all.length === 0) throw new Error('SGD: got an empty parameter list');
    const seen = new Set<Tensor>();
    all.forEach((p, i) => {
      const what = `parameter ${i} (${p instanceof Tensor ? `${p.label} ${shapeStr(p.shape)}` : typeof p})`;
      if (!(p instanceof Tensor)) throw new Error(`SGD: ${what} is not a Tensor`);
      if (p.disposed) throw new Error(`SGD: ${what} is disposed`);
      if (p.node) throw new Error(`SGD: ${what} is not a leaf tensor (it was computed by an op)`);
      if (seen.has(p)) throw new Error(`SGD: ${what} appears more than once`);
      seen.add(p);
    });
    this.buildArenas(opts.arenaChunkBytes);
  }

  private buildArenas(chunkLimit?: number): void {
    const g = gpu();
    const limit = Math.floor(Math.min(chunkLimit ?? Infinity, chunkBytesLimit(), g.limits.maxBufferSize) / ALIGN) * ALIGN;
    const layout: { param: Tensor; chunk: number; offset: number; bytes: number }[] = [];
    const sizes: number[] = [0];
    for (const grp of this.paramGroups) {
      for (const param of grp.params) {
        const bytes = paddedBytes(param.size);
        if (align(bytes) > limit) throw new Error(`SGD: parameter ${param.label} ${shapeStr(param.shape)} (${bytes} bytes) exceeds the arena chunk limit of ${limit} bytes`);
        if (sizes[sizes.length - 1] + align(bytes) > limit) sizes.push(0);
        layout.push({ param, chunk: sizes.length - 1, offset: sizes[sizes.length - 1], bytes });
        sizes[sizes.length - 1] += align(bytes);
      }
    }
    this.chunks = sizes.map((bytes) => ({ params: arena(bytes, 'parameter'), grads: arena(bytes, 'gradient'), momentum: null, bytes }));
    for (const { param, chunk, offset, bytes } of layout) {
      const c = this.chunks[chunk];
      const old = param.grad;
      param.moveTo({ buffer: c.params, offset, size: bytes });
      const slot: Slot = { param, grad: Tensor.over({ buffer: c.grads, offset, size: bytes }, param.shape, `${param.label} grad`),
        chunk, offset, bytes, clean: true, hasMomentum: false };
      if (old && !old.disposed) { // a gradient from before: kept, in the arena
        g.recorder.copy(old.binding.buffer, old.binding.offset, c.grads, offset, bytes);
        old.dispose();
        param.grad = slot.grad;
        slot.clean = false;
      } else {
        param.grad = null;
      }
      param.gradHome = () => this.home(slot);
      owners.set(param, this);
      this.slots.push(slot);
    }
    let k = 0;
    this.groupSlots = this.paramGroups.map((grp) => grp.params.map(() => k++));
  }

  /** The parameter's slice of the gradient arena as a tensor (a new one if it was disposed). */
  private slice(s: Slot): Tensor {
    if (s.grad.disposed) s.grad = Tensor.over({ buffer: this.chunks[s.chunk].grads, offset: s.offset, size: s.bytes }, s.param.shape, `${s.param.label} grad`);
    return s.grad;
  }

  /** The zeroed arena slice the tape accumulates a parameter's first gradient into. */
  private home(s: Slot): Tensor {
    if (!s.clean) gpu().recorder.clear(this.chunks[s.chunk].grads, s.offset, s.bytes);
    s.clean = false;
    return this.slice(s);
  }

  /** The first group's learning rate; setting it sets every group's (what ReduceLROnPlateau drives). */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  set lr(value: number) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`SGD: lr must be a finite number >= 0, got ${value}`);
    for (const grp of this.paramGroups) grp.lr = value;
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  private checkOwned(s: Slot): void {
    if (this.chunks.length === 0) throw new Error('SGD: used after dispose()');
    if (s.param.disposed) throw new Error(`SGD: parameter ${s.param.label} ${shapeStr(s.param.shape)} was disposed`);
    if (owners.get(s.param) !== this) throw new Error(`SGD: parameter ${s.param.label} ${shapeStr(s.param.shape)} now belongs to a newer optimizer`);
  }

  /**
   * Which parameters step: those requiring grad whose .grad is set. A gradient placed
   * elsewhere (a .grad assigned by hand) is copied into the arena and disposed; a disposed
   * .grad counts as none.
   */
  private gather(): boolean[] {
    const rec = gpu().recorder;
    return this.slots.map((s) => {
      this.checkOwned(s);
      const current = s.param.grad;
      if (!current || current.disposed) { s.param.grad = null; return false; }
      if (current !== s.grad) {
        if (current.size !== s.param.size) throw new Error(`SGD: ${s.param.label} ${shapeStr(s.param.shape)} has a gradient of shape ${shapeStr(current.shape)}`);
        rec.copy(current.binding.buffer, current.binding.offset, this.chunks[s.chunk].grads, s.offset, s.bytes);
        current.dispose();
        s.param.grad = this.slice(s);
        s.clean = false;
      }
      return s.param.requiresGrad;
    });
  }

  /**
   * One update of every parameter that has a gradient: one dispatch per run of consecutive
   * stepping parameters (per group and arena chunk when all of them step).
   */
  step(): void {
    const active = this.gather();
    this.paramGroups.forEach((grp, gi) => {
      checkHyper(`group ${gi}`, grp);
      const momentum = grp.momentum !== 0;
      let run: Run | null = null;
      const flush = () => {
        if (!run) return;
        const c = this.chunks[run.chunk];
        if (momentum && !c.momentum) c.momentum = arena(c.bytes, 'momentum');
        const range = (buffer: GPUBuffer) => ({ buffer, offset: run!.offset, size: run!.end - run!.offset });
        sgdStep(range(c.grads), range(c.params), momentum ? range(c.momentum!) : null, (run.end - run.offset) / 16, grp,
          run.first, `SGD step group ${gi} (${run.params} params, ${run.end - run.offset} bytes)`);
        run = null;
      };
      for (const k of this.groupSlots[gi]) {
        const s = this.slots[k];
        if (!active[k]) { flush(); continue; }
        const first = momentum && !s.hasMomentum;
        if (run && run.chunk === s.chunk && run.first === first) { run.end = s.offset + s.bytes; run.params++; }
        else { flush(); run = { chunk: s.chunk, offset: s.offset, end: s.offset + s.bytes, first, params: 1 }; }
        if (momentum) s.hasMomentum = true;
      }
      flush();
    });
    // the fold caches of eval mode key on weight versions: a stepped weight is a new one
    this.slots.forEach((s, k) => { if (active[k]) s.param.markWritten(); });
    this.steps++;
  }

  /**
   * Clears every gradient: one clear per arena chunk. With `setToNone` (the default, as
   * PyTorch >= 2.0) every .grad becomes null, so a parameter the next backward does not reach
   * is skipped by the next step; without it gradients that exist stay, as zeros (PyTorch
   * 1.13's default), and still receive weight decay and momentum.
   */
  zeroGrad(setToNone = true): void {
    const rec = gpu().recorder;
    for (const c of this.chunks) rec.clear(c.grads, 0, c.bytes);
    for (const s of this.slots) {
      this.checkOwned(s);
      const current = s.param.grad;
      if (current && current !== s.grad && !current.disposed) current.dispose();
      const keep = !setToNone && current !== null && !current.disposed;
      s.param.grad = keep ? this.slice(s) : null;
      s.clean = !keep;
    }
  }

  /**
   * Frees the arenas (parameters, gradients, momentum) at the next submission. The
   * parameters live in the parameter arena, so dispose the model they belong to first (or
   * never use them again); the optimizer refuses to step afterwards.
   */
  dispose(): void {
    const rec = gpu().recorder;
    for (const c of this.chunks) for (const b of [c.params, c.grads, c.momentum]) if (b) rec.retire(b);
    for (const s of this.slots) {
      if (owners.get(s.param) === this) owners.delete(s.param);
      if (s.param.grad === s.grad) s.param.grad = null;
      s.param.gradHome = null;
    }
    this.chunks = [];
  }

  async stateDict(): Promise<SGDStateDict> {
    let k = 0;
    const paramGroups = this.paramGroups.map((grp) => ({
      lr: grp.lr, momentum: grp.momentum, dampening: grp.dampening, weightDecay: grp.weightDecay, nesterov: grp.nesterov,
      params: grp.params.map(() => k++),
    }));
    const momentumBuffers: (Float32Array | null)[] = [];
    if (this.slots.some((s) => s.hasMomentum)) {
      const rec = gpu().recorder;
      const chunkData = await Promise.all(this.chunks.map((c) => (c.momentum ? rec.read(c.momentum, 0, c.bytes) : null)));
      for (const s of this.slots) momentumBuffers.push(s.hasMomentum ? new Float32Array(chunkData[s.chunk]!, s.offset, s.param.size).slice() : null);
    }
    return { step: this.steps, paramGroups, momentumBuffers };
  }

  loadStateDict(state: SGDStateDict): void {
    const groups = state?.paramGroups;
    if (!Array.isArray(groups) || groups.length !== this.paramGroups.length) {
      throw new Error(`SGD.loadStateDict: ${groups?.length ?? 'no'} parameter groups for an optimizer with ${this.paramGroups.length}`);
    }
    groups.forEach((saved, gi) => {
      if (saved.params.length !== this.paramGroups[gi].params.length) {
        throw new Error(`SGD.loadStateDict: group ${gi} has ${saved.params.length} parameters, this optimizer's has ${this.paramGroups[gi].params.length}`);
      }
      checkHyper(`saved group ${gi}`, saved);
    });
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`SGD.loadStateDict: step must be an integer >= 0, got ${state.step}`);
    const buffers = state.momentumBuffers ?? [];
    if (buffers.length !== 0 && buffers.length !== this.slots.length) {
      throw new Error(`SGD.loadStateDict: ${buffers.length} momentum buffers for ${this.slots.length} parameters (give one per parameter, null where none, or none at all)`);
    }
    buffers.forEach((b, i) => {
      const p = this.slots[i].param;
      if (b && b.length !== p.size) throw new Error(`SGD.loadStateDict: momentum buffer ${i} has ${b.length} values, parameter ${i} (${p.label} ${shapeStr(p.shape)}) has ${p.size}`);
    });
    groups.forEach((saved, gi) => Object.assign(this.paramGroups[gi], {
      lr: saved.lr, momentum: saved.momentum, dampening: saved.dampening, weightDecay: saved.weightDecay, nesterov: saved.nesterov,
    }));
    const rec = gpu().recorder;
    this.slots.forEach((s, i) => {
      const b = buffers[i];
      s.hasMomentum = Boolean(b);
      if (!b) return;
      const c = this.chunks[s.chunk];
      c.momentum ??= arena(c.bytes, 'momentum');
      rec.upload(c.momentum, s.offset, b);
    });
    this.steps = state.step;
  }
}
