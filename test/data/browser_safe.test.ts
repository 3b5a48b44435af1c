import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const s = suite('data: browser-safe entry');

s('src/data/index.ts bundles for the browser without any Node built-in', async () => {
  const entry = fileURLToPath(new URL('../../src/data/index.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true,
  });
  const inputs = Object.keys(result.metafile!.inputs);
  assert.ok(inputs.some((f) => f.endsWith('synthetic.ts')));
  assert.not.ok(inputs.some((f) => /loader|worker|_fs\.ts|threads|node\.ts/.test(f)), inputs.join('\n'));
  assert.not.match(result.outputFiles[0].text, /from\s*["']node:|require\(["'](fs|path|worker_threads|zlib)["']\)/);
});

s.run();
