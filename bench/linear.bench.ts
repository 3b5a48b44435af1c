// Linear / matmul: the CelebA head (2048 -> 40) forward and both backward products, a 1x1
// convolution as a batched GEMM, and a square product, for each kernel version: every choice
// (tile parameters) of the versions this adapter may pick, the defaults of the others (on a CPU
// adapter, the GPU-shaped v3, v4 and v5 run once each, forced).
import type { BenchCase } from './harness.ts';
import { gpu, Tensor } from '../src/index.ts';
import { matmulCpu, matmulFamily, matmulFlops, matmulForward, parseChoice, type MatmulOptions, usableChoices } from '../src/kernels.ts';

function operandSizes(o: MatmulOptions): [number, number, number] {
  const batch = o.batch ?? 1;
  const span = (stride: number | undefined, one: number) => Math.max(one, (batch - 1) * (stride ?? 0) + one);
  return [span(o.strideA, o.M * o.K), span(o.strideB, o.K * o.N), span(o.strideOut, o.M * o.N)];
}

export function matmulCase(name: string, o: MatmulOptions, family = 'linear'): BenchCase {
  const [sa, sb, so] = operandSizes(o);
  const a = Float32Array.from({ length: sa }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: sb }, (_, i) => Math.cos(i * 0.11));
  const ta = Tensor.fromArray(a, [sa]), tb = Tensor.fromArray(b, [sb]), tout = Tensor.empty([so], 'bench matmul out');
  const record = () => matmulForward(ta.binding, tb.binding, tout.binding, o, name);
  return {
    family, name: `${name} ${o.version}`, version: o.version, flops: matmulFlops(o), record,
    validate: async () => {
      record();
      const got = await tout.toArray();
      if (o.transA) return; // A's [K, M] layout does not slice by rows; the tests cover it
      // a reference of the first batch's first rows only: the full f64 product is slow in JS
      const rows = Math.min(o.M, 8);
      const want = matmulCpu(a, b, { ...o, M: rows, batch: 1 });
      for (let i = 0; i < want.length; i++) {
        if (Math.abs(got[i] - want[i]) > 1e-3 + 1e-4 * Math.abs(want[i])) throw new Error(`${name}[${i}] = ${got[i]}, want ${want[i]}`);
      }
    },
    dispose: () => { for (const t of [ta, tb, tout]) t.dispose(); },
  };
}

/** The choices that can run the product: all of an automatic version's tile parameters, the defaults of the others. */
export function benchedChoices(o: MatmulOptions): string[] {
  const adapter = gpu().adapter;
  return usableChoices(matmulFamily, o).filter((id) => {
    const c = parseChoice(matmulFamily, id);
    return c.id === c.version || (matmulFamily.versions[c.version].automatic?.(o, adapter) ?? true);
  });
}

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const B = opts.quick ? 64 : 256;
  const spatial = opts.quick ? 14 * 14 : 28 * 28;
  const shapes: [string, MatmulOptions][] = [
    [`head forward [${B},2048]x[40,2048]^T`, { M: B, N: 40, K: 2048, transB: true }],
    [`head dX [${B},40]x[40,2048]`, { M: B, N: 2048, K: 40 }],
    [`head dW [${B},40]^Tx[${B},2048]`, { M: 40, N: 2048, K: B, transA: true }],
    // layer2 conv3 as a 1x1 convolution: W [512, 128] x X[n] [128, H*W], 8 images
    [`1x1 conv 128->512 over 8x${spatial}px`, { M: 512, N: spatial, K: 128, batch: 8, strideA: 0, strideB: 128 * spatial, strideOut: 512 * spatial }],
    ['square 512^3', { M: 512, N: 512, K: 512 }],
  ];
  const list: BenchCase[] = [];
  for (const [name, o] of shapes) {
    for (const version of benchedChoices(o)) list.push(matmulCase(name, { ...o, version }));
  }
  return list;
}
