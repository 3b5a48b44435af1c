// The WGSL preprocessing (kernels/wgsl.ts): common.wgsl goes in front, `//! include <piece>` lines are
// expanded in place (nested, once each), `enable` directives first; every shader assembles; no shader
// file over 300 lines.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { assembleWgsl, includesOf } from '../../kernels/wgsl.ts';
import { readShader } from '../../kernels/wgsl_source.ts';
import { assertThrowsWith } from '../helpers.ts';

const s = suite('kernels: WGSL includes');
const dir = new URL('../../shaders/', import.meta.url);
const shaders = readdirSync(dir).filter((n) => n.endsWith('.wgsl')).map((n) => n.replace(/\.wgsl$/, ''));

const source = (files: Record<string, string>) => (name: string) => {
  if (!(name in files)) throw new Error(`unknown shader ${name}`);
  return files[name];
};

s('common, then the shader with its pieces in place; enable directives gathered in front, once', () => {
  const read = source({
    common: 'fn common_fn() {}\n',
    fam_common: 'enable f16;\nconst SHARED = 1u;\n',
    fam_fwd: 'enable f16;\nenable subgroups;\n//! include fam_common\nfn fam_fwd() {}\n',
  });
  assert.is(assembleWgsl('fam_fwd', read), 'enable f16;\nenable subgroups;\nfn common_fn() {}\n\nconst SHARED = 1u;\n\nfn fam_fwd() {}\n');
  assert.is(assembleWgsl('plain', source({ common: 'A\n', plain: 'B\n' })), 'A\n\nB\n');
});

s('pieces include pieces, each once per module', () => {
  const read = source({ common: '', a: 'A\n', b: '//! include a\nB\n', x: '//! include b\n//! include a\nX\n' });
  assert.is(assembleWgsl('x', read), '\nA\n\nB\n\n// a: included above\nX\n');
});

s('a missing piece is refused naming the shader that includes it', () => {
  assertThrowsWith(() => assembleWgsl('x', source({ common: '', x: '//! include nope\n' })), /shader x: its include nope cannot be read/);
  assertThrowsWith(() => assembleWgsl('x', source({ common: '', x: '//! include a\n', a: '//! include b\n' })), /shader a: its include b cannot be read/);
});

s('every shader assembles, and the families that share code include their pieces', () => {
  for (const name of shaders) assembleWgsl(name, readShader);
  for (const name of ['batchnorm2d_fwd', 'batchnorm2d_bwd']) assert.ok(includesOf(readShader(name)).includes('batchnorm2d_common'), name);
  for (const name of ['pool2d_fwd', 'pool2d_bwd', 'pool2d_adaptive']) assert.ok(includesOf(readShader(name)).includes('pool2d_common'), name);
  for (const name of ['conv2d_gemm', 'conv2d_tiled']) assert.ok(includesOf(readShader(name)).includes('conv2d_gemm_tile'), name);
  for (const name of ['conv2d_tex_pack', 'conv2d_sgtex_pack']) assert.ok(includesOf(readShader(name)).includes('conv2d_grid_pack'), name);
});

s('no shader file is over 300 lines', () => {
  const long = shaders.map((n) => [n, readFileSync(new URL(`${n}.wgsl`, dir), 'utf8').split('\n').length - 1] as const).filter(([, lines]) => lines > 300);
  assert.equal(long, []);
});

s.run();
