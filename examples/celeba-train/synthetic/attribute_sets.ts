// Labelled examples of one rendered attribute from the synthetic faces: the first `count` faces
// of a seed that have it and the first `count` that do not (what the demo page's quick try and
// the fine-tuning tests train a new head on).
import type { RgbImage } from '../../../src/vision/index.ts';
import { CELEBA_ATTRIBUTES } from '../celeba/labels.ts';
import { RENDERED_ATTRIBUTES, renderSyntheticImage, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH } from './render.ts';

export interface SyntheticExample { image: RgbImage; label: string }

function rgb(rgba: Uint8Array): RgbImage {
  const data = new Uint8Array(SYNTHETIC_WIDTH * SYNTHETIC_HEIGHT * 3);
  for (let p = 0, q = 0; p < SYNTHETIC_WIDTH * SYNTHETIC_HEIGHT; p++, q += 4) {
    data[3 * p] = rgba[q]; data[3 * p + 1] = rgba[q + 1]; data[3 * p + 2] = rgba[q + 2];
  }
  return { width: SYNTHETIC_WIDTH, height: SYNTHETIC_HEIGHT, data };
}

export function syntheticAttributeSets(attribute: string, count: number, seed: number): { positives: SyntheticExample[]; negatives: SyntheticExample[] } {
  if (!(RENDERED_ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw new Error(`synthetic faces show ${RENDERED_ATTRIBUTES.join(', ')}; "${attribute}" is not drawn`);
  }
  const j = CELEBA_ATTRIBUTES.indexOf(attribute as (typeof CELEBA_ATTRIBUTES)[number]);
  const positives: SyntheticExample[] = [], negatives: SyntheticExample[] = [];
  for (let index = 0; positives.length < count || negatives.length < count; index++) {
    if (index > 200 * count) throw new Error(`synthetic faces of seed ${seed}: fewer than ${count} with or without ${attribute}`);
    const { labels, rgba } = renderSyntheticImage(seed, index);
    const into = labels[j] ? positives : negatives;
    if (into.length < count) into.push({ image: rgb(rgba), label: `synthetic ${seed}/${index}` });
  }
  return { positives, negatives };
}
