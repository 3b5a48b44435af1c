// Static server for the demo page: builds the library's browser bundle (scripts/build.ts) and
// the page's own TypeScript (main.ts, with the library left as an import of that bundle), then
// serves them with index.html and, from --models, safetensors checkpoints the page can fetch.
//
//   node --import tsx examples/browser/serve.ts [--port 8080] [--host 127.0.0.1] [--models runs]
//
// Routes: /  /app.js(.map)  /lib/resnest-webgpu.browser.js(.map)  /models/ (JSON list)  /models/<path>
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { buildBrowserBundle } from '../../scripts/build.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');
const LIB_NAME = 'resnest-webgpu.browser.js';

export interface ServeOptions {
  port?: number;            // 0: an ephemeral port
  host?: string;
  /** Folder searched (3 levels deep) for *.safetensors files listed and served under /models/. */
  models?: string | null;
  /** Where the library bundle is written (default dist/resnest-webgpu.browser.js, as npm run build). */
  libFile?: string;
  minify?: boolean;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  /** Bytes of the library bundle and of the page's own bundle. */
  sizes: { lib: number; app: number };
  close(): Promise<void>;
}

// The page imports the library from its source entry (for types); in the page bundle that import
// becomes one of the library bundle, so the browser runs exactly what npm run build ships.
const libraryAsBundle: Plugin = {
  name: 'library-as-bundle',
  setup(b) {
    b.onResolve({ filter: /src\/browser\.ts$/ }, () => ({ path: `./lib/${LIB_NAME}`, external: true }));
    // the celeba-train modules the page shares import resnest-webgpu/vision: the bundle's `vision`
    b.onResolve({ filter: /^\.\/lib\//, namespace: 'library-vision' }, (args) => ({ path: args.path, external: true }));
    b.onResolve({ filter: /src\/vision\/index\.ts$/ }, () => ({ path: 'vision', namespace: 'library-vision' }));
    b.onLoad({ filter: /.*/, namespace: 'library-vision' }, async () => {
      const names = Object.keys(await import('../../src/vision/index.ts'));
      const bundle = JSON.stringify(`./lib/${LIB_NAME}`);
      return { contents: `import { vision } from ${bundle};\nexport const { ${names.join(', ')} } = vision;\n`, loader: 'js' };
    });
    b.onResolve({ filter: /^\.\.?\/.*\/src\// }, (args) => ({
      errors: [{ text: `${args.path}: the page may import the library only through src/browser.ts (types excepted)` }],
    }));
  },
};

async function buildPage(minify: boolean): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: [join(here, 'main.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    sourcemap: 'linked', minify, write: false, outfile: join(here, 'app.js'), plugins: [libraryAsBundle],
    logLevel: 'warning', legalComments: 'none',
  });
  return new Map(result.outputFiles.map((f) => [relative(here, f.path), f.contents]));
}

function findCheckpoints(dir: string, depth = 3): string[] {
  const out: string[] = [];
  const walk = (d: string, level: number) => {
    let names: string[];
    try { names = readdirSync(d).sort(); } catch { return; }
    for (const name of names) {
      const p = join(d, name);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory() && level < depth && !name.startsWith('.')) walk(p, level + 1);
      else if (st.isFile() && name.endsWith('.safetensors')) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir, 0);
  return out;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
  '.json': 'application/json', '.css': 'text/css; charset=utf-8', '.safetensors': 'application/octet-stream',
};
const typeOf = (p: string) => TYPES[p.slice(p.lastIndexOf('.'))] ?? 'application/octet-stream';

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? (() => undefined);
  const minify = opts.minify ?? true;
  const libFile = opts.libFile ?? join(root, 'dist', LIB_NAME);
  const libSize = await buildBrowserBundle(libFile, minify);
  const page = await buildPage(minify);
  const models = opts.models ? resolve(opts.models) : null;
  log(`library bundle ${libFile}: ${(libSize / 1024).toFixed(1)} KiB; page bundle ${((page.get('app.js')?.length ?? 0) / 1024).toFixed(1)} KiB`);

  const server = createServer((req, res) => {
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path: string;
    try { path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname); } catch { return send(400, 'bad path'); }
    if (path === '/' || path === '/index.html') return send(200, readFileSync(join(here, 'index.html')), TYPES['.html']);
    const built = page.get(path.slice(1));
    if (built) return send(200, built, typeOf(path));
    if (path === `/lib/${LIB_NAME}` || path === `/lib/${LIB_NAME}.map`) {
      const file = path.endsWith('.map') ? `${libFile}.map` : libFile;
      return send(200, readFileSync(file), typeOf(file));
    }
    if (path === '/models/' || path === '/models') {
      return send(200, JSON.stringify(models ? findCheckpoints(models) : []), TYPES['.json']);
    }
    if (models && path.startsWith('/models/')) {
      const file = resolve(models, path.slice('/models/'.length));
      if (!file.startsWith(models + sep) || !file.endsWith('.safetensors') || !existsSync(file)) return send(404, 'not found');
      const size = statSync(file).size;
      res.writeHead(200, { 'content-type': typeOf(file), 'content-length': size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      return createReadStream(file).pipe(res);
    }
    if (path === '/favicon.ico') return send(204, '');
    return send(404, 'not found');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  // localhost, not 127.0.0.1: both are secure contexts, but the name is what people type
  const url = `http://localhost:${port}/`;
  return {
    url, port, server, sizes: { lib: libSize, app: page.get('app.js')?.length ?? 0 },
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' },
      models: { type: 'string' }, 'no-minify': { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node --import tsx examples/browser/serve.ts [--port 8080] [--host 127.0.0.1] [--models DIR] [--no-minify]');
    process.exit(0);
  }
  const models = values.models ?? (existsSync(join(root, 'runs')) ? join(root, 'runs') : null);
  const s = await startServer({
    port: Number(values.port), host: values.host, models, minify: !values['no-minify'], log: (l) => console.log(l),
  });
  console.log(`checkpoints under /models/: ${models ?? '(none; pass --models DIR)'}`);
  console.log(`demo page: ${s.url}  (Ctrl-C to stop)`);
}
