// Weights saved by torch.save go into nn.ResNeSt unchanged: the tiny ResNeSt state_dict written
// by PyTorch (test/io/fixtures/torch/, both formats) loads strictly, reads back from the device
// bit-identical to the same weights from safetensors, and gives PyTorch's eval logits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor.ts';
import { noGrad, tidy } from '../../src/index.ts';
import { ResNeSt, type StateArray } from '../../src/nn/index.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { loadTorchStateDict } from '../../src/io/weights_fs.ts';
import { assertClose, setupGpu } from '../helpers.ts';

const reference = parseSafetensors(new Uint8Array(readFileSync(new URL('../fixtures/model/resnest_tiny_r2k1.safetensors', import.meta.url))), 'r2k1');
const c = JSON.parse(reference.metadata.config!);
const build = (numClasses = c.num_classes as number) => new ResNeSt({
  layers: c.layers, radix: c.radix, cardinality: c.cardinality, bottleneckWidth: c.bottleneck_width, stemWidth: c.stem_width,
  deepStem: c.deep_stem, avgDown: c.avg_down, avd: c.avd, avdFirst: c.avd_first, numClasses, planes: c.planes, seed: 5,
});

const s = suite('nn: resnest from torch.save files');
s.before(setupGpu);

for (const name of ['resnest_tiny_r2k1.pth', 'resnest_tiny_r2k1_legacy.pth']) {
  s(`${name}: strict load, device read-back equal to the file, PyTorch's eval logits`, async () => {
    const file = await loadTorchStateDict(new URL(`../io/fixtures/torch/${name}`, import.meta.url));
    const model = build();
    model.loadStateDict(file.tensors as Map<string, StateArray>, { source: name });
    for (const [key, t] of await model.stateArrays()) {
      const want = reference.tensors.get(key)!;
      assert.equal(t.shape, want.shape, key);
      assert.equal(Array.from(t.data as ArrayLike<number | bigint>), Array.from(want.data as ArrayLike<number | bigint>), key);
    }
    const input = reference.tensors.get('input')!;
    const x = Tensor.fromArray(input.data as Float32Array, input.shape);
    model.eval();
    const logits = noGrad(() => tidy(() => model.forward(x)));
    // The tolerance of test/nn/resnest.test.ts for the same fixture (float32 through the whole network).
    assertClose(await logits.toArray(), reference.tensors.get('logits.eval')!.data as Float32Array, { atol: 1e-4, rtol: 1e-3 }, `${name} eval logits`);
    logits.dispose();
    x.dispose();
    model.dispose();
  });
}

s('the trainer\'s pretrained path: skip the fc head of another class count', async () => {
  const file = await loadTorchStateDict(new URL('../io/fixtures/torch/resnest_tiny_r2k1.pth', import.meta.url));
  const model = build(7);
  model.loadStateDict(file.tensors as Map<string, StateArray>, { skip: ['fc.'], source: 'resnest_tiny_r2k1.pth' });
  const weights = await model.stateArrays();
  assert.equal(Array.from(weights.get('layer4.0.conv2.fc2.bias')!.data as Float32Array), Array.from(reference.tensors.get('layer4.0.conv2.fc2.bias')!.data as Float32Array));
  assert.equal(weights.get('fc.weight')!.shape, [7, c.planes[3] * 4]);
  model.dispose();
});

s.run();
