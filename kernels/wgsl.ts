// The single preprocessing step on WGSL: shaders/common.wgsl is prepended to each family
// (after the family's `enable` directives, which WGSL requires first).
import { gpu } from '../src/gpu/index.ts';
import { readShader } from './wgsl_source.ts';

export function wgsl(family: string): string {
  const cache = gpu().state('wgsl', () => new Map<string, string>());
  let text = cache.get(family);
  if (text === undefined) {
    // `enable` directives must open the module: they go before the common prelude
    const body = readShader(family);
    const enables = body.match(/^enable [^;]+;\n/gm) ?? [];
    text = `${enables.join('')}${readShader('common')}\n${body.replace(/^enable [^;]+;\n/gm, '')}`;
    cache.set(family, text);
  }
  return text;
}
