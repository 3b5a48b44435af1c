// The single preprocessing step on WGSL. Every shader gets shaders/common.wgsl (the thread-index
// preamble) in front of it; a shader that shares declarations with the other shaders of its
// family names the family's prelude in a line `// prelude: <name>` (batchnorm2d_common,
// pool2d_common), which goes in front too, so helpers live once per family instead of once per
// file. Module-scope declarations may come in any order in WGSL, so prepending is all an include
// needs; `enable` directives, which must open the module, are gathered and put first.
import { gpu } from '../src/gpu/index.ts';
import { readShader } from './wgsl_source.ts';

const PRELUDE = /^\/\/ prelude: ([a-z0-9_]+)[ \t]*$/gm;
const ENABLE = /^enable [^;]+;\n/gm;

/** The preludes a shader names, in order. */
export function preludesOf(body: string): string[] {
  return [...body.matchAll(PRELUDE)].map((m) => m[1]);
}

/** The module text of `shader` from a source of shader texts: common, its preludes, itself. */
export function assembleWgsl(shader: string, read: (name: string) => string): string {
  const body = read(shader);
  const parts = ['common', ...preludesOf(body)].map((name) => {
    let text: string;
    try { text = read(name); } catch (e) { throw new Error(`shader ${shader}: its prelude ${name} cannot be read (${(e as Error).message})`); }
    if (preludesOf(text).length) throw new Error(`shader ${shader}: its prelude ${name} names a prelude itself (one level only)`);
    return text;
  });
  parts.push(body);
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
