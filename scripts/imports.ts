// The project's import parser, shared by the dependency-rule test (test/boundaries.test.ts) and the
// module graph in docs/ARCHITECTURE.md (scripts/module-graph.ts): one reading of what imports what.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const walk = (dir: string): string[] => readdirSync(dir).sort().flatMap((n) => {
  const p = join(dir, n);
  if (statSync(p).isDirectory()) return n === 'node_modules' || n === 'fixtures' ? [] : walk(p);
  return /\.(ts|mjs)$/.test(n) ? [p] : [];
});

/** Every .ts/.mjs file under the given folders (fixtures and node_modules left out), relative to the root. */
export const sourceFiles = (...dirs: string[]): string[] => dirs.flatMap((d) => walk(join(root, d))).map((f) => relative(root, f));

/** Project files a file imports (static, re-export, dynamic, type-only), relative to the repository root. */
export function importsOf(text: string, from: string): string[] {
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return specs.map((m) => m[1] ?? m[2]).filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(root, dirname(from), s)));
}
