// conv2d v5 and v6 (kernels/conv2d_gemm.ts): forward, dX and dW against the f64 reference for every
// stride / padding / dilation / groups case, with several tile shapes given as v5's parameters
// (test/kernels/versions.test.ts forces every offered combination through the version contract),
// outputs that do not fill whole tiles, a batch chunk bound past its buffer's start, and dW accumulating.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import { conv2dGeometry, type Conv2dOptions } from '../../src/ops/conv2d.ts';
import { conv2dBwdInputCpu, conv2dBwdWeightCpu, conv2dFwdCpu } from '../../kernels/conv2d.ts';
import {
  bwdInputGemm, bwdWeightGemm, bwdWeightSubgroups, fwdGemm, gemmTile, hasSubgroups, type GemmTile,
} from '../../kernels/conv2d_gemm.ts';
import { assertClose, randomArray, setupGpu } from '../helpers.ts';

// f32 sums of up to a few hundred products of values in [-1, 1] against f64: 1e-4 absolute plus
// 1e-4 relative covers the rounding with margin; dW sums over batch x plane, so twice that.
const TOL = { atol: 1e-4, rtol: 1e-4 };
const TOL_DW = { atol: 2e-4, rtol: 2e-4 };

interface Case { name: string; x: [number, number, number, number]; w: [number, number, number, number]; opts: Conv2dOptions }
// kernel 1/3/7, stride 1/2 and mixed, padding 0/1/2/3 and past the kernel's reach, dilation 1/2,
// groups 1/2/4/depthwise, odd planes, batch 1-3, 1x1 maps; m, n and k cross tile edges
const CASES: Case[] = [
  { name: '3x3 p1 plain', x: [1, 3, 9, 11], w: [4, 3, 3, 3], opts: { padding: 1 } },
  { name: '1x1 g2 batch 3', x: [3, 4, 7, 9], w: [6, 2, 1, 1], opts: { groups: 2 } },
  { name: '3x3 s2 p1 g4', x: [2, 8, 11, 13], w: [8, 2, 3, 3], opts: { stride: 2, padding: 1, groups: 4 } },
  { name: 'depthwise x2 s2 d2', x: [1, 4, 9, 9], w: [8, 1, 3, 3], opts: { stride: 2, dilation: 2, groups: 4 } },
  { name: '7x7 s2 p3 (stem)', x: [3, 3, 15, 15], w: [5, 3, 7, 7], opts: { stride: 2, padding: 3 } },
  { name: '3x3 d2 p2 g2', x: [1, 4, 11, 9], w: [4, 2, 3, 3], opts: { padding: 2, dilation: 2, groups: 2 } },
  { name: 'mixed pairs', x: [1, 5, 10, 12], w: [3, 5, 3, 2], opts: { stride: [2, 1], padding: [0, 1], dilation: [1, 2] } },
  { name: '3x3 p3 (pad past reach)', x: [1, 2, 6, 5], w: [2, 2, 3, 3], opts: { padding: 3 } },
  { name: '1x1 on 1x1 maps', x: [3, 8, 1, 1], w: [5, 8, 1, 1], opts: {} },
  { name: '3x3 g2, 70 channels (n past one tile)', x: [2, 20, 9, 9], w: [70, 10, 3, 3], opts: { padding: 1, groups: 2 } },
];

const s = suite('kernels: conv2d v5 (tiled implicit GEMM, one dispatch per pass) and v6 (subgroup dW)');
s.before(setupGpu);

async function check(c: Case, tile: GemmTile, seed: number): Promise<void> {
  const g = conv2dGeometry(c.x, c.w, [c.w[0]], c.opts);
  const size = (sh: readonly number[]) => sh.reduce((a, b) => a * b, 1);
  const xd = randomArray(size(c.x), seed), wd = randomArray(size(c.w), seed + 1), bd = randomArray(g.co, seed + 2);
  const dyd = randomArray(g.n * g.co * g.ho * g.wo, seed + 3), dw0 = randomArray(size(c.w), seed + 4);
  // x and dY are bound from 256 bytes before their first sample (base 64), as a batch chunk is
  const lead = 64;
  const padded = (a: Float32Array) => { const o = new Float32Array(lead + a.length); o.set(a, lead); return o; };
  const x = Tensor.fromArray(padded(xd), [lead + xd.length]), dy = Tensor.fromArray(padded(dyd), [lead + dyd.length]);
  const w = Tensor.fromArray(wd, c.w), b = Tensor.fromArray(bd, [g.co]), dw = Tensor.fromArray(dw0, c.w);
  const y = Tensor.empty([lead + dyd.length], 'y'), dx = Tensor.empty([lead + xd.length], 'dx');
  const io = (t: Tensor) => ({ binding: t.binding as Required<typeof t.binding>, base: lead });
  const label = `v5 ${c.name} ${tile.bm}x${tile.bn}x${tile.bk}`;
  const params = { ...tile };
  fwdGemm(g, io(x), w.binding, b.binding, io(y), label, params);
  bwdInputGemm(g, io(dy), w.binding, io(dx), label, params);
  bwdWeightGemm(g, io(x), io(dy), dw.binding, true, label, params);
  assertClose((await y.toArray()).subarray(lead), conv2dFwdCpu(g, xd, wd, bd), TOL, `${label} fwd`);
  assertClose((await dx.toArray()).subarray(lead), conv2dBwdInputCpu(g, dyd, wd), TOL, `${label} dX`);
  const dwRef = conv2dBwdWeightCpu(g, xd, dyd).map((v, i) => v + dw0[i]);
  assertClose(await dw.toArray(), dwRef, TOL_DW, `${label} dW accumulated`);
  bwdWeightGemm(g, io(x), io(dy), dw.binding, false, label, params);
  assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, xd, dyd), TOL_DW, `${label} dW`);
  for (const t of [x, dy, w, b, dw, y, dx]) t.dispose();
}

// the default, the smallest offered, a non-square one with the deeper k step, and one outside the offered values
for (const tile of [{ bm: 64, bn: 64, bk: 16 }, { bm: 32, bn: 32, bk: 16 }, { bm: 32, bn: 64, bk: 32 }, { bm: 16, bn: 32, bk: 8 }]) {
  const name = `${tile.bm}x${tile.bn}x${tile.bk} tiles`;
  s(`${name}: fwd (+bias), dX, dW (+accumulate) match the f64 reference on every case`, async () => {
    for (const [i, c] of CASES.entries()) await check(c, tile, 100 + 10 * i);
  });
}

s('v6 weight gradient (subgroupAdd reduction) matches the f64 reference on every case, fresh and accumulated', async () => {
  // lavapipe has the feature (8-wide subgroups); a device without it must say so
  assert.ok(hasSubgroups(), 'this test needs an adapter with subgroups');
  for (const [i, c] of CASES.entries()) {
    const g = conv2dGeometry(c.x, c.w, null, c.opts);
    const size = (sh: readonly number[]) => sh.reduce((a, b) => a * b, 1);
    const xd = randomArray(size(c.x), 300 + i), dyd = randomArray(g.n * g.co * g.ho * g.wo, 400 + i), dw0 = randomArray(size(c.w), 500 + i);
    const x = Tensor.fromArray(xd, c.x), dy = Tensor.fromArray(dyd, [g.n, g.co, g.ho, g.wo]), dw = Tensor.fromArray(dw0, c.w);
    const io = (t: Tensor) => ({ binding: t.binding as Required<typeof t.binding>, base: 0 });
    bwdWeightSubgroups(g, io(x), io(dy), dw.binding, true, `v6 ${c.name}`);
    assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, xd, dyd).map((v, k) => v + dw0[k]), TOL_DW, `v6 ${c.name} dW accumulated`);
    bwdWeightSubgroups(g, io(x), io(dy), dw.binding, false, `v6 ${c.name}`);
    assertClose(await dw.toArray(), conv2dBwdWeightCpu(g, xd, dyd), TOL_DW, `v6 ${c.name} dW`);
    for (const t of [x, dy, dw]) t.dispose();
  }
});

s('a tile the workgroup limits cannot hold is refused with its sizes', () => {
  assert.throws(() => gemmTile({ bm: 256, bn: 256, bk: 8 }), /tile 256x256x8 needs .* at most \d+ invocations/);
  assert.throws(() => gemmTile({ bm: 64, bn: 64, bk: 1024 }), /it takes 524288\)/);
  assert.throws(() => gemmTile({ bm: 30, bn: 32, bk: 8 }), /multiples of 4/);
  assert.equal(gemmTile({}), { bm: 64, bn: 64, bk: 16 }, 'the defaults');
});

s.run();
