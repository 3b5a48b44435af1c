import { gpu } from '../../src/gpu/index.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { setKernelVersion } from '../../kernels/autotune.ts';
import { versions } from '../../kernels/conv2d.ts';
import { conv2dGeometry } from '../../src/ops/conv2d.ts';
import { assertClose, setupGpu } from '../helpers.ts';

// PyTorch's float64 results from the same float32 inputs (scripts/fixtures/conv_fixtures.py):
// the difference is our f32 rounding over at most 8*9 = 72 products per output and 2*81
// per weight-gradient value, |values| up to ~10: 2e-4 absolute + 2e-4 relative.
const TOL = { atol: 2e-4, rtol: 2e-4 };
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

s('the fixture file holds the ResNeSt-50 configurations', () => {
  assert.ok(names.length >= 12, `${names.length} cases`);
  for (const n of ['stem_conv1_0', 'layer1_splat', 'layer1_fc1', 'layer4_conv3']) assert.ok(names.includes(n), n);
});

for (const version of Object.keys(versions)) {
  s(`${version}: y, dx, dw, db of every case match PyTorch`, async () => {
    setKernelVersion('conv2d', version);
    try {
      for (const name of names) {
        const opts = JSON.parse(file.metadata![name]) as { stride: number; padding: number; dilation: number; groups: number; bias: boolean };
        const xs = get(name, 'x'), ws = get(name, 'w');
        const g = conv2dGeometry(xs.shape, ws.shape, opts.bias ? [ws.shape[0]] : null, opts);
        if (!versions[version].supports(g, gpu().adapter)) continue;
        const x = Tensor.fromArray(xs.data, xs.shape, { requiresGrad: true });
        const w = Tensor.fromArray(ws.data, ws.shape, { requiresGrad: true });
        const b = opts.bias ? Tensor.fromArray(get(name, 'b').data, [ws.shape[0]], { requiresGrad: true }) : null;
        const y = F.conv2d(x, w, b, opts);
        const dy = Tensor.fromArray(get(name, 'dy').data, y.shape);
        y.backward(dy);
        assertClose(await y.toArray(), get(name, 'y').data, TOL, `${version} ${name} y`);
        assertClose(await x.grad!.toArray(), get(name, 'dx').data, TOL, `${version} ${name} dx`);
        assertClose(await w.grad!.toArray(), get(name, 'dw').data, TOL, `${version} ${name} dw`);
        if (b) assertClose(await b.grad!.toArray(), get(name, 'db').data, TOL, `${version} ${name} db`);
        for (const t of [x, w, b, dy, y]) { t?.grad?.dispose(); t?.dispose(); }
      }
    } finally { setKernelVersion('conv2d', null); }
  });
}

s.run();
