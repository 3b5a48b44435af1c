import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const s = suite('vision: browser-safe entry');

s('src/vision/index.ts bundles for the browser without any Node built-in', async () => {
  const entry = fileURLToPath(new URL('../../src/vision/index.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true,
  });
  const inputs = Object.keys(result.metafile!.inputs);
  assert.ok(inputs.some((f) => f.endsWith('transforms.ts')) && inputs.some((f) => f.endsWith('loader.ts')));
  assert.not.ok(inputs.some((f) => /worker\.ts|celeba|synthetic/.test(f)), inputs.join('\n'));
  assert.not.match(result.outputFiles[0].text, /from\s*["']node:|require\(["'](fs|path|worker_threads|zlib|os)["']\)/);
});

s('the loader says it needs Node where Node\'s modules are missing', async () => {
  const { defaultWorkerCount } = await import('../../src/vision/index.ts');
  const g = globalThis as { process?: unknown };
  const saved = g.process;
  g.process = undefined;
  try {
    assert.throws(() => defaultWorkerCount(), /worker threads need Node/);
  } finally {
    g.process = saved;
  }
});

s.run();
