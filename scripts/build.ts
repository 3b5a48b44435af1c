// npm run build: the browser bundle (ESM, source maps) of the same src/ as Node. Two modules
// are swapped: the device provider (Dawn -> navigator.gpu) and the WGSL source reader
// (fs -> every shaders/*.wgsl embedded as text). Fails if any Node built-in is pulled in.
import { build, type Plugin } from 'esbuild';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

const browserSwaps: Plugin = {
  name: 'browser-swaps',
  setup(b) {
    b.onResolve({ filter: /provider_node\.ts$/ }, () => ({ path: join(root, 'src/gpu/provider_browser.ts') }));
    b.onResolve({ filter: /wgsl_source\.ts$/ }, () => ({ path: 'wgsl-embedded', namespace: 'wgsl' }));
    b.onLoad({ filter: /.*/, namespace: 'wgsl' }, () => {
      const shaders: Record<string, string> = {};
      for (const f of readdirSync(join(root, 'shaders')).filter((n) => n.endsWith('.wgsl'))) {
        shaders[f.replace(/\.wgsl$/, '')] = readFileSync(join(root, 'shaders', f), 'utf8');
      }
      return {
        loader: 'js',
        contents: `const shaders = ${JSON.stringify(shaders)};
export function readShader(name) {
  const text = shaders[name];
  if (text === undefined) throw new Error('unknown shader ' + name);
  return text;
}`,
      };
    });
    b.onResolve({ filter: /^(node:|fs$|path$|url$|worker_threads$|os$|crypto$|child_process$)/ }, (args) => ({
      errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer} cannot go into the browser bundle` }],
    }));
  },
};

export async function buildBrowserBundle(outfile = join(root, 'dist/resnest-webgpu.browser.js'), minify = true): Promise<number> {
  await build({
    entryPoints: [join(root, 'src/browser.ts')],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, minify,
    outfile, plugins: [browserSwaps], logLevel: 'warning', legalComments: 'none',
  });
  return statSync(outfile).size;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(root, 'dist/resnest-webgpu.browser.js');
  const size = await buildBrowserBundle(out);
  const gz = gzipSync(readFileSync(out)).length;
  console.log(`dist/resnest-webgpu.browser.js: ${(size / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped (source map beside it)`);
}
