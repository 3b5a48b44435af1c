// The building blocks, with PyTorch's parameter names, shapes and the official ResNeSt
// initialisation (conv weights ~ N(0, sqrt(2 / (kH*kW*outC))), BN weight 1 and bias 0,
// conv biases and Linear as PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
import { Tensor } from '../tensor.ts';
import { isRecording, noGrad } from '../autograd/tape.ts';
import { outsideScopes } from '../autograd/scope.ts';
import { Rng } from '../rng.ts';
import * as F from '../functional.ts';
import { Module } from './module.ts';

export type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

function param(shape: number[], init: (rng: Rng) => number, rng: Rng, label: string): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = init(rng);
  return Tensor.fromArray(data, shape, { requiresGrad: true, label });
}

export interface Conv2dLayerOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; bias?: boolean; rng?: Rng }

export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null = null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, opts: Conv2dLayerOptions = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new Error(`Conv2d: groups=${this.groups} must divide in_channels=${inChannels} and out_channels=${outChannels}`);
    }
    const rng = opts.rng ?? new Rng(0);
    const std = Math.sqrt(2 / (kh * kw * outChannels));
    this.weight = this.registerParameter('weight', param([outChannels, inChannels / this.groups, kh, kw], (r) => r.normal(0, std), rng, 'conv weight'));
    if (opts.bias) {
      const bound = 1 / Math.sqrt((inChannels / this.groups) * kh * kw);
      this.bias = this.registerParameter('bias', param([outChannels], (r) => r.uniform(-bound, bound), rng, 'conv bias'));
    }
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias ?? undefined, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  /** Multiply-accumulates for an input of height h and width w (per image). */
  macs(h: number, w: number): { macs: number; h: number; w: number } {
    const [kh, kw] = [this.weight.shape[2], this.weight.shape[3]];
    const oh = Math.floor((h + 2 * this.padding[0] - this.dilation[0] * (kh - 1) - 1) / this.stride[0]) + 1;
    const ow = Math.floor((w + 2 * this.padding[1] - this.dilation[1] * (kw - 1) - 1) / this.stride[1]) + 1;
    return { macs: oh * ow * this.outChannels * (this.inChannels / this.groups) * kh * kw, h: oh, w: ow };
  }
}

export interface BatchNormApply { relu?: boolean; residual?: Tensor }

export class BatchNorm2d extends Module {
  /** @internal the preceding convolution with this BN folded in (eval mode, nothing needing a gradient), see convBn. */
  folded: FoldedConv | null = null;
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked = 0;

  constructor(readonly numFeatures: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.registerParameter('weight', Tensor.ones([numFeatures], { label: 'bn weight' }));
    this.bias = this.registerParameter('bias', Tensor.zeros([numFeatures], { label: 'bn bias' }));
    this.runningMean = this.registerBuffer('running_mean', Tensor.zeros([numFeatures], { label: 'bn running_mean' }));
    this.runningVar = this.registerBuffer('running_var', Tensor.ones([numFeatures], { label: 'bn running_var' }));
  }

  protected override extraState(): Map<string, number> {
    return new Map([['num_batches_tracked', this.numBatchesTracked]]);
  }

  protected override disposeExtra(): void {
    dropFolded(this);
  }

  protected override setExtraState(name: string, value: number): void {
    if (name === 'num_batches_tracked') this.numBatchesTracked = value;
  }

  /** BN, optionally fused with `+ residual` and ReLU (the end of a bottleneck). */
  forward(x: Tensor, fuse: BatchNormApply = {}): Tensor {
    if (this.training) this.numBatchesTracked++;
    return F.batchNorm2d(x, this.runningMean, this.runningVar, this.weight, this.bias,
      { training: this.training, momentum: this.momentum, eps: this.eps, relu: fuse.relu, residual: fuse.residual });
  }
}

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null = null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; rng?: Rng } = {}) {
    super();
    const rng = opts.rng ?? new Rng(0);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter('weight', param([outFeatures, inFeatures], (r) => r.uniform(-bound, bound), rng, 'linear weight'));
    if (opts.bias ?? true) this.bias = this.registerParameter('bias', param([outFeatures], (r) => r.uniform(-bound, bound), rng, 'linear bias'));
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias ?? undefined);
  }
}

/**
 * One Linear whose outputs are those of `layers` in order (a classifier with extra heads
 * appended): same input width, rows and biases copied; a layer without bias adds zeros.
 */
export async function concatLinear(layers: readonly Linear[]): Promise<Linear> {
  if (layers.length === 0) throw new Error('concatLinear: no layers given');
  const inF = layers[0].inFeatures;
  const odd = layers.findIndex((l) => l.inFeatures !== inF);
  if (odd >= 0) throw new Error(`concatLinear: layer ${odd} takes ${layers[odd].inFeatures} inputs, layer 0 takes ${inF}`);
  const out = layers.reduce((n, l) => n + l.outFeatures, 0);
  const weight = new Float32Array(out * inF), bias = new Float32Array(out);
  let row = 0;
  for (const l of layers) {
    weight.set(await l.weight.toArray(), row * inF);
    if (l.bias) bias.set(await l.bias.toArray(), row);
    row += l.outFeatures;
  }
  const joined = new Linear(inF, out);
  joined.weight.write(weight);
  joined.bias!.write(bias);
  return joined;
}

/** A parameterless container whose children are addressed by index, like nn.Sequential. */
export class Container extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.registerModule(name, m);
  }
}

/** The preceding convolution with a BN folded in, and what it was built from. */
interface FoldedConv { weight: Tensor; bias: Tensor; sources: (Tensor | null)[]; versions: number[] }

function dropFolded(bn: BatchNorm2d): void {
  bn.folded?.weight.dispose();
  bn.folded?.bias.dispose();
  bn.folded = null;
}

const foldSources = (conv: Conv2d, bn: BatchNorm2d) => [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar];

/** Current when built from these very tensors at their present versions (no write since). */
function isCurrent(f: FoldedConv, sources: (Tensor | null)[]): boolean {
  return sources.every((t, i) => t === f.sources[i] && (t === null || t.version === f.versions[i]));
}

/**
 * W' = W * g / sqrt(v + eps) per output channel, b' = (b - m) * g / sqrt(v + eps) + beta,
 * computed on the device with the BN kernel itself, outside any scope and the tape.
 */
function fold(conv: Conv2d, bn: BatchNorm2d, sources: (Tensor | null)[]): FoldedConv {
  return outsideScopes(() => noGrad(() => {
    const outC = conv.outChannels;
    const zeros = Tensor.zeros([outC]);
    const w = F.batchNorm2d(F.reshape(conv.weight, [1, outC, conv.weight.size / outC, 1]), zeros, bn.runningVar, bn.weight, null,
      { training: false, eps: bn.eps });
    const b = F.batchNorm2d(conv.bias ? F.reshape(conv.bias, [1, outC, 1, 1]) : Tensor.zeros([1, outC, 1, 1]), bn.runningMean, bn.runningVar,
      bn.weight, bn.bias, { training: false, eps: bn.eps });
    const weight = F.reshape(w, conv.weight.shape), bias = F.reshape(b, [outC]);
    w.dispose(); b.dispose(); zeros.dispose();
    return { weight, bias, sources, versions: sources.map((t) => t?.version ?? -1) };
  }));
}

/**
 * conv then BN (then + residual, then ReLU), with PyTorch's train/eval semantics. In eval mode
 * BN normalises with its running statistics and leaves them unchanged; gradients still flow to
 * the input, the residual and every conv and BN parameter (frozen-BN fine-tuning). Where nothing
 * needs a gradient (grad mode off, or no parameter of the pair and no input requires grad) the
 * BN is folded into the conv, which skips the normalisation pass: the folded copy is rebuilt
 * whenever any tensor it came from was written (optimizer step, load, write()) or replaced.
 * Training forwards drop it.
 */
export function convBn(conv: Conv2d, bn: BatchNorm2d, x: Tensor, fuse: BatchNormApply = {}): Tensor {
  const sources = foldSources(conv, bn);
  if (bn.training || isRecording([x, fuse.residual ?? null, ...sources])) {
    if (bn.training && bn.folded) dropFolded(bn);
    return bn.forward(conv.forward(x), fuse);
  }
  if (!bn.folded || !isCurrent(bn.folded, sources)) {
    dropFolded(bn);
    bn.folded = fold(conv, bn, sources);
  }
  const { weight, bias } = bn.folded;
  let y = F.conv2d(x, weight, bias, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups });
  if (fuse.residual) y = F.add(y, fuse.residual);
  return fuse.relu ? F.relu(y) : y;
}
