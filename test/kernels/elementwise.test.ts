import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { binaryCpu, unaryCpu, reluBwdCpu } from '../../kernels/elementwise.ts';
import { setChunkBytesForTests } from '../../kernels/chunking.ts';
import { sumCpu } from '../../kernels/reduce.ts';
import { gradcheck, numericGradCpu } from '../gradcheck.ts';
import { assertClose, randomArray, setupGpu } from '../helpers.ts';

const tol = { atol: 1e-6, rtol: 1e-6 };
// odd sizes, one vec4, sizes over one workgroup (256 threads x 4 vec4 = 4096 floats) and over several
const sizes = [1, 3, 4, 7, 257, 1023, 4097, 70001];

const s = suite('kernels: elementwise');
s.before(setupGpu);

for (const n of sizes) {
  s(`binary add/sub/mul, n=${n}`, async () => {
    const a = randomArray(n, n), b = randomArray(n, n + 1);
    const ta = Tensor.fromArray(a, [n]), tb = Tensor.fromArray(b, [n]);
    for (const op of ['add', 'sub', 'mul'] as const) {
      const out = F[op](ta, tb);
      assertClose(await out.toArray(), binaryCpu(op, a, b), tol, `${op} n=${n}`);
      out.dispose();
    }
    ta.dispose(); tb.dispose();
  });
  s(`unary relu/scale, n=${n}`, async () => {
    const a = randomArray(n, 3 * n);
    const ta = Tensor.fromArray(a, [n]);
    const r = F.relu(ta), sc = F.scale(ta, -2.5);
    assertClose(await r.toArray(), unaryCpu('relu', a), tol, 'relu');
    assertClose(await sc.toArray(), unaryCpu('affine', a, -2.5, 0), tol, 'scale');
    for (const t of [ta, r, sc]) t.dispose();
  });
}

s('relu backward matches its reference and the reference matches finite differences', async () => {
  const n = 1001;
  const x = randomArray(n, 5), dy = randomArray(n, 6);
  const tx = Tensor.fromArray(x, [n], { requiresGrad: true });
  const y = F.relu(tx);
  y.backward(Tensor.fromArray(dy, [n]));
  assertClose(await tx.grad!.toArray(), reluBwdCpu(x, dy), tol, 'relu dx');
  // the reference backward against f64 central differences (x away from the kink)
  const x64 = Float64Array.from(x, (v) => (Math.abs(v) < 1e-3 ? 0.5 : v));
  const [numeric] = numericGradCpu(([v]) => unaryCpu('relu', v), [x64], dy);
  assertClose(reluBwdCpu(x64, dy), numeric, { atol: 1e-8, rtol: 1e-6 }, 'relu reference vs finite differences');
  y.dispose(); tx.grad!.dispose(); tx.dispose();
});

s('sum and mean reduce in f32 within atol 1e-4 + rtol 1e-5 of f64', async () => {
  for (const n of [1, 5, 64, 65, 4097, 300001]) {
    const a = randomArray(n, n);
    const t = Tensor.fromArray(a, [n]);
    const total = F.sum(t), avg = F.mean(t);
    assertClose([await total.item()], [sumCpu(a)], { atol: 1e-4, rtol: 1e-5 }, `sum n=${n}`);
    assertClose([await avg.item()], [sumCpu(a, 1 / n)], { atol: 1e-6, rtol: 1e-5 }, `mean n=${n}`);
    for (const x of [t, total, avg]) x.dispose();
  }
});

s('gradients of add, sub, mul, scale, relu, mean pass GPU finite differences', async () => {
  const n = 37;
  const a = randomArray(n, 11), b = randomArray(n, 12);
  for (const x of [a, b]) for (let i = 0; i < n; i++) if (Math.abs(x[i]) < 0.05) x[i] = 0.3; // keep relu off its kink
  const report = await gradcheck(([x, y]) => F.relu(F.mul(F.sub(F.add(x, y), F.scale(y, 0.5)), x)), [a, b], [[n], [n]], { samples: 10 });
  assert.ok(report.ok, report.failures.join('\n'));
  const r2 = await gradcheck(([x]) => F.reshape(F.mean(F.mul(x, x)), [1]), [a], [[n]], { samples: 8 });
  assert.ok(r2.ok, r2.failures.join('\n'));
});

s('tensors over one binding run in element ranges: forced 64-float (256-byte) ranges give the same values', async () => {
  const n = 1001;
  const a = randomArray(n, 21), b = randomArray(n, 22);
  setChunkBytesForTests(256);
  try {
    const ta = Tensor.fromArray(a, [n], { requiresGrad: true }), tb = Tensor.fromArray(b, [n]);
    const sum = F.add(ta, tb), prod = F.mul(ta, tb), r = F.relu(ta), full = Tensor.full([n], 2.5);
    assertClose(await sum.toArray(), binaryCpu('add', a, b), tol, 'add in ranges');
    assertClose(await prod.toArray(), binaryCpu('mul', a, b), tol, 'mul in ranges');
    assertClose(await r.toArray(), unaryCpu('relu', a), tol, 'relu in ranges');
    assertClose(await full.toArray(), new Float64Array(n).fill(2.5), tol, 'fill in ranges');
    const total = F.sum(ta);
    assertClose([await total.item()], [sumCpu(a)], { atol: 1e-4, rtol: 1e-5 }, 'sum in ranges');
    const loss = F.mean(F.add(F.relu(ta), F.scale(ta, 2))); // fan-out: the gradient accumulates in ranges
    loss.backward();
    assertClose(await ta.grad!.toArray(), Array.from(a, (v) => ((v > 0 ? 1 : 0) + 2) / n), { atol: 1e-7, rtol: 1e-5 }, 'grad in ranges');
    for (const t of [ta, tb, sum, prod, r, full, total, loss, ta.grad!]) t.dispose();
  } finally {
    setChunkBytesForTests(null);
  }
});

s.run();
