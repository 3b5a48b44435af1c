import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, applyColorJitter, applyEval, applyTrainParams, centerCrop, decodeImage, hflip, resize, resizedCrop, resizeOutputSize, roundHalfEven, toPlanar, transformOutputSize, type JitterParams, type PlanarImage, type TrainParams } from '../../src/vision/index.ts';
import { celebaEvalTransform, celebaTrainTransform } from '../../examples/celeba-train/celeba/index.ts';
import { assertClose, FIXTURES, readSafetensors, tensor } from './helpers.ts';

const s = suite('vision: transforms vs torchvision');
const ref = readSafetensors(join(FIXTURES, 'transforms.safetensors'));
const params = JSON.parse(readFileSync(join(FIXTURES, 'params.json'), 'utf8'));
const face = decodeImage(readFileSync(join(FIXTURES, 'face.png')), 'face.png');
const card = decodeImage(readFileSync(join(FIXTURES, 'card.png')), 'card.png');
const cardPlanar = (): PlanarImage => toPlanar(card);

// Float32 arithmetic in a different order than aten: a few ulps of the value range.
const TIGHT = 2e-6;

s('fixture sources decode to the expected sizes', () => {
  assert.equal([face.width, face.height], [178, 218]);
  assert.equal([card.width, card.height], [16, 16]);
});

s('eval pipeline CenterCrop(178) + Resize(64) + Normalize matches within 1/255', () => {
  const cfg = celebaEvalTransform(64);
  assert.equal(transformOutputSize(cfg), [64, 64]);
  const out = applyEval(face, cfg);
  const want = tensor(ref, 'eval64');
  assert.equal(want.shape, [3, 64, 64]);
  // atol is 1/255 in pixel units, i.e. divided by the smallest std after Normalize.
  const maxErr = assertClose(out.data, want.data, 1 / 255 / 0.229, 0, 'eval64');
  assert.ok(maxErr < 1e-5, `eval64 is in fact float-exact (max error ${maxErr})`);
});

s('antialiased downscale matches aten _upsample_bilinear2d_aa', () => {
  const out = applyEval(face, { kind: 'eval', crop: 178, size: 48, antialias: true });
  assertClose(out.data, tensor(ref, 'eval48_aa').data, 1e-5, TIGHT, 'eval48_aa');
});

s('Resize(int) sets the shorter side; center crop pads when larger than the image', () => {
  assert.equal(resizeOutputSize(150, 120, 20), [25, 20]);
  assert.equal(resizeOutputSize(120, 150, 20), [20, 25]);
  const cropped = centerCrop(face, [150, 120]);
  const out = resize(cropped, 25, 20);
  assertClose(out.data, tensor(ref, 'eval_int20').data, 1e-6, TIGHT, 'eval_int20');
  const padded = toPlanar(centerCrop(card, [19, 22]));
  assertClose(padded.data, tensor(ref, 'center_pad').data, 0, 0, 'center_pad');
});

s('resized_crop with explicit params (upscale, downscale, antialias)', () => {
  assertClose(resizedCrop(card, 3, 5, 11, 9, [23, 29]).data, tensor(ref, 'rc_card').data, 1e-6, TIGHT, 'rc_card');
  assertClose(resizedCrop(face, 30, 17, 150, 131, [24, 20]).data, tensor(ref, 'rc_face').data, 1e-6, TIGHT, 'rc_face');
  assertClose(resizedCrop(face, 30, 17, 150, 131, [24, 20], { antialias: true }).data,
    tensor(ref, 'rc_face_aa').data, 1e-6, TIGHT, 'rc_face_aa');
});

s('hflip, and flip fused into resize equals hflip after resize', () => {
  assertClose(hflip(cardPlanar()).data, tensor(ref, 'hflip_card').data, 0, 0, 'hflip');
  const a = hflip(resizedCrop(face, 10, 20, 100, 90, [17, 23]));
  const b = resizedCrop(face, 10, 20, 100, 90, [17, 23], { flip: true });
  assertClose(b.data, a.data, 0, 0, 'fused flip');
});

s('adjust_brightness / adjust_saturation / adjust_contrast', () => {
  for (const f of [0.6, 1.37]) assertClose(adjustBrightness(cardPlanar(), f).data, tensor(ref, `brightness_${f}`).data, 1e-6, TIGHT, `brightness ${f}`);
  for (const f of [0.0, 0.6, 1.4]) assertClose(adjustSaturation(cardPlanar(), f).data, tensor(ref, `saturation_${f.toFixed(1)}`).data, 1e-6, TIGHT, `saturation ${f}`);
  assertClose(adjustContrast(cardPlanar(), 1.3).data, tensor(ref, 'contrast_1.3').data, 1e-6, TIGHT, 'contrast');
});

s('adjust_hue through torchvision HSV, including greys and the +-0.5 ends', () => {
  for (const f of [-0.5, -0.23, 0.1, 0.5]) {
    assertClose(adjustHue(cardPlanar(), f).data, tensor(ref, `hue_${f}`).data, 1e-5, TIGHT, `hue ${f}`);
  }
  assert.throws(() => adjustHue(cardPlanar(), 0.6), /not in \[-0.5, 0.5\]/);
});

s('ColorJitter with an explicit op order', () => {
  const p = params.jitter_card as JitterParams;
  assertClose(applyColorJitter(cardPlanar(), p).data, tensor(ref, 'jitter_card').data, 1e-5, TIGHT, 'jitter');
});

s('whole train pipeline with explicit params matches torchvision', () => {
  const p = params.train32 as TrainParams;
  const cfg = { ...celebaTrainTransform(32) };
  const out = applyTrainParams(face, p, cfg);
  assertClose(out.data, tensor(ref, 'train32').data, 2e-5, TIGHT, 'train32');
  const slot = new Float32Array(3 * 32 * 32 + 7);
  applyTrainParams(face, p, cfg, slot.subarray(7));
  assertClose(slot.subarray(7), out.data, 0, 0, 'writes into a caller buffer');
});

s('Python round semantics for crop sizes', () => {
  assert.equal([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 3.5001].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 4]);
});

s.run();
