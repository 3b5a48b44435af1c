// Full-size ResNeSt-50 (official keys, 40-way head, batch 4, 48x48) against PyTorch in float64,
// with PyTorch float32's own error as the yardstick (scripts/fixtures/resnest50_parity_fixtures.py).
// Conv and linear weights come from the counter hash both sides share; the fixture stores the
// one-dimensional tensors, and per parameter gradient a fixed sample of its float64 values (all
// of them up to 4096 elements, else 2048 hashed indices) with the float64 norm of the whole
// tensor. Relative L2 errors are computed on that sample; PyTorch float32's is computed on the
// same sample by the script.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/tensor.ts';
import * as F from '../../src/functional.ts';
import { tidy } from '../../src/index.ts';
import type { ResNeSt } from '../../src/nn/index.ts';
import { assertClose, setupGpu } from '../helpers.ts';
import { describe, median, openFixture } from './resnest50_fixture.ts';

const fixture = openFixture('resnest50_parity.safetensors');
const { file, meta, summary, parameterKeys, get } = fixture;
const buildModel = () => fixture.buildModel((key, fanIn) => (key === 'fc.weight' ? 1 / Math.sqrt(fanIn) : Math.sqrt(6 / fanIn)));
// PyTorch float32's three CPU backends (default, mkldnn off, channels_last) sum in different
// orders, so which ReLU inputs within rounding of zero flip differs: one flipped element moves a
// tensor's gradient by up to ~1e-2 here (layer4.2.bn3.weight: 5e-4 on the default backend, 1.1e-2
// on the other two).
const gradientErrors = (model: ResNeSt, mode: 'eval' | 'train') => fixture.gradientErrors(model, mode, false);

function forwardLoss(model: ResNeSt, x: Tensor, y: Tensor): [Tensor, Tensor] {
  return tidy(() => {
    const logits = model.forward(x);
    return [F.sigmoidFocalLoss(logits, y, { alpha: Float32Array.from(get('alpha')), gamma: meta.gamma }), logits];
  });
}

const s = suite('nn: resnest50 parity');
s.before(setupGpu);

s('resnest50, 4x3x48x48: eval and train logits, focal loss, running statistics and every gradient vs float64', async () => {
  const model = buildModel();
  const x = Tensor.fromArray(Float32Array.from(get('input')), file.tensors.get('input')!.shape);
  const y = Tensor.fromArray(Float32Array.from(get('targets')), [meta.batch, meta.num_classes]);
  for (const mode of ['eval', 'train'] as const) {
    if (mode === 'eval') model.eval(); else model.train();
    for (const p of model.parameters()) { p.grad?.dispose(); p.grad = null; }
    const [loss, logits] = forwardLoss(model, x, y);
    // Logits and loss within 3x PyTorch float32's own largest error on this batch.
    const logitAtol = 3 * summary[mode].torch_f32_logits_max_err;
    const ours = await logits.toArray(), ref = get(`${mode}.logits`);
    let maxErr = 0, err2 = 0, ref2 = 0;
    for (let i = 0; i < ref.length; i++) { const d = ours[i] - ref[i]; maxErr = Math.max(maxErr, Math.abs(d)); err2 += d * d; ref2 += ref[i] * ref[i]; }
    const lossErr = Math.abs((await loss.item()) - get(`${mode}.loss`)[0]);
    const yard = summary[mode];
    console.log(`  ${mode}: logits max |err| ${maxErr.toExponential(2)}, relative L2 ${Math.sqrt(err2 / ref2).toExponential(2)} ` +
      `(PyTorch f32 ${yard.torch_f32_logits_max_err.toExponential(2)}, ${yard.torch_f32_logits_rel_l2.toExponential(2)}); ` +
      `loss |err| ${lossErr.toExponential(2)} (PyTorch f32 ${yard.torch_f32_loss_err.toExponential(2)})`);
    assertClose(ours, ref, { atol: logitAtol, rtol: 0 }, `${mode} logits`);
    // The mean focal loss moves by at most max|dz| * max|d loss_i / dz_i| <= max|dz| (alpha <= 0.75, gamma 2).
    assertClose([await loss.item()], get(`${mode}.loss`), { atol: logitAtol, rtol: 0 }, `${mode} loss`);
    loss.backward();
    const errors = await gradientErrors(model, mode);
    const vanishes = (key: string) => mode === 'train' && key.endsWith('conv2.fc1.bias');
    for (const e of errors) {
      // The sample must stand for the tensor: the whole gradient's norm agrees with float64's.
      if (!vanishes(e.key)) assert.ok(Math.abs(e.normRatio - 1) <= Math.max(0.05, 3 * e.envelope), `${mode} ${e.key}: |grad| / |ref| = ${e.normRatio}`);
    }
    if (mode === 'train') {
      // conv2.fc1.bias feeds a train-mode BN: its gradient is zero in exact arithmetic (float64
      // leaves ~1e-17) and what float32 returns is the residue of cancelling sums, ~1e-10..1e-6
      // against gradients of 1e-3..1 elsewhere; relative error is meaningless, so the residue is
      // bounded absolutely (2e-6, fifty times tighter than the small-model test's 1e-4). Measured
      // maxima over the 16 blocks: 9.8e-7 with conv2d v3, 1.1e-6 with v7 (the same sums rounded in
      // another order), the largest in layer1.
      const [degenerate, regular] = [errors.filter((e) => vanishes(e.key)), errors.filter((e) => !vanishes(e.key))];
      assert.is(errors.length, parameterKeys.length, 'every parameter has a gradient in train mode');
      for (const e of degenerate) {
        const g = await model.namedParameters().find(([k]) => k === e.key)![1].grad!.toArray();
        assert.ok(g.every((v) => Math.abs(v) <= 2e-6), `${e.key}: gradient should vanish, max ${Math.max(...g.map(Math.abs))}`);
      }
      // median over tensors against the typical backend's error; each tensor against the envelope
      const ratios = regular.map((e) => e.ours / e.typical);
      const worst = regular.reduce((a, b) => (b.ours / b.envelope > a.ours / a.envelope ? b : a));
      console.log(`  train gradients, relative L2 vs float64 / PyTorch float32's: median ${median(ratios).toFixed(2)}x, ` +
        `worst ${(worst.ours / worst.envelope).toFixed(2)}x of the envelope (${describe(worst)}); ` +
        `ours median ${median(regular.map((e) => e.ours)).toExponential(2)}, PyTorch ${median(regular.map((e) => e.typical)).toExponential(2)}`);
      assert.ok(median(ratios) <= 1.5, `median ratio ${median(ratios)} > 1.5`);
      for (const e of regular) assert.ok(e.ours <= 3 * e.envelope, `${describe(e)}: over 3x PyTorch float32`);
      for (const [key, v] of model.stateDict()) {
        if (!key.includes('running_')) continue;
        // one momentum-0.1 update of float32 batch statistics: PyTorch float32 is off by up to
        // torch_f32_running_stats_max_err here; allow 3x that
        assertClose(await (v as Tensor).toArray(), get(`after.${key}`), { atol: 3 * summary.train.torch_f32_running_stats_max_err, rtol: 0 }, `after.${key}`);
      }
    } else {
      // A float64 bound of 1e-5 cannot hold in float32 here: PyTorch float32's own eval gradients
      // are 1e-3 (default backend) to 1e-2 (mkldnn off, channels_last) off float64, nearly the
      // same on every tensor, because a ReLU input or two near the head, within rounding of zero,
      // flips or not and every gradient below inherits it. Which way a float32 implementation
      // lands is decided by those few roundings, so in eval mode both the median and each tensor
      // are held to the largest of PyTorch's three errors. Every parameter is checked.
      assert.is(errors.length, parameterKeys.length, 'every parameter has a gradient in eval mode');
      const ratios = errors.map((e) => e.ours / e.envelope);
      const worst = errors.reduce((a, b) => (b.ours / b.envelope > a.ours / a.envelope ? b : a));
      console.log(`  eval gradients: median ${median(ratios).toFixed(2)}x of PyTorch float32's largest error over its backends ` +
        `(${median(errors.map((e) => e.ours / e.typical)).toFixed(2)}x of their median), worst ${(worst.ours / worst.envelope).toFixed(2)}x, ${describe(worst)}`);
      assert.ok(median(ratios) <= 1.5, `eval: median ratio ${median(ratios)} > 1.5`);
      for (const e of errors) assert.ok(e.ours <= 3 * e.envelope, `eval ${describe(e)}: over 3x PyTorch float32`);
    }
    for (const t of [loss, logits]) t.dispose();
  }
  for (const t of [x, y]) t.dispose();
  model.dispose();
});

s.run();
