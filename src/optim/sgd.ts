// SGD with PyTorch semantics (momentum with the first-step rule, dampening, Nesterov, coupled
// weight decay, per-group lr and weight decay), updating every parameter with one dispatch
// per group: at construction the parameters move into one flat arena (slices 256-byte
// aligned), their gradients are tensors over a second arena (the tape accumulates into
// them in place) and momentum lives in a third. Arenas larger than a storage binding are
// split into chunks; a group then takes one dispatch per chunk it spans.
import { Tensor, paddedBytes } from '../tensor.ts';
import { gpu, STORAGE_USAGE } from '../gpu/index.ts';
import { shapeStr } from '../../kernels/launch.ts';
import { sgdStepKernel, type SgdHyper } from '../../kernels/sgd.ts';

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
  /** One per parameter (in group order) once a momentum step has run; empty otherwise. */
  momentumBuffers: Float32Array[];
}

interface Slot { param: Tensor; grad: Tensor; chunk: number; offset: number; bytes: number }
interface Chunk { params: GPUBuffer; grads: GPUBuffer; momentum: GPUBuffer | null; bytes: number }
interface Range { chunk: number; offset: number; bytes: number }

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
  private groupRanges: Range[][] = [];
  private steps = 0;
  private momentumReady = false;

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
      if (!p.requiresGrad) throw new Error(`SGD: ${what} does not require grad`);
      if (p.node) throw new Error(`SGD: ${what} is not a leaf tensor (it was computed by an op)`);
      if (seen.has(p)) throw new Error(`SGD: ${what} appears more than once`);
      seen.add(p);
    });
    this.buildArenas(opts.arenaChunkBytes);
  }

  private buildArenas(chunkLimit?: number): void {
    const g = gpu();
    const limit = Math.floor(Math.min(chunkLimit ?? Infinity, g.limits.maxStorageBufferBindingSize, g.limits.maxBufferSize) / ALIGN) * ALIGN;
    const anyMomentum = this.paramGroups.some((grp) => grp.momentum !== 0);
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
    const make = (bytes: number, what: string) => g.device.createBuffer({ size: Math.max(bytes, ALIGN), usage: STORAGE_USAGE, label: `SGD ${what} arena` });
    this.chunks = sizes.map((bytes) => ({ params: make(bytes, 'parameter'), grads: make(bytes, 'gradient'), momentum: anyMomentum ? make(bytes, 'momentum') : null, bytes }));
    for (const { param, chunk, offset, bytes } of layout) {
      const c = this.chunks[chunk];
      const old = param.grad;
      param.moveTo({ buffer: c.params, offset, size: bytes });
      const grad = Tensor.over({ buffer: c.grads, offset, size: bytes }, param.shape, `${param.label} grad`);
      if (old && !old.disposed) { g.recorder.copy(old.binding.buffer, old.binding.offset, c.grads, offset, bytes); old.dispose(); }
      param.grad = grad;
      owners.set(param, this);
      this.slots.push({ param, grad, chunk, offset, bytes });
    }
    let k = 0;
    this.groupRanges = this.paramGroups.map((grp) => {
      const ranges: Range[] = [];
      for (let i = 0; i < grp.params.length; i++, k++) {
        const s = this.slots[k], last = ranges[ranges.length - 1];
        if (last && last.chunk === s.chunk) last.bytes = s.offset + s.bytes - last.offset;
        else ranges.push({ chunk: s.chunk, offset: s.offset, bytes: s.bytes });
      }
      return ranges;
    });
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

  /** Gradients the tape put elsewhere (a disposed or replaced .grad) go back into the arena. */
  private reclaimGrads(): void {
    const rec = gpu().recorder;
    for (const s of this.slots) {
      if (s.param.disposed) throw new Error(`SGD: parameter ${s.param.label} ${shapeStr(s.param.shape)} was disposed`);
      if (owners.get(s.param) !== this) throw new Error(`SGD: parameter ${s.param.label} ${shapeStr(s.param.shape)} now belongs to a newer optimizer`);
      const current = s.param.grad;
      if (current === s.grad && !s.grad.disposed) continue;
      if (current && current !== s.grad && !current.disposed) {
        if (current.size !== s.param.size) throw new Error(`SGD: ${s.param.label} ${shapeStr(s.param.shape)} has a gradient of shape ${shapeStr(current.shape)}`);
        rec.copy(current.binding.buffer, current.binding.offset, this.chunks[s.chunk].grads, s.offset, s.bytes);
        current.dispose();
      } else if (!current || current.disposed) {
        rec.clear(this.chunks[s.chunk].grads, s.offset, s.bytes);
      }
      if (s.grad.disposed) s.grad = Tensor.over({ buffer: this.chunks[s.chunk].grads, offset: s.offset, size: s.bytes }, s.param.shape, `${s.param.label} grad`);
      s.param.grad = s.grad;
    }
  }

  /** One update of every parameter: one dispatch per group (per arena chunk it spans). */
  step(): void {
    this.reclaimGrads();
    this.paramGroups.forEach((grp, gi) => {
      checkHyper(`group ${gi}`, grp);
      for (const r of this.groupRanges[gi]) {
        const c = this.chunks[r.chunk];
        const range = (buffer: GPUBuffer) => ({ buffer, offset: r.offset, size: r.bytes });
        sgdStepKernel(range(c.grads), range(c.params), c.momentum ? range(c.momentum) : null, r.bytes / 16, grp,
          !this.momentumReady, `SGD step group ${gi} (${grp.params.length} params, ${r.bytes} bytes)`);
      }
    });
    for (const s of this.slots) s.param.markWritten();
    if (this.paramGroups.some((grp) => grp.momentum !== 0)) this.momentumReady = true;
    this.steps++;
  }

  /** Zeroes every gradient: one clear per arena chunk. */
  zeroGrad(): void {
    this.reclaimGrads();
    const rec = gpu().recorder;
    for (const c of this.chunks) rec.clear(c.grads, 0, c.bytes);
  }

  async stateDict(): Promise<SGDStateDict> {
    let k = 0;
    const paramGroups = this.paramGroups.map((grp) => ({
      lr: grp.lr, momentum: grp.momentum, dampening: grp.dampening, weightDecay: grp.weightDecay, nesterov: grp.nesterov,
      params: grp.params.map(() => k++),
    }));
    const momentumBuffers: Float32Array[] = [];
    if (this.momentumReady) {
      const rec = gpu().recorder;
      const chunkData = await Promise.all(this.chunks.map((c) => rec.read(c.momentum!, 0, c.bytes)));
      for (const s of this.slots) momentumBuffers.push(new Float32Array(chunkData[s.chunk], s.offset, s.param.size).slice());
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
    const buffers = state.momentumBuffers ?? [];
    if (buffers.length !== 0 && buffers.length !== this.slots.length) {
      throw new Error(`SGD.loadStateDict: ${buffers.length} momentum buffers for ${this.slots.length} parameters`);
    }
    buffers.forEach((b, i) => {
      if (b.length !== this.slots[i].param.size) throw new Error(`SGD.loadStateDict: momentum buffer ${i} has ${b.length} values, parameter ${shapeStr(this.slots[i].param.shape)} has ${this.slots[i].param.size}`);
    });
    if (this.chunks.some((c) => !c.momentum) && (buffers.length || groups.some((saved) => saved.momentum !== 0))) {
      throw new Error('SGD.loadStateDict: the state has momentum but this optimizer was built without momentum buffers');
    }
    groups.forEach((saved, gi) => Object.assign(this.paramGroups[gi], {
      lr: saved.lr, momentum: saved.momentum, dampening: saved.dampening, weightDecay: saved.weightDecay, nesterov: saved.nesterov,
    }));
    const rec = gpu().recorder;
    buffers.forEach((b, i) => rec.upload(this.chunks[this.slots[i].chunk].momentum!, this.slots[i].offset, b));
    this.momentumReady = buffers.length > 0;
    this.steps = state.step;
  }
}
