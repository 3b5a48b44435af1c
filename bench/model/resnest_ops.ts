// The work of one ResNeSt training step (forward, sigmoid focal loss, backward, SGD with
// momentum), walked from the architecture the way src/nn/resnest.ts builds it, as two
// kernel sequences with their FLOPs and minimum bytes:
//   ours   the passes our kernel families run (batch norm fused with ReLU and the residual add,
//          radix sum fused into the attention pool, one SGD pass over the flat parameters,
//          conv and batch-norm kernels adding their parameter gradients into .grad, the fc's
//          added by the tape);
//   torch  PyTorch eager on CUDA with cuDNN running timm's resnest50d (assumptions in KERNEL_NOTES).
// Bytes are what each kernel must read and write once (f32, int64 for max-pool indices);
// reading a tensor twice in two passes counts twice. FLOPs are counted for convolutions and
// matrix products only (2 per multiply-accumulate); the other kernels do a few per element,
// under 1% of their memory time at any of the modelled GPUs' ridge points.
import { SA_TARGET_THREADS } from '../../src/kernels.ts';

export type Kind = 'conv fwd' | 'conv dX' | 'conv dW' | 'batch norm fwd' | 'batch norm bwd' | 'ReLU and add'
  | 'pooling' | 'split attention' | 'loss' | 'gradient accumulation' | 'SGD';

export const KINDS: readonly Kind[] = ['conv fwd', 'conv dX', 'conv dW', 'batch norm fwd', 'batch norm bwd', 'ReLU and add',
  'pooling', 'split attention', 'loss', 'gradient accumulation', 'SGD'];

/** One or more kernels of one kind: `count` launches moving `bytes` and doing `flops` in all. */
export interface Work { kind: Kind; flops: number; bytes: number; count: number; gemm: boolean }

export interface ConvShape {
  name: string; n: number; c: number; h: number; w: number; co: number; k: number; stride: number; pad: number;
  groups: number; ho: number; wo: number; bias: boolean; inputGrad: boolean;
}

export interface StepWork { ours: Work[]; torch: Work[]; convs: ConvShape[]; params: number; largestTensorBytes: number }

export const KERNEL_NOTES = [
  'cuDNN runs each convolution pass (forward, dX, dW) as one kernel, and the attention MLP and classifier as one GEMM each; a bias gradient is one more reduction kernel',
  'batch norm is cuDNN\'s: forward reads its input twice (statistics, then normalise) and writes once; backward reads input and gradient twice and writes once',
  'PyTorch eager fuses nothing else: ReLU (in place) and the residual add are kernels of their own, and their backward too (threshold_backward; the add\'s gradient is the incoming one)',
  'timm\'s SplitAttn: radix sum, mean, fc1, bn1, ReLU, fc2, rSoftMax (transpose + softmax), multiply by the attention, sum over the radix; backward mirrors it',
  'max pooling writes int64 indices beside its output; its backward zero-fills then scatters',
  'zero_grad(set_to_none=True): the first gradient of each parameter is written, not accumulated; fan-out (block inputs, the split tensor) is summed by one add kernel each (ours: conv1\'s dX and the attention pool\'s backward add into the gradient gathered so far)',
  'SGD with foreach (the CUDA default): weight decay, momentum and update as 4 multi-tensor passes per group, about 20 launches in all; reads and writes every parameter-sized tensor once per pass',
  'the focal loss is torchvision\'s sigmoid_focal_loss composed of elementwise ops: about 14 kernels forward and 20 backward on a [batch, 40] tensor',
];

const F32 = 4;

interface Cfg { layers: [number, number, number, number]; radix: number; stemWidth: number; planes: [number, number, number, number]; classes: number }
export const RESNEST50: Cfg = { layers: [3, 4, 6, 3], radix: 2, stemWidth: 32, planes: [64, 128, 256, 512], classes: 40 };

const outSize = (h: number, k: number, s: number, p: number) => Math.floor((h + 2 * p - k) / s) + 1;

/** The step's work at `size` x `size`, batch `n`. */
export function stepWork(size: number, n: number, cfg: Cfg = RESNEST50): StepWork {
  const ours: Work[] = [], torch: Work[] = [], convs: ConvShape[] = [];
  let params = 0, largest = 0;
  const add = (list: Work[], kind: Kind, bytes: number, count = 1, flops = 0, gemm = false) => list.push({ kind, flops, bytes, count, gemm });
  const both = (kind: Kind, bytes: number, flops = 0, gemm = false, oursCount = 1) => { add(ours, kind, bytes, oursCount, flops, gemm); add(torch, kind, bytes, 1, flops, gemm); };
  const seen = (elements: number) => { largest = Math.max(largest, elements * F32); };

  const conv = (name: string, c: number, h: number, co: number, k: number, stride: number, pad: number, groups: number,
    o: { bias?: boolean; inputGrad?: boolean } = {}) => {
    const ho = outSize(h, k, stride, pad);
    const s: ConvShape = { name, n, c, h, w: h, co, k, stride, pad, groups, ho, wo: ho, bias: o.bias ?? false, inputGrad: o.inputGrad ?? true };
    convs.push(s);
    const x = n * c * h * h, y = n * co * ho * ho, wt = (co * c / groups) * k * k;
    const flops = 2 * n * ho * ho * co * (c / groups) * k * k;
    params += wt + (s.bias ? co : 0);
    seen(x); seen(y);
    // 1x1 convolutions of 1x1 maps run as one GEMM (conv2d v4); the others as conv2d v2, whose dW adds a reduction
    const gemmOnly = k === 1 && h === 1 && groups === 1;
    both('conv fwd', F32 * (x + wt + y + (s.bias ? co : 0)), flops, true);
    if (s.inputGrad) both('conv dX', F32 * (y + wt + x), flops, true);
    // ours adds dW into .grad (reads it too); torch writes the first one (zero_grad(set_to_none))
    add(ours, 'conv dW', F32 * (x + y + 2 * wt), gemmOnly ? 1 : 2, flops, true); add(torch, 'conv dW', F32 * (x + y + wt), 1, flops, true);
    if (s.bias) { add(ours, 'conv dW', F32 * (y + 2 * co)); add(torch, 'conv dW', F32 * (y + co)); }
    return ho;
  };
  /** Training-mode batch norm, optionally with the residual add and ReLU after it (fused in ours). */
  const bn = (c: number, h: number, relu: boolean, residual = false) => {
    const e = n * c * h * h;
    params += 2 * c;
    // statistics, finalize, apply; backward: reduce, finalize, dx
    add(ours, 'batch norm fwd', F32 * (2 * e + (residual ? e : 0) + e), 3);
    add(ours, 'batch norm bwd', F32 * ((relu ? 7 * e : 5 * e) + 2 * c), 3); // + reading the .grads it adds into
    add(torch, 'batch norm fwd', F32 * 3 * e);
    add(torch, 'batch norm bwd', F32 * 5 * e);
    if (residual) add(torch, 'ReLU and add', F32 * 3 * e);
    if (relu) { add(torch, 'ReLU and add', F32 * 2 * e); add(torch, 'ReLU and add', F32 * 3 * e); }
  };
  // a tensor feeding two ops: torch sums its two gradients with an add; ours has the second
  // backward add into the first's (its kernel reads the gradient too: the bytes, no dispatch)
  const fanOut = (e: number, oursKind: Kind) => { add(torch, 'gradient accumulation', F32 * 3 * e); add(ours, oursKind, F32 * e, 0); };
  const avgPool = (c: number, h: number, k: number, s: number, p: number, ceil: boolean) => {
    const ho = ceil ? Math.ceil((h + 2 * p - k) / s) + 1 : outSize(h, k, s, p);
    const i = n * c * h * h, o = n * c * ho * ho;
    both('pooling', F32 * (i + o)); both('pooling', F32 * (i + o));
    return ho;
  };

  // deep stem: conv-bn-relu x 2, conv, bn1, relu, max pool 3/2/1
  const sw = cfg.stemWidth;
  let h = conv('stem.0', 3, size, sw, 3, 2, 1, 1, { inputGrad: false }); bn(sw, h, true);
  h = conv('stem.3', sw, h, sw, 3, 1, 1, 1); bn(sw, h, true);
  h = conv('stem.6', sw, h, 2 * sw, 3, 1, 1, 1); bn(2 * sw, h, true);
  {
    const ho = outSize(h, 3, 2, 1), i = n * 2 * sw * h * h, o = n * 2 * sw * ho * ho;
    add(ours, 'pooling', F32 * (i + o)); add(ours, 'pooling', F32 * (2 * i + o));
    add(torch, 'pooling', F32 * (i + o) + 8 * o); add(torch, 'pooling', F32 * (o + i) + 8 * o + F32 * i, 2);
    h = ho;
  }
  let inplanes = 2 * sw;
  cfg.planes.forEach((planes, stage) => {
    for (let b = 0; b < cfg.layers[stage]; b++) {
      const name = `layer${stage + 1}.${b}`;
      const stride = b === 0 && stage > 0 ? 2 : 1, isFirst = b === 0 && stage > 0;
      const width = planes, out = planes * 4, R = cfg.radix;
      const hin = h;
      fanOut(n * inplanes * hin * hin, 'conv dX'); // the block input feeds conv1 (its dX adds) and the shortcut
      conv(`${name}.conv1`, inplanes, hin, width, 1, 1, 0, 1); bn(width, hin, true);
      const avd = stride > 1 || isFirst;
      const hs = conv(`${name}.conv2.conv`, width, hin, width * R, 3, avd ? 1 : stride, 1, R); bn(width * R, hs, true);
      splitAttention(name, width, hs, R);
      const hout = avd && stride > 1 ? avgPool(width, hs, 3, stride, 1, false) : hs;
      conv(`${name}.conv3`, width, hout, out, 1, 1, 0, 1);
      if (b === 0) { // avg-down shortcut
        const hp = stride > 1 ? avgPool(inplanes, hin, stride, stride, 0, true) : hin;
        conv(`${name}.downsample.1`, inplanes, hp, out, 1, 1, 0, 1); bn(out, hp, false);
      }
      bn(out, hout, true, true);
      inplanes = out; h = hout;
    }
  });
  // global average pool, classifier, loss
  both('pooling', F32 * (n * inplanes * h * h + n * inplanes)); both('pooling', F32 * (n * inplanes * h * h + n * inplanes));
  const fcFlops = 2 * n * inplanes * cfg.classes, fcBytes = F32 * (n * inplanes + inplanes * cfg.classes + n * cfg.classes);
  params += inplanes * cfg.classes + cfg.classes;
  both('conv fwd', fcBytes, fcFlops, true); both('conv dX', fcBytes, fcFlops, true); both('conv dW', fcBytes, fcFlops, true);
  both('conv dW', F32 * (n * cfg.classes + cfg.classes));
  const logits = n * cfg.classes;
  // loss and gradient in one pass, its mean, the backward's seed (a fill), the gradient's scale
  add(ours, 'loss', F32 * 4 * logits); add(ours, 'loss', F32 * logits); add(ours, 'loss', F32); add(ours, 'loss', F32 * 3 * logits);
  add(torch, 'loss', F32 * 30 * logits, 14); add(torch, 'loss', F32 * 45 * logits, 20);
  // the fc's weight and bias gradients are added into .grad by the tape in ours (torch writes the first one)
  add(ours, 'gradient accumulation', F32 * 3 * (inplanes * cfg.classes + cfg.classes), 2);
  add(ours, 'SGD', F32 * 5 * params, 2); // one pass per parameter group (weights with decay; biases and norms without)
  add(torch, 'SGD', F32 * 11 * params, 20);
  return { ours, torch, convs, params, largestTensorBytes: largest };

  function splitAttention(name: string, channels: number, hs: number, R: number) {
    const eu = n * R * channels * hs * hs, ec = n * channels * hs * hs, small = n * R * channels;
    const inter = Math.max(Math.floor((channels * R) / 4), 32);
    fanOut(eu, 'split attention'); // the split tensor feeds the pool (its broadcast adds) and the combine
    // ours: fused radix-sum pool, rSoftmax, combine; backward: combine, rSoftmax, pool broadcast
    // the pool sums its plane in T partial threads, then a segment sum, when the batch is too small to fill the GPU otherwise
    const hw = hs * hs, hwUnits = hw % 4 === 0 ? hw / 4 : hw;
    const partials = Math.max(1, Math.min(hwUnits, 256, Math.ceil(SA_TARGET_THREADS / (n * channels))));
    add(ours, 'split attention', F32 * (eu + n * channels), partials > 1 ? 2 : 1); add(ours, 'split attention', F32 * 2 * small);
    add(ours, 'split attention', F32 * (eu + small + ec));
    add(ours, 'split attention', F32 * (eu + small + ec + eu + small), partials > 1 ? 2 : 1); add(ours, 'split attention', F32 * 3 * small);
    add(ours, 'split attention', F32 * (n * channels + eu));
    // timm: sum over radix, mean, rSoftMax (2), x * attn, sum; backward: mul grads (2), softmax (2), mean and sum expansions (2)
    add(torch, 'split attention', F32 * (eu + ec + ec + n * channels + 2 * small + 2 * eu + small + eu + ec), 6);
    add(torch, 'split attention', F32 * (ec + small + eu + 2 * eu + small + 3 * small + n * channels + ec), 6);
    conv(`${name}.conv2.fc1`, channels, 1, inter, 1, 1, 0, 1, { bias: true }); bn(inter, 1, true);
    conv(`${name}.conv2.fc2`, inter, 1, channels * R, 1, 1, 0, 1, { bias: true });
  }
}
