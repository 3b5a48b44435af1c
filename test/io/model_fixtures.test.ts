// Consistency checks on the committed ResNeSt reference fixtures (test/fixtures/model/README.md):
// the layout promised there, and the focal-loss value and gradient recomputed from the stored
// logits with the closed form of spec section 5.1.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseSafetensors, type SafetensorsFile } from '../../src/io/safetensors.ts';

const s = suite('io: model fixtures');
const NAMES = ['resnest_tiny_r2k1', 'resnest_tiny_r2k2', 'resnest_tiny_r1k2'];
const BUFFER_SUFFIXES = ['.running_mean', '.running_var', '.num_batches_tracked'];

function load(name: string): SafetensorsFile {
  const url = new URL(`../fixtures/model/${name}.safetensors`, import.meta.url);
  return parseSafetensors(new Uint8Array(readFileSync(url)), `${name}.safetensors`);
}

const floats = (file: SafetensorsFile, key: string): Float32Array => {
  const t = file.tensors.get(key);
  assert.ok(t, `missing ${key}`);
  assert.is(t!.dtype, 'F32', key);
  return t!.data as Float32Array;
};

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

for (const name of NAMES) {
  s(`${name}: every parameter has grad.*, every buffer has after.*, with matching shapes`, () => {
    const file = load(name);
    const config = JSON.parse(file.metadata.config!) as { num_classes: number };
    const fixture = JSON.parse(file.metadata.fixture!) as { batch: number; input_sizes: number[] };
    const weights = [...file.tensors.keys()].filter((k) => /^(conv1|bn1|layer\d|fc)\./.test(k));
    assert.ok(weights.includes('fc.weight') && weights.includes('layer4.0.conv2.fc2.bias'));
    for (const key of weights) {
      const isBuffer = BUFFER_SUFFIXES.some((b) => key.endsWith(b));
      const partner = file.tensors.get((isBuffer ? 'after.' : 'grad.') + key);
      assert.ok(partner, `no ${isBuffer ? 'after' : 'grad'} entry for ${key}`);
      assert.equal(partner!.shape, file.tensors.get(key)!.shape, key);
      if (key.endsWith('.num_batches_tracked')) {
        assert.is(partner!.dtype, 'I64');
        assert.is((partner!.data as BigInt64Array)[0], (file.tensors.get(key)!.data as BigInt64Array)[0]! + 1n);
      }
    }
    const extra = [...file.tensors.keys()].filter((k) => /^(grad|after)\./.test(k) && !file.tensors.has(k.slice(k.indexOf('.') + 1)));
    assert.equal(extra, []);
    const [size] = fixture.input_sizes;
    assert.equal(file.tensors.get('input')!.shape, [fixture.batch, 3, size!, size!]);
    for (const key of ['logits.eval', 'logits.train', 'loss.grad_logits', 'targets']) {
      assert.equal(file.tensors.get(key)!.shape, [fixture.batch, config.num_classes], key);
    }
    assert.equal(file.tensors.get('loss')!.shape, []);
  });

  s(`${name}: loss and grad_logits equal the mean focal loss of logits.train (gamma 2, alpha vector)`, () => {
    const file = load(name);
    const x = floats(file, 'logits.train');
    const y = floats(file, 'targets');
    const alpha = floats(file, 'alpha');
    const gradRef = floats(file, 'loss.grad_logits');
    const gamma = 2;
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const a = alpha[i % alpha.length]!;
      const sign = y[i] === 1 ? 1 : -1;
      const alphaT = a < 0 ? 1 : y[i] === 1 ? a : 1 - a;
      const pt = sigmoid(sign * x[i]!);
      const lnPt = -softplus(-sign * x[i]!);
      sum += alphaT * (1 - pt) ** gamma * -lnPt;
      const grad = (alphaT * sign * (1 - pt) ** gamma * (gamma * pt * lnPt + pt - 1)) / x.length;
      assert.ok(Math.abs(grad - gradRef[i]!) <= 1e-9 + 1e-5 * Math.abs(gradRef[i]!), `grad ${i}: ${grad} vs ${gradRef[i]}`);
    }
    const loss = floats(file, 'loss')[0]!;
    assert.ok(Math.abs(sum / x.length - loss) <= 1e-6 * loss, `loss ${sum / x.length} vs ${loss}`);
  });
}

s.run();
