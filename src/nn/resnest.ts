// ResNeSt (Zhang et al. 2020) as the official implementation builds it: split-attention
// bottlenecks, deep stem, average-pool shortcut, AvgPool-based downsampling (avd) in the
// block. state_dict keys and shapes equal the official / timm `resnest50d` ones.
import { Tensor } from '../tensor.ts';
import { Rng } from '../rng.ts';
import * as F from '../functional.ts';
import { Module } from './module.ts';
import { BatchNorm2d, Container, Conv2d, Linear, convBn } from './layers.ts';

/** SplAtConv2d: grouped conv over R radix splits, then attention across the splits (spec 1.5). */
export class SplAtConv2d extends Module {
  readonly conv: Conv2d;
  readonly bn0: BatchNorm2d;
  readonly fc1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly fc2: Conv2d;

  constructor(inChannels: number, readonly channels: number, kernel: number, stride: number, padding: number,
    dilation: number, readonly cardinality: number, readonly radix: number, rng: Rng, reductionFactor = 4) {
    super();
    const inter = Math.max(Math.floor((inChannels * radix) / reductionFactor), 32);
    this.conv = this.registerModule('conv', new Conv2d(inChannels, channels * radix, kernel,
      { stride, padding, dilation, groups: cardinality * radix, rng }));
    this.bn0 = this.registerModule('bn0', new BatchNorm2d(channels * radix));
    this.fc1 = this.registerModule('fc1', new Conv2d(channels, inter, 1, { groups: cardinality, bias: true, rng }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inter));
    this.fc2 = this.registerModule('fc2', new Conv2d(inter, channels * radix, 1, { groups: cardinality, bias: true, rng }));
  }

  forward(x: Tensor): Tensor {
    const u = convBn(this.conv, this.bn0, x, { relu: true });
    const pooledSum = this.radix > 1 ? F.splitAttentionPool(u, this.radix) : F.adaptiveAvgPool2d(u, 1);
    const gate = this.fc2.forward(convBn(this.fc1, this.bn1, pooledSum, { relu: true }));
    const attention = F.rSoftmax(gate, this.radix, this.cardinality);
    return F.splitAttentionCombine(u, attention, this.radix);
  }
}

export interface ResNeStConfig {
  layers: [number, number, number, number];
  radix?: number;            // R, default 2
  cardinality?: number;      // K (`groups`), default 1
  bottleneckWidth?: number;  // default 64
  numClasses?: number;       // default 1000
  deepStem?: boolean;        // default true
  stemWidth?: number;        // default 32
  avgDown?: boolean;         // default true
  avd?: boolean;             // default true
  avdFirst?: boolean;        // default false
  planes?: [number, number, number, number]; // stage widths, default 64/128/256/512 (smaller for tests)
  seed?: number;             // weight initialisation
}

export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: SplAtConv2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Container | null;
  private readonly avdStride: number;

  constructor(inplanes: number, planes: number, stride: number, downsample: Container | null,
    cfg: Required<ResNeStConfig>, isFirst: boolean, rng: Rng) {
    super();
    const width = Math.floor(planes * (cfg.bottleneckWidth / 64)) * cfg.cardinality;
    const avd = cfg.avd && (stride > 1 || isFirst);
    this.avdStride = avd ? stride : 0;
    this.conv1 = this.registerModule('conv1', new Conv2d(inplanes, width, 1, { rng }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', new SplAtConv2d(width, width, 3, avd ? 1 : stride, 1, 1, cfg.cardinality, cfg.radix, rng));
    this.conv3 = this.registerModule('conv3', new Conv2d(width, planes * 4, 1, { rng }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
    this.avdFirst = cfg.avdFirst;
  }

  private readonly avdFirst: boolean;

  private avdPool(x: Tensor): Tensor {
    return F.avgPool2d(x, { kernelSize: 3, stride: this.avdStride, padding: 1, ceilMode: false, countIncludePad: true });
  }

  /** Conv and linear multiply-accumulates per image for an h x w input, and the output size. */
  macs(h: number, w: number): { macs: number; h: number; w: number } {
    const pool = (s: { h: number; w: number }) => (this.avdStride
      ? { h: Math.floor((s.h - 1) / this.avdStride) + 1, w: Math.floor((s.w - 1) / this.avdStride) + 1 } : s);
    let total = 0;
    let cur = this.conv1.macs(h, w);
    total += cur.macs;
    if (this.avdFirst) cur = { ...cur, ...pool(cur) };
    const c2 = this.conv2.conv.macs(cur.h, cur.w);
    total += c2.macs + this.conv2.fc1.macs(1, 1).macs + this.conv2.fc2.macs(1, 1).macs;
    let out = { h: c2.h, w: c2.w };
    if (!this.avdFirst) out = pool(out);
    total += this.conv3.macs(out.h, out.w).macs;
    if (this.downsample) {
      const conv = this.downsample.namedModules().find(([, m]) => m instanceof Conv2d)![1] as Conv2d;
      const stride = shortcutPools.get(this.downsample) ?? 1;
      const ph = stride > 1 ? Math.ceil(h / stride) : h, pw = stride > 1 ? Math.ceil(w / stride) : w;
      total += conv.macs(ph, pw).macs;
    }
    return { macs: total, h: out.h, w: out.w };
  }

  forward(x: Tensor): Tensor {
    let out = convBn(this.conv1, this.bn1, x, { relu: true });
    if (this.avdStride && this.avdFirst) out = this.avdPool(out);
    out = this.conv2.forward(out);
    if (this.avdStride && !this.avdFirst) out = this.avdPool(out);
    const shortcut = this.downsample ? forwardDownsample(this.downsample, x) : x;
    return convBn(this.conv3, this.bn3, out, { residual: shortcut, relu: true });
  }
}

// avg-down shortcut: [AvgPool2d(stride, ceil, no pad count)], Conv2d 1x1, BatchNorm2d (keys downsample.1/.2);
// plain shortcut: strided Conv2d 1x1, BatchNorm2d (keys downsample.0/.1).
const shortcutPools = new WeakMap<Container, number>();
function forwardDownsample(d: Container, x: Tensor): Tensor {
  const pool = shortcutPools.get(d) ?? 0;
  const entries = d.namedModules().filter(([n]) => n !== '' && !n.includes('.'));
  const conv = entries.find(([, m]) => m instanceof Conv2d)![1] as Conv2d;
  const bn = entries.find(([, m]) => m instanceof BatchNorm2d)![1] as BatchNorm2d;
  const pooled = pool > 1 ? F.avgPool2d(x, { kernelSize: pool, stride: pool, padding: 0, ceilMode: true, countIncludePad: false }) : x;
  return convBn(conv, bn, pooled);
}

function makeDownsample(inplanes: number, outplanes: number, stride: number, avgDown: boolean, rng: Rng): Container {
  const d = new Container();
  if (avgDown) {
    shortcutPools.set(d, stride);
    d.add('1', new Conv2d(inplanes, outplanes, 1, { rng }));
    d.add('2', new BatchNorm2d(outplanes));
  } else {
    d.add('0', new Conv2d(inplanes, outplanes, 1, { stride, rng }));
    d.add('1', new BatchNorm2d(outplanes));
  }
  return d;
}

export class ResNeSt extends Module {
  readonly config: Required<ResNeStConfig>;
  readonly conv1: Container | Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Container[] = [];
  readonly fc: Linear;
  private readonly stemConvs: Conv2d[] = [];
  private readonly stemNorms: BatchNorm2d[] = [];

  constructor(config: ResNeStConfig) {
    super();
    const cfg: Required<ResNeStConfig> = {
      radix: 2, cardinality: 1, bottleneckWidth: 64, numClasses: 1000, deepStem: true, stemWidth: 32,
      avgDown: true, avd: true, avdFirst: false, planes: [64, 128, 256, 512], seed: 0, ...config,
    };
    this.config = cfg;
    const rng = new Rng(cfg.seed);
    const sw = cfg.stemWidth;
    if (cfg.deepStem) {
      const stem = new Container();
      this.stemConvs.push(stem.add('0', new Conv2d(3, sw, 3, { stride: 2, padding: 1, rng })));
      this.stemNorms.push(stem.add('1', new BatchNorm2d(sw)));
      this.stemConvs.push(stem.add('3', new Conv2d(sw, sw, 3, { padding: 1, rng })));
      this.stemNorms.push(stem.add('4', new BatchNorm2d(sw)));
      this.stemConvs.push(stem.add('6', new Conv2d(sw, sw * 2, 3, { padding: 1, rng })));
      this.conv1 = this.registerModule('conv1', stem);
    } else {
      this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, rng }));
      this.stemConvs.push(this.conv1);
    }
    let inplanes = cfg.deepStem ? sw * 2 : 64;
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inplanes));
    cfg.planes.forEach((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const stage = new Container();
      const outplanes = planes * Bottleneck.expansion;
      const down = stride !== 1 || inplanes !== outplanes ? makeDownsample(inplanes, outplanes, stride, cfg.avgDown, rng) : null;
      // official ResNeSt: is_first is False for layer1 and True for the first block of layers 2-4
      stage.add('0', new Bottleneck(inplanes, planes, stride, down, cfg, i > 0, rng));
      inplanes = outplanes;
      for (let b = 1; b < cfg.layers[i]; b++) stage.add(String(b), new Bottleneck(inplanes, planes, 1, null, cfg, false, rng));
      this.stages.push(this.registerModule(`layer${i + 1}`, stage));
    });
    this.fc = this.registerModule('fc', new Linear(inplanes, cfg.numClasses, { rng }));
  }

  /** Image features before the classifier: [N, 2048] for ResNeSt-50. */
  features(x: Tensor): Tensor {
    if (x.shape.length !== 4 || x.shape[1] !== 3) throw new Error(`ResNeSt: input must be [N, 3, H, W], got [${x.shape}]`);
    if (x.shape[2] < 32 || x.shape[3] < 32) throw new Error(`ResNeSt: input [${x.shape}] is smaller than 32x32`);
    let h = x;
    if (this.config.deepStem) {
      h = convBn(this.stemConvs[0], this.stemNorms[0], h, { relu: true });
      h = convBn(this.stemConvs[1], this.stemNorms[1], h, { relu: true });
    }
    h = convBn(this.stemConvs[this.stemConvs.length - 1], this.bn1, h, { relu: true });
    h = F.maxPool2d(h, { kernelSize: 3, stride: 2, padding: 1 });
    for (const stage of this.stages) {
      for (const [name, block] of stage.namedModules()) if (name !== '' && !name.includes('.')) h = (block as Bottleneck).forward(h);
    }
    const pooled = F.adaptiveAvgPool2d(h, 1);
    return F.reshape(pooled, [pooled.shape[0], pooled.shape[1]]);
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }

  /** Multiply-accumulates of convolutions and the classifier for one h x w image (BN, pooling, softmax excluded). */
  macs(h: number, w: number): number {
    let total = 0;
    let cur = { h, w };
    for (const conv of this.stemConvs) { const r = conv.macs(cur.h, cur.w); total += r.macs; cur = r; }
    cur = { h: Math.floor((cur.h - 1) / 2) + 1, w: Math.floor((cur.w - 1) / 2) + 1 }; // max pool 3/2/1
    for (const stage of this.stages) {
      for (const [name, block] of stage.namedModules()) {
        if (name === '' || name.includes('.')) continue;
        const r = (block as Bottleneck).macs(cur.h, cur.w);
        total += r.macs;
        cur = r;
      }
    }
    return total + this.fc.inFeatures * this.fc.outFeatures;
  }
}

type ArchOptions = Omit<ResNeStConfig, 'layers'>;
export const resnest14 = (o: ArchOptions = {}) => new ResNeSt({ layers: [1, 1, 1, 1], ...o });
export const resnest26 = (o: ArchOptions = {}) => new ResNeSt({ layers: [2, 2, 2, 2], ...o });
export const resnest50 = (o: ArchOptions = {}) => new ResNeSt({ layers: [3, 4, 6, 3], ...o });
export const resnest101 = (o: ArchOptions = {}) => new ResNeSt({ layers: [3, 4, 23, 3], stemWidth: 64, ...o });
export const architectures = { resnest14, resnest26, resnest50, resnest101 } as const;
