// The single preprocessing step on WGSL: shaders/common.wgsl is prepended to each family.
import { readShader } from './wgsl_source.ts';

const cache = new Map<string, string>();

export function wgsl(family: string): string {
  let text = cache.get(family);
  if (text === undefined) {
    text = `${readShader('common')}\n${readShader(family)}`;
    cache.set(family, text);
  }
  return text;
}
