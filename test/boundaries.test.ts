// The dependency rule: examples and bench -> the public entries (and plot/) -> src -> kernels ->
// shaders, and kernels -> src/gpu, which imports nothing of the project, nor does plot/; no import
// cycle anywhere. Parses every
// relative import (static, re-export, dynamic, type-only) and fails on an arrow pointing the wrong way.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importsOf, root, sourceFiles as files } from '../scripts/imports.ts';

const imports = (file: string) => importsOf(readFileSync(join(root, file), 'utf8'), file);

/** The package's entries (package.json "exports"): all an application may import of the library. */
export const PUBLIC_ENTRIES = ['src/index.ts', 'src/node.ts', 'src/browser.ts', 'src/vision/index.ts', 'src/kernels.ts'];
const isLibrary = (t: string) => t.startsWith('src/') || t.startsWith('kernels/') || t.startsWith('shaders/');
/** What an application may import of the project: the public entries, and plot/ (charts, not part of the library). */
const forApplications = (t: string) => PUBLIC_ENTRIES.includes(t) || t.startsWith('plot/');

type Rule = [prefix: string, allowed: (target: string) => boolean, why: string];
const RULES: Rule[] = [
  ['src/gpu/', (t) => t.startsWith('src/gpu/'), 'src/gpu imports nothing of the project'],
  ['kernels/', (t) => t.startsWith('kernels/') || t.startsWith('src/gpu/') || t.startsWith('shaders/'), 'kernels import only src/gpu and shaders'],
  ['src/', isLibrary, 'the library imports nothing of examples, bench, plot, scripts or tests'],
  ['plot/', (t) => t.startsWith('plot/'), 'plot imports nothing of the project'],
  // the browser demo runs the trainer's model on the same CelebA attributes and recipe, and its
  // server builds the browser bundle: example-to-example sharing and the build script, nothing else
  ['examples/browser/', (t) => forApplications(t) || t.startsWith('examples/') || t === 'scripts/build.ts',
    'the browser example imports the public entries, plot, the other example and the build script'],
  ['examples/', (t) => forApplications(t) || t.startsWith('examples/'), 'examples import the library through its public entries'],
  ['bench/', (t) => forApplications(t) || t.startsWith('bench/'), 'benchmarks import the library through its public entries (src/kernels.ts for the kernel families)'],
];

/** Files on an import cycle, one cycle per entry (Tarjan's strongly connected components). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next++); stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const s = suite('boundaries: dependency rule');

s('no import points up the layers or past the public entries', () => {
  const violations: string[] = [];
  for (const from of files('src', 'kernels', 'plot', 'examples', 'bench')) {
    const rule = RULES.find(([prefix]) => from.startsWith(prefix))!;
    for (const target of imports(from)) if (!rule[1](target)) violations.push(`${from} -> ${target} (${rule[2]})`);
  }
  assert.equal(violations, [], `imports against the layering:\n${violations.join('\n')}`);
});

s('every relative import names an existing file', () => {
  const missing = files('src', 'kernels', 'plot', 'examples', 'bench', 'scripts', 'test')
    .flatMap((from) => imports(from).filter((t) => !existsSync(join(root, t))).map((t) => `${from} -> ${t}`));
  assert.equal(missing, []);
});

s('no import cycle anywhere', () => {
  const graph = new Map(files('src', 'kernels', 'plot', 'examples', 'bench', 'scripts', 'test').map((f) => [f, imports(f)] as const));
  const found = cycles(graph);
  assert.equal(found, [], `import cycles:\n${found.map((c) => c.join(' <-> ')).join('\n')}`);
});

s('the cycle check finds a cycle, and only a cycle', () => {
  const g = (edges: [string, string][]) => {
    const m = new Map<string, string[]>();
    for (const [a, b] of edges) { m.set(a, [...(m.get(a) ?? []), b]); if (!m.has(b)) m.set(b, []); }
    return m;
  };
  assert.equal(cycles(g([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd']])), [['a', 'b', 'c']]);
  assert.equal(cycles(g([['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']])), []);
  assert.equal(cycles(g([['x', 'x']])), [['x']]);
});

s('the rules reject what they must', () => {
  const allowed = (from: string, to: string) => RULES.find(([p]) => from.startsWith(p))![1](to);
  assert.not.ok(allowed('examples/celeba-train/train.ts', 'src/ops/loss.ts'));
  assert.not.ok(allowed('bench/train_step.ts', 'src/tensor.ts'));
  assert.not.ok(allowed('kernels/conv2d.ts', 'src/tensor.ts'));
  assert.not.ok(allowed('src/gpu/device.ts', 'kernels/peak.ts'));
  assert.not.ok(allowed('src/nn/resnest.ts', 'examples/celeba-train/setup.ts'));
  assert.not.ok(allowed('bench/conv2d.bench.ts', 'kernels/conv2d.ts'));
  assert.not.ok(allowed('bench/data.bench.ts', 'examples/celeba-train/celeba/index.ts'));
  assert.not.ok(allowed('examples/celeba-train/setup.ts', 'scripts/build.ts'));
  assert.not.ok(allowed('plot/png.ts', 'src/index.ts'));
  assert.ok(allowed('examples/celeba-train/train.ts', 'src/vision/index.ts'));
  assert.ok(allowed('bench/conv2d.bench.ts', 'src/kernels.ts'));
  assert.ok(allowed('bench/chart.ts', 'plot/index.ts'));
  assert.ok(allowed('examples/browser/main.ts', 'examples/celeba-train/celeba/labels.ts'));
  const sample = ['import type { A } from', "'./a.ts';\nexport * from", "'../b/c.ts';\nawait import(", "'./d.ts');"].join(' ');
  assert.equal(importsOf(sample, 'src/x/y.ts'),
    ['src/x/a.ts', 'src/b/c.ts', 'src/x/d.ts']);
});

s('shaders/ holds only WGSL', () => {
  const other = readdirSync(join(root, 'shaders')).filter((n) => !n.endsWith('.wgsl'));
  assert.equal(other, []);
});

s.run();
