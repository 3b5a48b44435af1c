// Browser-safe data API: nothing reachable from here imports a Node built-in. Filesystem reading,
// worker threads and the CLI are in node.ts (which re-exports all of this too).
export * from './prng.ts';
export * from './image.ts';
export * from './decode.ts';
export * from './transforms.ts';
export * from './color.ts';
export * from './augment.ts';
export * from './celeba_labels.ts';
export * from './synthetic.ts';
export { encodeJpeg } from './jpeg_encode.ts';
export { Canvas } from './synthetic_draw.ts';
export type { SyntheticOptions, SyntheticResult } from './synthetic_fs.ts';

/**
 * Write a synthetic CelebA-format set to disk (Node only; see synthetic_fs.ts). The Node module is
 * loaded through a computed specifier so that browser bundlers never follow it into node:fs.
 */
export async function makeSyntheticCelebA(
  opts: import('./synthetic_fs.ts').SyntheticOptions,
): Promise<import('./synthetic_fs.ts').SyntheticResult> {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error('makeSyntheticCelebA writes files and needs Node; use renderSyntheticImage in a browser');
  }
  const nodeOnly = new URL('./synthetic_fs.ts', import.meta.url).href;
  const mod = (await import(/* @vite-ignore */ nodeOnly)) as typeof import('./synthetic_fs.ts');
  return mod.makeSyntheticCelebA(opts);
}
