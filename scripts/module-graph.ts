// The module graph in docs/ARCHITECTURE.md, generated from the code: every relative import of the
// .ts/.mjs files under src/, kernels/, plot/, examples/ and bench/ (parsed by scripts/imports.ts, as the
// dependency-rule test parses them), grouped by folder, plus the kernels' references to shaders/ by
// name. Written as a Mermaid flowchart, which GitHub renders as a picture.
// Usage: node --import tsx scripts/module-graph.ts [--write]
//   prints the diagram; --write puts it between the markers in docs/ARCHITECTURE.md
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importsOf, root, sourceFiles } from './imports.ts';

export const DOC = 'docs/ARCHITECTURE.md';
export const BEGIN = '<!-- module-graph:begin -->';
export const END = '<!-- module-graph:end -->';

/** The folders whose files are graphed. */
const DIRS = ['src', 'kernels', 'plot', 'examples', 'bench'];
/** Node order in the diagram, top (applications) to bottom (the runtime); other groups follow, sorted. */
const ORDER = ['examples/celeba-train', 'examples/browser', 'bench', 'scripts', 'plot', 'src/entries', 'src/nn', 'src/optim',
  'src/ops', 'src/autograd', 'src/tensor', 'src/io', 'src/vision', 'kernels', 'shaders', 'src/gpu'];
/** src/'s own files: the package's entries; functional.ts (`F`, the ops' re-exports) goes with src/ops; the rest with the tensor. */
const ENTRIES = ['src/index.ts', 'src/node.ts', 'src/browser.ts', 'src/kernels.ts'];
const WITH_OPS = ['src/functional.ts'];
const CAPTION: Record<string, string> = {
  'src/entries': 'public entries<br/>src/index.ts, node.ts, browser.ts, kernels.ts',
  'src/ops': 'src/ops<br/>with src/functional.ts',
  'src/tensor': 'src/tensor.ts<br/>with metrics.ts, rng.ts',
};

export interface GraphNode {
  name: string; files: number; lines: number;
  /** For a folder outside the graphed ones: the only files of it counted (those imported). */
  only?: string[];
}
export interface GraphEdge { from: string; to: string; count: number; kind: 'imports' | 'shader refs' }
export interface ModuleGraph { nodes: GraphNode[]; edges: GraphEdge[] }

/**
 * The node a file belongs to: its folder under src/ or examples/; src's own files split into the
 * entries (src/entries), src/functional.ts (with src/ops) and the tensor with the rest (src/tensor);
 * else its top folder.
 */
export function groupOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'src' && parts.length === 2) return ENTRIES.includes(file) ? 'src/entries' : WITH_OPS.includes(file) ? 'src/ops' : 'src/tensor';
  if ((parts[0] === 'src' || parts[0] === 'examples') && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

const countLines = (text: string) => text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

export function moduleGraph(): ModuleGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const addFile = (file: string, text: string) => {
    const name = groupOf(file);
    const n = nodes.get(name) ?? { name, files: 0, lines: 0 };
    n.files++; n.lines += countLines(text);
    nodes.set(name, n);
  };
  const addEdge = (from: string, to: string, kind: GraphEdge['kind'], count = 1) => {
    if (from === to || count === 0) return;
    const key = `${from}\0${to}`;
    const e = edges.get(key) ?? { from, to, count: 0, kind };
    e.count += count;
    edges.set(key, e);
  };

  const shaders = existsSync(join(root, 'shaders'))
    ? readdirSync(join(root, 'shaders')).filter((n) => n.endsWith('.wgsl')).sort() : [];
  for (const s of shaders) addFile(`shaders/${s}`, readFileSync(join(root, 'shaders', s), 'utf8'));
  const shaderNames = new Set(shaders.map((s) => s.replace(/\.wgsl$/, '')));

  const outside = new Set<string>(); // imported files outside the graphed folders (scripts/build.ts)
  for (const file of sourceFiles(...DIRS)) {
    const text = readFileSync(join(root, file), 'utf8');
    addFile(file, text);
    for (const target of importsOf(text, file)) {
      addEdge(groupOf(file), groupOf(target), 'imports');
      if (!DIRS.includes(target.split('/')[0]) && existsSync(join(root, target))) outside.add(target);
    }
    // a kernel names its shader family by a string literal ({ shader: 'conv2d_tex' }, readShader('common')):
    // one reference per file and family
    if (file.startsWith('kernels/')) {
      const named = new Set([...text.matchAll(/['"]([a-z0-9_]+)['"]/g)].map((m) => m[1]).filter((s) => shaderNames.has(s)));
      addEdge(groupOf(file), 'shaders', 'shader refs', named.size);
    }
  }

  // such a file is a node of its folder, counting only the files imported
  for (const file of [...outside].sort()) {
    addFile(file, readFileSync(join(root, file), 'utf8'));
    const n = nodes.get(groupOf(file))!;
    n.only = [...(n.only ?? []), file.slice(file.indexOf('/') + 1)];
  }

  const rank = (name: string) => { const i = ORDER.indexOf(name); return i < 0 ? ORDER.length : i; };
  const byRank = (a: string, b: string) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
  return {
    nodes: [...nodes.values()].sort((a, b) => byRank(a.name, b.name)),
    edges: [...edges.values()].sort((a, b) => byRank(a.from, b.from) || byRank(a.to, b.to)),
  };
}

const id = (name: string) => name.replace(/[^A-Za-z0-9]/g, '_');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The graph as a Mermaid flowchart, in a fenced block. */
export function renderMermaid(graph: ModuleGraph): string {
  const lines = ['```mermaid', 'flowchart TB'];
  for (const n of graph.nodes) {
    const title = CAPTION[n.name] ?? (n.name.includes('/') ? n.name : `${n.name}/`) + (n.only ? `<br/>(imported: ${n.only.join(', ')})` : '');
    lines.push(`  ${id(n.name)}["${title}<br/>${plural(n.files, 'file')}, ${plural(n.lines, 'line')}"]`);
  }
  for (const e of graph.edges) {
    const label = e.kind === 'imports' ? plural(e.count, 'import') : plural(e.count, 'shader ref');
    lines.push(`  ${id(e.from)} -->|"${label}"| ${id(e.to)}`);
  }
  lines.push('```');
  return lines.join('\n');
}

/** What lies between the markers of a document (trimmed), or null without them. */
export function committedDiagram(doc: string): string | null {
  const b = doc.indexOf(BEGIN), e = doc.indexOf(END);
  if (b < 0 || e < b) return null;
  return doc.slice(b + BEGIN.length, e).trim();
}

/** The document with the diagram put between its markers. */
export function withDiagram(doc: string, diagram: string): string {
  const b = doc.indexOf(BEGIN), e = doc.indexOf(END);
  if (b < 0 || e < b) throw new Error(`${DOC} has no ${BEGIN} ... ${END} markers`);
  return `${doc.slice(0, b + BEGIN.length)}\n${diagram}\n${doc.slice(e)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const diagram = renderMermaid(moduleGraph());
  if (process.argv.includes('--write')) {
    const path = join(root, DOC);
    const before = readFileSync(path, 'utf8');
    const after = withDiagram(before, diagram);
    if (after !== before) writeFileSync(path, after);
    console.log(after === before ? `${DOC}: the module graph is up to date` : `${DOC}: module graph written`);
  } else {
    console.log(diagram);
  }
}
