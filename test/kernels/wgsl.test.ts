// The WGSL preprocessing (kernels/wgsl.ts): common.wgsl and a shader's named family prelude go in
// front of it, `enable` directives first; every shader assembles; no shader file over 300 lines.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { assembleWgsl, preludesOf } from '../../kernels/wgsl.ts';
import { readShader } from '../../kernels/wgsl_source.ts';
import { assertThrowsWith } from '../helpers.ts';

const s = suite('kernels: WGSL preludes');
const dir = new URL('../../shaders/', import.meta.url);
const shaders = readdirSync(dir).filter((n) => n.endsWith('.wgsl')).map((n) => n.replace(/\.wgsl$/, ''));

const source = (files: Record<string, string>) => (name: string) => {
  if (!(name in files)) throw new Error(`unknown shader ${name}`);
  return files[name];
};

s('common, then the named preludes, then the shader; enable directives gathered in front, once', () => {
  const read = source({
    common: 'fn common_fn() {}\n',
    fam_common: 'enable f16;\nconst SHARED = 1u;\n',
    fam_fwd: 'enable f16;\nenable subgroups;\n// prelude: fam_common\nfn fam_fwd() {}\n',
  });
  const text = assembleWgsl('fam_fwd', read);
  assert.is(text, 'enable f16;\nenable subgroups;\nfn common_fn() {}\n\nconst SHARED = 1u;\n\n// prelude: fam_common\nfn fam_fwd() {}\n');
  assert.is(assembleWgsl('plain', source({ common: 'A\n', plain: 'B\n' })), 'A\n\nB\n');
});

s('a missing prelude, or a prelude naming another, is refused naming the shader', () => {
  assertThrowsWith(() => assembleWgsl('x', source({ common: '', x: '// prelude: nope\n' })), /shader x: its prelude nope cannot be read/);
  assertThrowsWith(() => assembleWgsl('x', source({ common: '', x: '// prelude: a\n', a: '// prelude: b\n', b: '' })),
    /shader x: its prelude a names a prelude itself/);
});

s('every shader assembles, and the families that share code name their preludes', () => {
  for (const name of shaders) assembleWgsl(name, readShader);
  for (const name of ['batchnorm2d_fwd', 'batchnorm2d_bwd']) assert.equal(preludesOf(readShader(name)), ['batchnorm2d_common']);
  for (const name of ['pool2d_fwd', 'pool2d_bwd', 'pool2d_adaptive']) assert.equal(preludesOf(readShader(name)), ['pool2d_common']);
});

s('no shader file is over 300 lines', () => {
  const long = shaders.map((n) => [n, readFileSync(new URL(`${n}.wgsl`, dir), 'utf8').split('\n').length - 1] as const).filter(([, lines]) => lines > 300);
  assert.equal(long, []);
});

s.run();
