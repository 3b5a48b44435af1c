// The single preprocessing step on WGSL: shaders/common.wgsl is prepended to each family
// (after the family's `enable` directives, which WGSL requires first), and a line
// `//! include <piece>` is replaced by shaders/<piece>.wgsl, so that kernels of one family that
// share a tile loop or a geometry keep it in one file. A piece may include pieces; each is
// included once per module. The directive is a comment, so every file stays valid WGSL text.
import { gpu } from '../src/gpu/index.ts';
import { readShader } from './wgsl_source.ts';

const INCLUDE = /^\/\/! include ([a-z0-9_]+)[ \t]*$/gm;
const ENABLE = /^enable [^;]+;\n/gm;

/** The shader's text with its includes expanded (each piece once; a piece named twice is left out the second time). */
export function expandIncludes(name: string, seen = new Set<string>([name])): string {
  return readShader(name).replace(INCLUDE, (_, piece: string) => {
    if (seen.has(piece)) return `// ${piece}: included above`;
    seen.add(piece);
    return expandIncludes(piece, seen);
  });
}

export function wgsl(family: string): string {
  const cache = gpu().state('wgsl', () => new Map<string, string>());
  let text = cache.get(family);
  if (text === undefined) {
    // `enable` directives must open the module: they go before the common prelude
    const body = expandIncludes(family);
    const enables = [...new Set(body.match(ENABLE) ?? [])];
    text = `${enables.join('')}${readShader('common')}\n${body.replace(ENABLE, '')}`;
    cache.set(family, text);
  }
  return text;
}
