// Test entry: runs every test/**/*.test.ts through uvu in one process (one GPU device for all),
// then prints the closing line `N passed, N failed` that CI reads.
// Usage: node --import tsx test/run.ts [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Runner = () => Promise<[string | true, number, number, number]>;
const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: Array<Array<string | Runner | null>>; UVU_INDEX: number };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];

const root = fileURLToPath(new URL('.', import.meta.url));
function findTests(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'artifacts' ? [] : findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests(root).filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
for (const [index, file] of files.entries()) {
  g.UVU_QUEUE.push([relative(root, file)]);
  g.UVU_INDEX = index;
  await import(pathToFileURL(file).href);
}

let passed = 0, failed = 0;
for (const group of g.UVU_QUEUE) {
  for (let i = 1; i < group.length; i++) {
    const run = group[i] as Runner;
    group[i] = async () => {
      const result = await run();
      const [, ran, , total] = result;
      passed += ran; failed += total - ran;
      return result;
    };
  }
}
const { exec } = await import('uvu');
await exec();
const { releaseDevice } = await import('../src/gpu/device.ts');
await releaseDevice();
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
