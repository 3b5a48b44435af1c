// npm run build (and npm pack, through prepack): everything the published package runs from.
//   dist/resnest-webgpu.browser.js  the browser bundle (ESM, source map): the device provider is
//                                   swapped for navigator.gpu; fails if a Node built-in is pulled in
//   dist/node/                      ESM JavaScript for Node: the library entries, the bins and the
//                                   worker-thread modules, with shared chunks (one copy of the
//                                   device state however many entries are imported)
//   dist/types/                     .d.ts of the public entries (tsc)
// Both bundles embed every shaders/*.wgsl as text, and run without a TypeScript loader.
import { build, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { basename, dirname, extname, join, relative } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Public entries: export path -> source. An entry whose source does not exist yet is skipped. */
export const LIBRARY_ENTRIES: Record<string, string> = { index: 'src/index.ts', node: 'src/node.ts', vision: 'src/vision/index.ts', kernels: 'src/kernels.ts' };
/** The package's commands: bin name -> source (each registers tsx only when run from the repository). */
export const BIN_ENTRIES: Record<string, string> = {
  'celeba-train': 'examples/celeba-train/bin.mjs',
  'make-synthetic-celeba': 'examples/celeba-train/synthetic/bin.mjs',
};

/** esbuild plugin: kernels/wgsl_source.ts becomes a module holding every shaders/*.wgsl text. */
export const wgslEmbedded: Plugin = {
  name: 'wgsl-embedded',
  setup(b) {
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
  },
};

/** esbuild plugin: the device provider becomes navigator.gpu's; a Node built-in is an error naming its importer. */
export const browserOnly: Plugin = {
  name: 'browser-only',
  setup(b) {
    b.onResolve({ filter: /provider_node\.ts$/ }, () => ({ path: join(root, 'src/gpu/provider_browser.ts') }));
    b.onResolve({ filter: /^(node:|fs$|path$|url$|worker_threads$|os$|crypto$|child_process$)/ }, (args) => ({
      errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer} cannot go into the browser bundle` }],
    }));
  },
};

export async function buildBrowserBundle(outfile = join(root, 'dist/resnest-webgpu.browser.js'), minify = true): Promise<number> {
  await build({
    entryPoints: [join(root, 'src/browser.ts')],
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: true, minify,
    outfile, plugins: [browserOnly, wgslEmbedded], logLevel: 'warning', legalComments: 'none',
  });
  return statSync(outfile).size;
}

// Modules started by URL (worker threads, Node-only code behind a computed import) are written
// `new URL('./name.ts', import.meta.url)`. In dist/node each becomes an entry of its own, and
// every output file lies in that one folder, so the same relative URL with .js finds it.
const MODULE_URL = /new URL\((['"])\.\/([\w-]+)\.(ts|mjs)\1,\s*import\.meta\.url\)/g;

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, keep);
    return keep(name) ? [path] : [];
  });
}
const sourceFiles = (dir: string) => filesUnder(dir, (name) => /\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts'));

function moduleUrlEntries(dirs: string[]): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const file of dirs.flatMap((d) => sourceFiles(join(root, d)))) {
    for (const m of readFileSync(file, 'utf8').matchAll(MODULE_URL)) {
      const target = join(dirname(file), `${m[2]}.${m[3]}`);
      const known = entries[m[2]!];
      if (known && known !== target) throw new Error(`build: two modules started by URL are both named ${m[2]} (${relative(root, known)}, ${relative(root, target)})`);
      entries[m[2]!] = target;
    }
  }
  return entries;
}

const packagedNode: Plugin = {
  name: 'packaged-node',
  setup(b) {
    // The bins and worker entries register tsx for .ts sources; the package has only JavaScript.
    b.onResolve({ filter: /^tsx\/esm\/api$/ }, () => ({ path: 'tsx-not-needed', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ loader: 'js', contents: 'export function register() {}' }));
    b.onLoad({ filter: /\.(ts|mjs)$/ }, (args) => {
      if (args.path.includes(`${join('node_modules', '')}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!MODULE_URL.test(text)) return undefined;
      return { loader: extname(args.path) === '.ts' ? 'ts' : 'js', contents: text.replace(MODULE_URL, (_m, q, name) => `new URL(${q}./${name}.js${q}, import.meta.url)`) };
    });
  },
};

export async function buildNodePackage(outdir = join(root, 'dist/node')): Promise<string[]> {
  const present = (entries: Record<string, string>) =>
    Object.fromEntries(Object.entries(entries).filter(([, src]) => existsSync(join(root, src))).map(([name, src]) => [name, join(root, src)]));
  for (const [name, src] of Object.entries(BIN_ENTRIES)) if (!existsSync(join(root, src))) throw new Error(`build: the source of bin ${name}, ${src}, is missing`);
  const fixed = { ...present(LIBRARY_ENTRIES), ...present(BIN_ENTRIES) };
  const started = moduleUrlEntries(['src', 'examples/celeba-train']);
  for (const name of Object.keys(started)) if (fixed[name]) throw new Error(`build: module ${started[name]} would overwrite the entry ${name}.js`);
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { ...fixed, ...started },
    bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', outdir,
    packages: 'external', plugins: [packagedNode, wgslEmbedded], logLevel: 'warning', legalComments: 'none',
  });
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  for (const [name, path] of Object.entries(manifest.bin)) {
    if (!existsSync(join(root, path))) throw new Error(`build: package.json's bin ${name} is ${path}, which the build did not write`);
  }
  return Object.keys(fixed);
}

/** .d.ts of the library entries; specifiers rewritten to .js (what a consumer's resolver expects). */
export function buildTypes(outdir = join(root, 'dist/types')): void {
  rmSync(outdir, { recursive: true, force: true });
  const config = join(root, 'tsconfig.build.json');
  const files = Object.values(LIBRARY_ENTRIES).filter((src) => existsSync(join(root, src)));
  writeFileSync(config, `${JSON.stringify({ extends: './tsconfig.json', files, include: [], compilerOptions: {
    noEmit: false, declaration: true, emitDeclarationOnly: true, noCheck: true, outDir: relative(root, outdir), rootDir: '.',
  } }, null, 2)}\n`);
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { stdio: 'inherit' });
  } finally {
    rmSync(config, { force: true });
  }
  for (const file of filesUnder(outdir, (name) => name.endsWith('.d.ts'))) {
    let text = readFileSync(file, 'utf8').replace(/(from |import\()(['"])(\.\.?\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
    // Entries name the WebGPU types they use (GPUDevice, ...), which are ambient globals.
    if (files.some((src) => relative(outdir, file) === src.replace(/\.ts$/, '.d.ts'))) text = `/// <reference types="@webgpu/types" />\n${text}`;
    writeFileSync(file, text);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(root, 'dist/resnest-webgpu.browser.js');
  const size = await buildBrowserBundle(out);
  const gz = gzipSync(readFileSync(out)).length;
  console.log(`dist/resnest-webgpu.browser.js: ${(size / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped (source map beside it)`);
  const entries = await buildNodePackage();
  console.log(`dist/node: ${entries.map((e) => `${e}.js`).join(', ')}, worker modules and shared chunks`);
  buildTypes();
  console.log(`dist/types: .d.ts of ${Object.values(LIBRARY_ENTRIES).filter((s) => existsSync(join(root, s))).map((s) => basename(s)).join(', ')}`);
}
