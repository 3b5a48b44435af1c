import { gpu } from '../../src/gpu/index.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { versions } from '../../kernels/conv2d.ts';
import { runs } from '../../kernels/versions.ts';
import { conv2dGeometry } from '../../src/ops/conv2d.ts';
import { assertClose, setupGpu } from '../helpers.ts';

// PyTorch's float64 results from the same float32 inputs (scripts/fixtures/conv_fixtures.py):
// the difference is our f32 rounding of sums of L products (y: Cin/groups*k*k, up to 2304;
// dX: Cout/groups*k*k, up to 2304; dW and db: N*Ho*Wo, up to 2048), which grows like
// eps32 * sqrt(L) * the result's scale. Bound: 4 eps32 sqrt(L) max|ref|; the largest measured
// on lavapipe over every case and version is 0.91 (v1, layer1_conv3 dW).
function tolFor(L: number, ref: ArrayLike<number>): { atol: number; rtol: number } {
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  return { atol: 4 * 2 ** -24 * Math.sqrt(L) * scale, rtol: 0 };
}
const path = new URL('../fixtures/conv/resnest_convs.safetensors', import.meta.url);
const file = parseSafetensors(new Uint8Array(readFileSync(path)), path.pathname);
const names = Object.keys(file.metadata ?? {}).filter((k) => k !== 'source');

function get(name: string, key: string) {
  const t = file.tensors.get(`${name}.${key}`);
  if (!t) throw new Error(`fixture ${name}.${key} missing`);
  return { shape: t.shape, data: t.data as Float32Array };
}

const s = suite('kernels: conv2d against PyTorch fixtures');
s.before(setupGpu);

s('the fixture file holds the ResNeSt-50 configurations and its real reduction lengths', () => {
  assert.ok(names.length >= 20, `${names.length} cases`);
  for (const n of ['stem_conv1_0', 'layer1_splat', 'layer1_fc1', 'layer4_conv3', 'wide_splat_fwd_2304', 'wide_splat_dx_2304']) assert.ok(names.includes(n), n);
});

for (const version of Object.keys(versions)) {
  s(`${version}: y, dx, dw, db of every case match PyTorch`, async () => {
    setKernelVersion('conv2d', version);
    try {
      for (const name of names) {
        const opts = JSON.parse(file.metadata![name]) as { stride: number; padding: number; dilation: number; groups: number; bias: boolean };
        const xs = get(name, 'x'), ws = get(name, 'w');
        const g = conv2dGeometry(xs.shape, ws.shape, opts.bias ? [ws.shape[0]] : null, opts);
        if (!runs(versions[version], g, gpu().adapter, 'fwd')) continue;
        const x = Tensor.fromArray(xs.data, xs.shape, { requiresGrad: true });
        const w = Tensor.fromArray(ws.data, ws.shape, { requiresGrad: true });
        const b = opts.bias ? Tensor.fromArray(get(name, 'b').data, [ws.shape[0]], { requiresGrad: true }) : null;
        const y = F.conv2d(x, w, b, opts);
        const dy = Tensor.fromArray(get(name, 'dy').data, y.shape);
        y.backward(dy);
        const pixels = g.n * g.ho * g.wo;
        const check = async (t: Tensor, key: string, L: number) => {
          const ref = get(name, key).data;
          assertClose(await t.toArray(), ref, tolFor(L, ref), `${version} ${name} ${key} (sums of ${L})`);
        };
        await check(y, 'y', (g.c / g.groups) * g.kh * g.kw);
        await check(x.grad!, 'dx', (g.co / g.groups) * g.kh * g.kw);
        await check(w.grad!, 'dw', pixels);
        if (b) await check(b.grad!, 'db', pixels);
        for (const t of [x, w, b, dy, y]) { t?.grad?.dispose(); t?.dispose(); }
      }
    } finally { setKernelVersion('conv2d', null); }
  });
}

s.run();
