// The device kit's benchmark cases (no peers in this process; PyTorch CUDA runs beside it from
// run.sh): every convolution pass at ResNeSt-50's distinct shapes, validated against the f64
// reference on sampled outputs, the step's matrix products on every matmul version, the layer1
// bottleneck block forward + backward, and the training step. Sizes are parameters so that run.sh's quick mode can try the kit on a CPU adapter.
import type { BenchCase } from '../harness.ts';
import { F, gpu, nn, Rng, Tensor, tidy } from '../../src/index.ts';
import { trainStepCase } from '../train_step.ts';
import { benchedChoices, matmulCase } from '../linear.bench.ts';
import { stepWork } from '../model/resnest_ops.ts';
import {
  conv2dBackwardInput, conv2dBackwardWeight, conv2dBwdInputAt, conv2dBwdWeightAt, conv2dForward, conv2dFwdAt,
  conv2dMacs, conv2dVersion, conv2dVersions, runs, type Conv2dGeometry, type MatmulOptions,
} from '../../src/kernels.ts';

const fill = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 0.9);

/** 48 sampled values against the f64 reference; the tolerance grows with the length of the sum (float32 accumulation). */
function checkSampled(what: string, got: Float32Array, at: (i: number) => number, terms: number): void {
  for (let s = 0; s < 48; s++) {
    const i = Math.floor((((s * 2654435761) % 4294967296) / 4294967296) * got.length);
    const want = at(i);
    if (!(Math.abs(got[i] - want) <= 1e-4 + 2e-6 * terms + 1e-4 * Math.abs(want))) throw new Error(`${what}[${i}] = ${got[i]}, want ${want}`);
  }
}

/** The distinct convolutions of the ResNeSt-50 step at `size` x `size`, batch `batch`, as geometries. */
export function stepConvolutions(size: number, batch: number): { name: string; g: Conv2dGeometry; inputGrad: boolean }[] {
  const seen = new Set<string>();
  const out: { name: string; g: Conv2dGeometry; inputGrad: boolean }[] = [];
  for (const s of stepWork(size, batch).convs) {
    const key = [s.c, s.h, s.co, s.k, s.stride, s.groups].join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: s.name, inputGrad: s.inputGrad,
      g: F.conv2dGeometry([s.n, s.c, s.h, s.w], [s.co, s.c / s.groups, s.k, s.k], null, { stride: s.stride, padding: s.pad, groups: s.groups }) });
  }
  return out;
}

/**
 * Every convolution's passes with the version each op is tuned to; or, given `forced`, the named
 * convolutions with every version in that list able to run them (the versions side by side).
 */
export function convCases(size: number, batch: number, limit = Infinity, forced?: { names: string[]; versions: string[] }): BenchCase[] {
  const convs = stepConvolutions(size, batch);
  if (!forced) return convs.slice(0, limit).flatMap((c) => passCases(c));
  return convs.filter((c) => forced.names.includes(c.name))
    .flatMap((c) => forced.versions.filter((v) => v in conv2dVersions && runs(conv2dVersions[v], c.g, gpu().adapter, 'fwd')).flatMap((v) => passCases(c, v)));
}

function passCases({ name, g, inputGrad }: { name: string; g: Conv2dGeometry; inputGrad: boolean }, version?: string): BenchCase[] {
  const list: BenchCase[] = [];
  let t: Tensor[] | null = null;
  const x = fill(g.n * g.c * g.h * g.w, 1), w = fill(g.co * (g.c / g.groups) * g.kh * g.kw, 2), dy = fill(g.n * g.co * g.ho * g.wo, 3);
  const tensors = () => (t ??= [Tensor.fromArray(x, [g.n, g.c, g.h, g.w]), Tensor.fromArray(w, [g.co, g.c / g.groups, g.kh, g.kw]),
    Tensor.fromArray(dy, [g.n, g.co, g.ho, g.wo]), Tensor.empty([g.n, g.co, g.ho, g.wo], 'y'), Tensor.empty([g.n, g.c, g.h, g.w], 'dx'),
    Tensor.empty([g.co, g.c / g.groups, g.kh, g.kw], 'dw')]);
  const macs = conv2dMacs(g);
  const ops = inputGrad ? (['fwd', 'dX', 'dW'] as const) : (['fwd', 'dW'] as const);
  ops.forEach((op, i) => {
    const kernelOp = op === 'fwd' ? 'fwd' : op === 'dX' ? 'bwd_input' : 'bwd_weight';
    const record = () => {
      const [tx, tw, tdy, ty, tdx, tdw] = tensors();
      if (op === 'fwd') conv2dForward(g, tx.binding, tw.binding, null, ty.binding, { version });
      else if (op === 'dX') conv2dBackwardInput(g, tdy.binding, tw.binding, tdx.binding, { version });
      else conv2dBackwardWeight(g, tx.binding, tdy.binding, tdw.binding, { version });
    };
    list.push({
      family: version ? 'conv2d versions' : 'conv2d',
      name: `${name} ${g.c}->${g.co} ${g.kh}x${g.kw}${g.sh > 1 ? ` s${g.sh}` : ''}${g.groups > 1 ? ` g${g.groups}` : ''} @${g.h} ${op} ${version ?? conv2dVersion(kernelOp, g)}`,
      flops: 2 * macs,
      record,
      validate: async () => {
        record();
        const [, , , ty, tdx, tdw] = tensors();
        if (op === 'fwd') checkSampled('y', await ty.toArray(), (k) => conv2dFwdAt(g, x, w, k), macs / (g.n * g.co * g.ho * g.wo));
        if (op === 'dX') checkSampled('dx', await tdx.toArray(), (k) => conv2dBwdInputAt(g, dy, w, k), macs / (g.n * g.c * g.h * g.w));
        if (op === 'dW') checkSampled('dw', await tdw.toArray(), (k) => conv2dBwdWeightAt(g, x, dy, k), g.n * g.ho * g.wo);
      },
      // the tensors serve the shape's three passes: freed after the last
      dispose: () => { if (i === ops.length - 1) { for (const tt of t ?? []) tt.dispose(); t = null; } },
    });
  });
  return list;
}

/**
 * The step's matrix products with every matmul choice able to run them (on a GPU, every tile of
 * v4; elsewhere each version's defaults), validated against the f64 reference on their first
 * rows: the 40-attribute head's forward, dX and dW at `batch`, and layer3's split-attention fc2
 * (a 1x1 convolution of 1x1 maps, 128 -> 512 channels) forward.
 */
export function matmulCases(batch: number): BenchCase[] {
  const shapes: [string, MatmulOptions][] = [
    [`head forward [${batch},2048]x[40,2048]^T`, { M: batch, N: 40, K: 2048, transB: true }],
    [`head dX [${batch},40]x[40,2048]`, { M: batch, N: 2048, K: 40 }],
    [`head dW [${batch},40]^Tx[${batch},2048]`, { M: 40, N: 2048, K: batch, transA: true }],
    [`layer3 fc2 [${batch},128]x[512,128]^T`, { M: batch, N: 512, K: 128, transB: true }],
  ];
  return shapes.flatMap(([name, o]) => benchedChoices(o).map((version) => matmulCase(name, { ...o, version }, 'matmul versions')));
}

/** layer1's split-attention bottleneck (256 -> 64 -> 256 channels), forward and backward through the tape. */
export function blockCase(batch: number, side: number): BenchCase {
  const cfg: Required<nn.ResNeStConfig> = {
    layers: [3, 4, 6, 3], radix: 2, cardinality: 1, bottleneckWidth: 64, numClasses: 1000, deepStem: true, stemWidth: 32,
    avgDown: true, avd: true, avdFirst: false, planes: [64, 128, 256, 512], seed: 0,
  };
  const block = new nn.Bottleneck(256, 64, 1, null, cfg, false, new Rng(7));
  const rng = new Rng(3);
  const x = Tensor.fromArray(Float32Array.from({ length: batch * 256 * side * side }, () => rng.normal()), [batch, 256, side, side], { requiresGrad: true });
  const dy = Tensor.fromArray(Float32Array.from({ length: batch * 256 * side * side }, () => rng.normal()), [batch, 256, side, side]);
  const run = async () => {
    const y = tidy(() => block.forward(x));
    y.backward(dy);
    y.dispose();
    for (const t of [x, ...block.parameters()]) { t.grad?.dispose(); t.grad = null; }
    await gpu().recorder.sync();
  };
  return {
    family: 'bottleneck',
    name: `layer1 block [${batch},256,${side},${side}] fwd+bwd`,
    flops: 3 * 2 * block.macs(side, side).macs * batch,
    validate: async () => {
      const y = tidy(() => block.forward(x));
      y.backward(dy);
      const grad = await x.grad!.toArray();
      y.dispose();
      for (const t of [x, ...block.parameters()]) { t.grad?.dispose(); t.grad = null; }
      if (!grad.every(Number.isFinite) || !grad.some((v) => v !== 0)) throw new Error('input gradient is not finite and non-zero');
    },
    runWall: run,
    warmup: 2,
    repeats: 5,
    dispose: () => { x.dispose(); dy.dispose(); block.dispose(); },
  };
}

export function stepCase(arch: string, size: number, batch: number, repeats: number): BenchCase {
  return trainStepCase(arch, size, batch, { repeats, warmup: 2 });
}
