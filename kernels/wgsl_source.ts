// Node: WGSL files are read from shaders/ beside this folder. The browser bundle and the npm package replace
// this module with one that embeds every shaders/*.wgsl file (scripts/build.ts).
import { readFileSync } from 'node:fs';

export function readShader(name: string): string {
  return readFileSync(new URL(`../shaders/${name}.wgsl`, import.meta.url), 'utf8');
}
