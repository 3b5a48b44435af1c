// One fine-tuning step of a new attribute (src/finetune.ts, what the demo page runs per
// animation frame): CPU augmentation of the batch, frozen eval-mode backbone,
// the new head (and, in the last-stage cases, layer4 through frozen batch norm), focal loss,
// SGD, loss readback. For the test's tiny model (48 px, batch 4) and the `npm run demo` model
// (resnest-tiny at 64 px, batch 16). details: GPU bytes (buffers and textures, the runtime's
// resource counters) the model added to what was held, and what the tuner and its steps added
// on top (the pool reuses what earlier cases released, so a first-run figure is the honest one:
// bench/browser_finetune.ts measures each configuration on a fresh device).
import type { BenchCase } from './harness.ts';
import { AttributeFineTuner, gpu, nn, Rng } from '../src/index.ts';
import type { RgbImage } from '../src/vision/index.ts';

const tiny = () => new nn.ResNeSt({ layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128], numClasses: 40, seed: 1 });
/** A 178x218 image of seeded noise (what the step costs does not depend on the pictures). */
function noise(seed: number): RgbImage {
  const rng = new Rng(seed);
  return { width: 178, height: 218, data: Uint8Array.from({ length: 178 * 218 * 3 }, () => Math.floor(rng.uniform(0, 256))) };
}

const held = () => { const s = gpu().resources.stats(); return s.buffers.liveBytes + s.textures.liveBytes; };

export async function cases(opts: { quick: boolean }): Promise<BenchCase[]> {
  const images = { positives: Array.from({ length: 8 }, (_, i) => noise(i)), negatives: Array.from({ length: 8 }, (_, i) => noise(100 + i)) };
  const configs = [
    { what: 'test tiny model', size: 48, batch: 4, lastStage: false },
    { what: 'demo model', size: 64, batch: 16, lastStage: false },
    { what: 'demo model', size: 64, batch: 16, lastStage: true },
  ].slice(0, opts.quick ? 2 : 3);
  return configs.map(({ what, size, batch, lastStage }) => {
    let tuner: AttributeFineTuner | null = null;
    let model: nn.ResNeSt | null = null;
    let before = 0, withModel = 0;
    const start = () => {
      before = held();
      model = tiny();
      withModel = held();
      tuner = new AttributeFineTuner(model, { attribute: 'Spectacles', ...images, imageSize: size, batch, lastStage, lr: 0.05, seed: 1 });
    };
    return {
      family: 'finetune',
      name: `fine-tune step, resnest-tiny (${what}) ${size} px, batch ${batch}, ${lastStage ? 'head + layer4' : 'head only'}`,
      items: batch,
      runWall: async () => { if (!tuner) start(); await tuner!.step(); },
      details: () => ({ modelBytes: withModel - before, stepBytes: held() - withModel }),
      dispose: () => { model?.dispose(); tuner?.dispose(); },
    };
  });
}
