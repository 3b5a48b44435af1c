// Roofline lower bound of a ResNeSt-50 training step on a named GPU, for our kernel sequence
// (dispatch counts taken from the real step, bench/model/capture.ts) beside PyTorch eager's
// (bench/model/resnest_ops.ts). Each kernel takes at least max(FLOPs / peak, bytes / bandwidth);
// each dispatch or launch adds its fixed cost, in series.
import type { GpuSpec } from './gpus.ts';
import { KERNEL_NOTES, KINDS, stepWork, type ConvShape, type Kind, type Work } from './resnest_ops.ts';
import type { Capture } from './capture.ts';

export interface KindBound { kind: Kind; flops: number; bytes: number; dispatches: number; ms: number }
export interface SideBound { kinds: KindBound[]; computeMs: number; overheadMs: number; totalMs: number; dispatches: number }
export interface StepModel {
  gpu: GpuSpec; size: number; batch: number; flops: number; params: number; largestTensorBytes: number;
  ours: SideBound; torchF32: SideBound; torchTf32: SideBound; convs: ConvShape[];
  /** where our dispatch counts come from */
  dispatchSource: string;
}

/** The kind of one of our dispatches, from its pipeline (shader:entry:constants) and label. */
export function kindOfDispatch(pipeline: string, label: string): Kind {
  const [shader, entry] = pipeline.split(':');
  // the shared sum-of-partials pass belongs to the op whose label it carries
  const owner = shader === 'partial_sum' ? label.split(/[\s_]/)[0] : shader;
  if (/^(conv2d|linear)/.test(owner)) {
    if (/bwd_weight|dW|\bdb\b|bwd_bias/.test(`${entry} ${label}`)) return 'conv dW';
    if (/bwd_input|dX/.test(`${entry} ${label}`)) return 'conv dX';
    return 'conv fwd';
  }
  if (owner.startsWith('batchnorm2d')) return /bwd/.test(`${shader} ${entry}`) ? 'batch norm bwd' : 'batch norm fwd';
  if (owner.startsWith('pool2d')) return 'pooling';
  if (owner.startsWith('split') || owner === 'rsoftmax') return 'split attention';
  if (owner === 'focal_loss' || /fill$/.test(entry)) return 'loss';
  if (/axpy/.test(entry)) return 'gradient accumulation';
  if (owner === 'sgd') return 'SGD';
  if (owner === 'elementwise') return 'ReLU and add';
  throw new Error(`model: no kind for the dispatch ${pipeline} "${label}"`);
}

function side(work: Work[], gpu: GpuSpec, peak: (w: Work) => number, perDispatchUs: number, counts?: Map<Kind, number>): SideBound {
  const kinds = KINDS.map((kind) => {
    const ws = work.filter((w) => w.kind === kind);
    return {
      kind,
      flops: ws.reduce((s, w) => s + w.flops, 0),
      bytes: ws.reduce((s, w) => s + w.bytes, 0),
      dispatches: counts ? counts.get(kind) ?? 0 : ws.reduce((s, w) => s + w.count, 0),
      ms: ws.reduce((s, w) => s + Math.max(w.flops / peak(w), w.bytes / gpu.bandwidth), 0) * 1e3,
    };
  });
  const computeMs = kinds.reduce((s, k) => s + k.ms, 0);
  const dispatches = kinds.reduce((s, k) => s + k.dispatches, 0);
  const overheadMs = (dispatches * perDispatchUs) / 1e3;
  return { kinds, computeMs, overheadMs, totalMs: computeMs + overheadMs, dispatches };
}

/** Kinds whose modelled dispatch count differs from the recorded one. */
export function dispatchMismatches(ours: Work[], capture: Capture): { kind: Kind; modelled: number; recorded: number }[] {
  const recorded = new Map<Kind, number>();
  for (const d of capture.dispatches) { const k = kindOfDispatch(d.pipeline, d.label); recorded.set(k, (recorded.get(k) ?? 0) + 1); }
  return KINDS.map((kind) => ({ kind, modelled: ours.filter((w) => w.kind === kind).reduce((s, w) => s + w.count, 0), recorded: recorded.get(kind) ?? 0 }))
    .filter((x) => x.modelled !== x.recorded);
}

export function modelStep(gpu: GpuSpec, size: number, batch: number, capture: Capture | null): StepModel {
  const w = stepWork(size, batch);
  let counts: Map<Kind, number> | undefined;
  let source = 'our dispatches per kind: as modelled (bench/model/resnest_ops.ts), not checked against a recording in this run';
  if (capture) {
    if (capture.size !== size || capture.batch !== batch) throw new Error(`model: capture is of ${capture.size}/${capture.batch}, not ${size}/${batch}`);
    counts = new Map();
    for (const d of capture.dispatches) { const k = kindOfDispatch(d.pipeline, d.label); counts.set(k, (counts.get(k) ?? 0) + 1); }
    const off = dispatchMismatches(w.ours, capture);
    source = `our dispatches per kind: those of the real step, recorded at this size and batch (bench/model/capture.ts, ${capture.dispatches.length} dispatches); ` +
      (off.length ? `the model's own count differs for ${off.map((x) => `${x.kind} (modelled ${x.modelled}, recorded ${x.recorded})`).join(', ')}`
        : 'the model\'s own count agrees for every kind');
  }
  return {
    gpu, size, batch, params: w.params, largestTensorBytes: w.largestTensorBytes, convs: w.convs,
    flops: w.ours.reduce((s, x) => s + x.flops, 0),
    ours: side(w.ours, gpu, () => gpu.fp32, gpu.dispatchUs, counts),
    torchF32: side(w.torch, gpu, () => gpu.fp32, gpu.launchUs),
    torchTf32: side(w.torch, gpu, (x) => (x.gemm ? gpu.tf32 : gpu.fp32), gpu.launchUs),
    dispatchSource: source,
  };
}

const f = (x: number, d = 2) => (x >= 100 ? x.toFixed(0) : x.toFixed(d));
const gb = (b: number) => f(b / 1e9);

/** One GPU's tables for the modelled sizes, as markdown. */
export function modelMarkdown(models: StepModel[]): string {
  const g = models[0].gpu;
  const lines = [
    `#### ${g.name}`,
    '',
    `f32 ${f(g.fp32 / 1e12, 1)} TFLOP/s, TF32 tensor cores ${f(g.tf32 / 1e12, 1)} TFLOP/s, ${f(g.bandwidth / 1e9, 0)} GB/s; ` +
      `ridge point ${f(g.fp32 / g.bandwidth, 1)} FLOP/byte (f32), ${f(g.tf32 / g.bandwidth, 1)} (TF32). ` +
      `Assumed fixed costs: ${g.dispatchUs} µs per WebGPU dispatch, ${g.launchUs} µs per PyTorch kernel launch. Source: ${g.source}.`,
  ];
  for (const m of models) {
    lines.push('', `ResNeSt-50 training step, ${m.size} x ${m.size}, batch ${m.batch}: ${f(m.flops / 1e12, 2)} TFLOP ` +
      `(convolutions and matrix products), ${(m.params / 1e6).toFixed(2)} M parameters, largest tensor ${f(m.largestTensorBytes / 2 ** 20, 0)} MiB. ${m.dispatchSource}.`, '');
    lines.push('| kernel kind | GFLOP | ours: GB | ours: dispatches | ours: bound ms | PyTorch: GB | PyTorch: kernels | PyTorch f32: bound ms | PyTorch TF32: bound ms |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    m.ours.kinds.forEach((o, i) => {
      const t = m.torchF32.kinds[i], t32 = m.torchTf32.kinds[i];
      if (!o.dispatches && !t.dispatches) return;
      lines.push(`| ${o.kind} | ${f(o.flops / 1e9, 1)} | ${gb(o.bytes)} | ${o.dispatches} | ${f(o.ms, 3)} | ${gb(t.bytes)} | ${t.dispatches} | ${f(t.ms, 3)} | ${f(t32.ms, 3)} |`);
    });
    const sum = (s: typeof m.ours) => s.kinds.reduce((a, k) => a + k.bytes, 0);
    lines.push(`| **kernels** | ${f(m.flops / 1e9, 1)} | ${gb(sum(m.ours))} | ${m.ours.dispatches} | ${f(m.ours.computeMs, 2)} | ${gb(sum(m.torchF32))} | ${m.torchF32.dispatches} | ${f(m.torchF32.computeMs, 2)} | ${f(m.torchTf32.computeMs, 2)} |`);
    lines.push(`| fixed cost per dispatch / launch | | | | ${f(m.ours.overheadMs, 2)} | | | ${f(m.torchF32.overheadMs, 2)} | ${f(m.torchTf32.overheadMs, 2)} |`);
    lines.push(`| **step, lower bound** | | | | **${f(m.ours.totalMs, 2)}** | | | **${f(m.torchF32.totalMs, 2)}** | **${f(m.torchTf32.totalMs, 2)}** |`);
    lines.push(`| images/s at the bound | | | | ${f((1e3 * m.batch) / m.ours.totalMs, 0)} | | | ${f((1e3 * m.batch) / m.torchF32.totalMs, 0)} | ${f((1e3 * m.batch) / m.torchTf32.totalMs, 0)} |`);
  }
  return lines.join('\n');
}

/**
 * Arithmetic intensity (FLOP per minimum byte) of every distinct convolution of the step. Its
 * forward, dX and dW do the same FLOPs and touch the same three tensors once each, so the
 * three passes share one figure; which of the GPUs it falls below the f32 ridge point of is shown.
 */
export function intensityMarkdown(m: StepModel, gpus: GpuSpec[]): string {
  const lines = [`Arithmetic intensity of the convolutions at ${m.size} x ${m.size}, batch ${m.batch}: FLOP per byte of input, weight and output ` +
    'read or written once, the same for forward, dX and dW (same FLOPs, same three tensors; the stem\'s first convolution has no dX). ' +
    'A pass below a GPU\'s f32 ridge point (peak / bandwidth) is memory-bound there.', '',
    '| convolution | x | weight | groups | stride | count | MFLOP per pass | FLOP/byte | memory-bound (f32) on |', '|---|---|---|---:|---:|---:|---:|---:|---|'];
  const groups = new Map<string, { s: ConvShape; names: string[] }>();
  for (const s of m.convs) {
    const key = [s.c, s.h, s.co, s.k, s.stride, s.groups].join(',');
    const e = groups.get(key);
    if (e) e.names.push(s.name); else groups.set(key, { s, names: [s.name] });
  }
  for (const { s, names } of groups.values()) {
    const x = s.n * s.c * s.h * s.w, y = s.n * s.co * s.ho * s.wo, wt = (s.co * s.c / s.groups) * s.k * s.k;
    const flops = 2 * s.n * s.ho * s.wo * s.co * (s.c / s.groups) * s.k * s.k;
    const ai = flops / (4 * (x + y + wt));
    const bound = gpus.filter((g) => ai < g.fp32 / g.bandwidth).map((g) => g.short);
    const label = names.length > 1 ? `${names[0]} and ${names.length - 1} more` : names[0];
    lines.push(`| ${label} | [${s.n},${s.c},${s.h},${s.w}] | [${s.co},${s.c / s.groups},${s.k},${s.k}] | ${s.groups} | ${s.stride} | ${names.length} | ` +
      `${f(flops / 1e6, 1)} | ${f(ai, 1)} | ${bound.join(', ') || 'none'} |`);
  }
  return lines.join('\n');
}

export const ASSUMPTIONS = [
  'Each kernel takes at least max(FLOPs / peak, bytes / bandwidth): its FLOPs at the card\'s datasheet peak and its minimum bytes (each operand read or written once per kernel) at the datasheet bandwidth. Real kernels reach 50-80% of either at best, so the bound is optimistic for both sides alike.',
  'Our kernels are WGSL: no tensor cores, so their FLOPs count against the f32 peak. PyTorch is shown in strict f32 (the like-for-like peer; `allow_tf32 = False`) and with TF32 tensor cores for the convolutions and matrix products (its default for cuDNN convolutions on NVIDIA).',
  'Dispatches and launches each add a fixed cost in series (the GPU table\'s assumed figures; the device kit measures the WebGPU one). PyTorch eager launches asynchronously, so its host cost can hide behind long kernels: adding it is a lower bound only where the step is launch-bound.',
  'Our kernel sequence is the one an untuned hardware adapter runs: conv2d v2 (implicit GEMM, one dispatch per forward and dX, a split-K dW plus its reduction), the attention MLP and classifier on the matmul kernels (v4), batch norm in statistics / finalize / apply passes with ReLU and the residual fused, the radix sum fused into the attention pool, SGD as one pass per parameter group over the flat parameter buffer. Our dispatch counts are those of the real step, recorded at the modelled size and batch without running it; after autotuning a GPU may pick other versions, which changes the counts by a few percent.',
  'No batch chunking: the largest tensor is far below the binding limit of these GPUs (WebGPU on them allows bindings of at least 1 GiB), so every per-sample pass is one dispatch.',
  ...KERNEL_NOTES.map((n) => `PyTorch: ${n}.`),
];
