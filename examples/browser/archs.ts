// The architectures the demo page can build: the same table as the trainer's --arch
// (examples/celeba-train/setup.ts, which needs Node), kept as plain configs so that a plain
// state_dict's shapes can be matched against them without building any model.
import type { nn } from '../../src/index.ts';

type StateArray = nn.StateArray;

export type ArchConfig = Omit<nn.ResNeStConfig, 'numClasses' | 'seed'>;

export const ARCHS: Record<string, ArchConfig> = {
  resnest50: { layers: [3, 4, 6, 3] },
  resnest101: { layers: [3, 4, 23, 3], stemWidth: 64 },
  resnest26: { layers: [2, 2, 2, 2] },
  resnest14: { layers: [1, 1, 1, 1] },
  'resnest-tiny': { layers: [1, 1, 1, 1], stemWidth: 16, planes: [16, 32, 64, 128] },
};

const DEFAULT_PLANES = [64, 128, 256, 512];

/** What a state_dict's keys and shapes say about depth and widths (null where they do not tell). */
export function describeState(state: Map<string, Pick<StateArray, 'shape'>>): { layers: number[]; stemWidth: number; planes: number[] } | null {
  const stem = state.get('conv1.0.weight');
  if (!stem) return null;
  const layers = [1, 2, 3, 4].map((i) => {
    const blocks = new Set<number>();
    for (const k of state.keys()) {
      const m = new RegExp(`^layer${i}\\.(\\d+)\\.`).exec(k);
      if (m) blocks.add(Number(m[1]));
    }
    return blocks.size;
  });
  const planes = [1, 2, 3, 4].map((i) => (state.get(`layer${i}.0.conv3.weight`)?.shape[0] ?? 0) / 4);
  return { layers, stemWidth: stem.shape[0], planes };
}

/** The architecture of ARCHS whose depth and widths a plain state_dict has, if one does. */
export function detectArch(state: Map<string, Pick<StateArray, 'shape'>>): string | null {
  const d = describeState(state);
  if (!d) return null;
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  for (const [name, cfg] of Object.entries(ARCHS)) {
    if (same(cfg.layers, d.layers) && (cfg.stemWidth ?? 32) === d.stemWidth && same(cfg.planes ?? DEFAULT_PLANES, d.planes)) return name;
  }
  return null;
}
