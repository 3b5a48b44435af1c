// The single preprocessing step on WGSL: shaders/common.wgsl is prepended to each family.
import { gpu } from '../src/gpu/index.ts';
import { readShader } from './wgsl_source.ts';

export function wgsl(family: string): string {
  const cache = gpu().state('wgsl', () => new Map<string, string>());
  let text = cache.get(family);
  if (text === undefined) {
    text = `${readShader('common')}\n${readShader(family)}`;
    cache.set(family, text);
  }
  return text;
}
