// npm run device-kit: writes device-kit/ (git-ignored, at most 60 MiB), what a bare x86-64 Linux
// machine with a GPU and no Node needs to run the benchmarks (bench/device/run.sh):
//   node.xz          this machine's Node binary (it needs only glibc and libstdc++ there)
//   dawn.node.xz     Dawn's linux-x64 WebGPU binding from node_modules/webgpu, its index.js and package.json
//   bench.mjs        bench/device/bench.ts bundled by esbuild, every shader embedded
//   debs/*.deb       the Vulkan loader and GL dispatch libraries (Debian amd64, `apt-get download`),
//                    unpacked there only when the machine has no Vulkan loader of its own
//   manifest.json    sizes, checksums, revision
// Compressed files are rebuilt only when their source changed; the bundle always is.
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wgslEmbedded } from './build.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const kit = process.env.DEVICE_KIT_DIR ?? join(root, 'device-kit');
const MAX_BYTES = 60 * 2 ** 20;
// xz preset: 6 for the real kit. Its test builds at 0 (a sixth of the CPU time; larger files,
// so a kit that fits the budget at 0 fits it at 6 too).
const XZ_PRESET = process.env.DEVICE_KIT_XZ_PRESET ?? '6';
/** The Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver library links against. */
const DEBS = ['libvulkan1', 'libglvnd0', 'libegl1', 'libgl1', 'libglx0', 'libopengl0', 'libgles2'];

function fail(message: string): never {
  console.error(`device-kit: ${message}`);
  process.exit(1);
}

const sourceStamp = (path: string) => { const s = statSync(path); return `${path}|${s.size}|${s.mtimeMs}|xz-${XZ_PRESET}`; };

/** xz (XZ_PRESET) of `source` into the kit, unless the kit already holds it compressed from the same file. */
function compressed(source: string, name: string, stamps: Record<string, string>): void {
  if (!existsSync(source)) fail(`${source} is missing (npm install has not fetched it?)`);
  const out = join(kit, name);
  if (existsSync(out) && stamps[name] === sourceStamp(source)) { console.log(`${name}: up to date`); return; }
  const t0 = performance.now();
  const r = spawnSync('xz', [`-${XZ_PRESET}`, '-T2', '-c', source], { maxBuffer: MAX_BYTES * 2, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) fail(`xz ${source}: ${r.error?.message ?? r.stderr.toString().trim()} (is xz-utils installed?)`);
  writeFileSync(out, r.stdout);
  stamps[name] = sourceStamp(source);
  console.log(`${name}: ${(statSync(source).size / 2 ** 20).toFixed(1)} MiB -> ${(r.stdout.length / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

function debs(): void {
  const dir = join(kit, 'debs');
  mkdirSync(dir, { recursive: true });
  const have = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  const missing = DEBS.filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
  if (!missing.length) { console.log(`debs: up to date (${have.length})`); return; }
  // amd64 whatever this machine is, with package lists of their own so the system's are left alone
  const lists = '/tmp/device-kit-apt-lists';
  mkdirSync(join(lists, 'partial'), { recursive: true });
  const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`, '-qq'];
  try {
    if (!readdirSync(lists).some((f) => f.endsWith('_Packages'))) execFileSync('apt-get', [...o, 'update'], { stdio: 'inherit' });
    execFileSync('apt-get', [...o, 'download', ...missing], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    fail(`apt-get download ${missing.join(' ')} failed (${(e as Error).message.split('\n')[0]}); put those amd64 .deb files in ${dir} by hand`);
  }
  console.log(`debs: downloaded ${missing.join(', ')}`);
}

async function bundle(revision: string): Promise<void> {
  await build({
    entryPoints: [join(root, 'bench/device/bench.ts')], bundle: true, format: 'esm', platform: 'node', target: 'node20',
    outfile: join(kit, 'bench.mjs'), external: ['webgpu'], plugins: [wgslEmbedded], logLevel: 'warning', legalComments: 'none',
    define: { KIT_REVISION: JSON.stringify(revision) },
    // bundled CommonJS modules may call require() for Node built-ins
    banner: { js: "import { createRequire as __kitRequire } from 'node:module'; const require = __kitRequire(import.meta.url);" },
  });
  console.log(`bench.mjs: ${(statSync(join(kit, 'bench.mjs')).size / 1024).toFixed(0)} KiB`);
}

function revisionOf(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${rev}+changes` : rev;
  } catch { return 'unknown'; }
}

const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));

if (!/^\d$/.test(XZ_PRESET)) fail(`DEVICE_KIT_XZ_PRESET is '${XZ_PRESET}', not an xz preset 0-9`);
if (process.platform !== 'linux' || process.arch !== 'x64') fail(`the kit carries this machine's Node binary and needs linux-x64, not ${process.platform}-${process.arch}`);
mkdirSync(join(kit, 'webgpu'), { recursive: true });
const manifestPath = join(kit, 'manifest.json');
const previous = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { stamps?: Record<string, string> }) : {};
const stamps = previous.stamps ?? {};
rmSync(manifestPath, { force: true }); // a kit without a manifest is incomplete: run.sh refuses it
const webgpu = join(root, 'node_modules/webgpu');
compressed(process.execPath, 'node.xz', stamps);
compressed(join(webgpu, 'dist/linux-x64/dawn.node'), 'dawn.node.xz', stamps);
for (const f of ['index.js', 'package.json']) copyFileSync(join(webgpu, f), join(kit, 'webgpu', f));
debs();
const revision = revisionOf();
await bundle(revision);
const files = walk(kit).filter((f) => f !== manifestPath).sort().map((f) => ({
  path: f.slice(kit.length + 1), bytes: statSync(f).size, sha256: createHash('sha256').update(readFileSync(f)).digest('hex'),
}));
const total = files.reduce((s, f) => s + f.bytes, 0);
if (total > MAX_BYTES) fail(`the kit holds ${(total / 2 ** 20).toFixed(1)} MiB, over its ${MAX_BYTES / 2 ** 20} MiB budget: ${files.map((f) => `${f.path} ${(f.bytes / 2 ** 20).toFixed(1)}`).join(', ')}`);
writeFileSync(manifestPath, JSON.stringify({ revision, created: new Date().toISOString(), node: process.version, totalBytes: total, files, stamps }, null, 2));
console.log(`device-kit/: ${files.length} files, ${(total / 2 ** 20).toFixed(1)} MiB (revision ${revision}); run there: bash bench/device/run.sh`);
