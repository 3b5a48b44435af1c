// The single preprocessing step on WGSL. shaders/common.wgsl (the thread-index preamble) goes in
// front of every shader, and a line `//! include <piece>` is replaced by shaders/<piece>.wgsl, so
// that the kernels of one family keep what they share (parameter blocks, a tile loop, a geometry)
// in one file. A piece may include pieces; each goes in once per module. The directive is a
// comment, so every file stays valid WGSL text. `enable` directives, which must open the module,
// are gathered from all the parts and put first, once each.
import { gpu } from '../src/gpu/index.ts';
import { readShader } from './wgsl_source.ts';

const INCLUDE = /^\/\/! include ([a-z0-9_]+)[ \t]*$/gm;
const ENABLE = /^enable [^;]+;\n/gm;

/** The pieces a shader includes directly, in order. */
export function includesOf(body: string): string[] {
  return [...body.matchAll(INCLUDE)].map((m) => m[1]);
}

/** The module text of `shader` from a source of shader texts: common, then the shader with its includes expanded. */
export function assembleWgsl(shader: string, read: (name: string) => string): string {
  const seen = new Set<string>([shader, 'common']);
  const expand = (name: string, by: string): string => {
    let text: string;
    try { text = read(name); } catch (e) {
      throw new Error(name === shader ? (e as Error).message : `shader ${by}: its include ${name} cannot be read (${(e as Error).message})`);
    }
    return text.replace(INCLUDE, (_, piece: string) => {
      if (seen.has(piece)) return `// ${piece}: included above`;
      seen.add(piece);
      return expand(piece, name);
    });
  };
  const parts = [read('common'), expand(shader, shader)];
  const enables = [...new Set(parts.flatMap((t) => t.match(ENABLE) ?? []))];
  return `${enables.join('')}${parts.map((t) => t.replace(ENABLE, '')).join('\n')}`;
}

export function wgsl(shader: string): string {
  const cache = gpu().state('wgsl', () => new Map<string, string>());
  let text = cache.get(shader);
  if (text === undefined) {
    text = assembleWgsl(shader, readShader);
    cache.set(shader, text);
  }
  return text;
}
