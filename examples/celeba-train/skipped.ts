// --skip-bad-images: every label line and image left out is named in the log (once per run for
// an image, which is skipped again each epoch) and collected for report.md, split by split.
import type { DataProblem } from './celeba/index.ts';
import type { SkippedImage } from './steps.ts';

export type SkipSplit = 'train' | 'val' | 'test';
export interface SplitSkip extends SkippedImage { split: SkipSplit }

export class SkipLog {
  private readonly named = new Set<string>();

  constructor(private readonly log: (s: string) => void) {}

  labelLines(problems: readonly DataProblem[]): void {
    for (const p of problems) this.log(`--skip-bad-images: left out ${p.file}:${p.line}: ${p.message}`);
  }

  images(split: SkipSplit, skipped: readonly SkippedImage[]): SplitSkip[] {
    for (const s of skipped) {
      if (this.named.has(s.path)) continue;
      this.named.add(s.path);
      this.log(`--skip-bad-images: skipped (${split}) ${s.reason}`);
    }
    return skipped.map((s) => ({ ...s, split }));
  }
}

/** One entry per (split, image): an image skipped every epoch is listed once. */
export function uniqueSkips(all: readonly SplitSkip[]): SplitSkip[] {
  const seen = new Map<string, SplitSkip>();
  for (const s of all) seen.set(`${s.split}\0${s.path}`, s);
  return [...seen.values()];
}
