// The module graph in docs/ARCHITECTURE.md is generated from the code (scripts/module-graph.ts):
// the committed picture must be the one the code gives now, and it must show the dependency rule:
// src/gpu imports nothing of the project, kernels reach into src only through src/gpu.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../../scripts/imports.ts';
import { DOC, committedDiagram, groupOf, moduleGraph, renderMermaid, withDiagram } from '../../scripts/module-graph.ts';

const s = suite('docs: module graph');
const graph = moduleGraph();

s('the committed diagram is the one the code gives now', () => {
  const committed = committedDiagram(readFileSync(join(root, DOC), 'utf8'));
  assert.ok(committed !== null, `${DOC} has lost its <!-- module-graph:begin --> / <!-- module-graph:end --> markers`);
  assert.ok(committed === renderMermaid(graph),
    `the module graph in ${DOC} is out of date: run \`node --import tsx scripts/module-graph.ts --write\` and commit the result`);
});

s('src/gpu has no arrow to anything of the project', () => {
  assert.equal(graph.edges.filter((e) => e.from === 'src/gpu').map((e) => `src/gpu -> ${e.to}`), []);
});

s('no arrow from kernels into src other than src/gpu', () => {
  const isSrc = (n: string) => n === 'src' || n.startsWith('src/');
  assert.equal(graph.edges.filter((e) => e.from === 'kernels' && isSrc(e.to) && e.to !== 'src/gpu').map((e) => `kernels -> ${e.to}`), []);
  assert.ok(graph.edges.some((e) => e.from === 'kernels' && e.to === 'src/gpu'), 'kernels -> src/gpu is missing');
});

s('the graph has the groups it promises, and arrows between different groups only', () => {
  const names = graph.nodes.map((n) => n.name);
  for (const n of ['src/gpu', 'src/autograd', 'src/ops', 'src/nn', 'src/optim', 'src/io', 'src/vision', 'src/entries',
    'src/tensor', 'kernels', 'shaders', 'plot', 'examples/celeba-train', 'examples/browser', 'bench']) assert.ok(names.includes(n), `no node ${n}`);
  for (const e of graph.edges) {
    assert.ok(e.from !== e.to && names.includes(e.from) && names.includes(e.to), `${e.from} -> ${e.to}`);
    assert.ok(e.count > 0);
  }
  assert.is(groupOf('src/tensor.ts'), 'src/tensor');
  assert.is(groupOf('src/node.ts'), 'src/entries');
  assert.is(groupOf('src/kernels.ts'), 'src/entries');
  assert.is(groupOf('src/vision/index.ts'), 'src/vision');
  assert.is(groupOf('examples/celeba-train/synthetic/make.ts'), 'examples/celeba-train');
  assert.is(groupOf('bench/model/run.ts'), 'bench');
});

s('--write puts the diagram between the markers and keeps the rest', () => {
  const doc = 'a\n<!-- module-graph:begin -->\nold\n<!-- module-graph:end -->\nb\n';
  const out = withDiagram(doc, 'new');
  assert.is(out, 'a\n<!-- module-graph:begin -->\nnew\n<!-- module-graph:end -->\nb\n');
  assert.is(committedDiagram(out), 'new');
  assert.is(withDiagram(out, 'new'), out);
  assert.throws(() => withDiagram('no markers', 'x'));
});

s.run();
