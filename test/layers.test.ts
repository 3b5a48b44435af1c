// The dependency rule: examples -> src (nn, ops, tape) -> kernels -> shaders, and kernels -> src/gpu,
// which imports nothing of the project. Parses every import and fails on an arrow pointing back.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n);
  return statSync(p).isDirectory() ? walk(p) : /\.(ts|mjs)$/.test(n) ? [p] : [];
});

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return specs.map((m) => m[1] ?? m[2]).filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(dirname(file), s)));
}

const rules: [string, (target: string) => boolean][] = [
  ['src/gpu/', (t) => t.startsWith('src/gpu/')],
  ['kernels/', (t) => t.startsWith('kernels/') || t.startsWith('src/gpu/') || t.startsWith('shaders/')],
  ['src/', (t) => !t.startsWith('examples/') && !t.startsWith('bench/') && !t.startsWith('test/')],
];

const s = suite('layers: dependency rule');
s('no import points up the layers', () => {
  const violations: string[] = [];
  for (const dir of ['src', 'kernels']) {
    for (const file of walk(join(root, dir))) {
      const from = relative(root, file);
      const rule = rules.find(([prefix]) => from.startsWith(prefix))!;
      for (const target of imports(file)) if (!rule[1](target)) violations.push(`${from} -> ${target}`);
    }
  }
  assert.equal(violations, [], `imports against the layering:\n${violations.join('\n')}`);
});
s('shaders/ holds only WGSL', () => {
  const other = readdirSync(join(root, 'shaders')).filter((n) => !n.endsWith('.wgsl'));
  assert.equal(other, []);
});
s.run();
