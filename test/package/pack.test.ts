// The published package as a user gets it: `npm pack` (which builds dist/ through prepack), the
// tarball installed into a fresh project, README's library snippet run by plain `node app.mjs`
// (no TypeScript loader) and giving the loss the sources compute, the bins and the worker
// threads running from JavaScript, the .pth reader through `resnest-webgpu/node`, a kernel through
// `resnest-webgpu/kernels`, and a TypeScript consumer type-checked against the shipped .d.ts. The runtime dependencies are
// linked from this repository's node_modules, so nothing is downloaded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, manualSeed, nn, optim, Tensor, tidy } from '../../src/index.ts';
import { setupGpu } from '../helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = { ...process.env };
delete env.NODE_OPTIONS; // the package must run without the test runner's TypeScript loader

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const out = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
  if (out.status !== 0) assert.unreachable(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${out.status}:\n${out.stdout}\n${out.stderr}`);
  return out;
}

/** README's "Use as a library" code block, verbatim. */
function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use as a library'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'README has a ts code block under "Use as a library"');
  return block![1]!;
}

const s = suite('package: npm pack, install, run and type-check');
s.before(setupGpu);

s('the packed tarball runs README\'s snippet, the bins and the .pth reader from plain JavaScript, and type-checks', async () => {
  const work = mkdtempSync(join(tmpdir(), 'resnest-pack-'));
  try {
    run(npm, ['pack', '--pack-destination', work, '--no-audit', '--no-fund'], root);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    const files = run('tar', ['-tzf', join(work, tarball!)], work).stdout.trim().split('\n');
    for (const f of ['dist/node/index.js', 'dist/node/node.js', 'dist/node/celeba-train.js', 'dist/types/src/index.d.ts', 'dist/resnest-webgpu.browser.js']) {
      assert.ok(files.includes(`package/${f}`), `tarball lacks ${f}`);
    }
    const sources = files.filter((f) => /\.(ts|mjs|wgsl)$/.test(f) && !f.endsWith('.d.ts'));
    assert.equal(sources, [], 'the package ships JavaScript only (WGSL embedded)');

    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.not.ok('tsx' in manifest.dependencies, 'tsx is not a runtime dependency');
    const app = join(work, 'app');
    mkdirSync(app);
    const linked = Object.fromEntries([...Object.keys(manifest.dependencies), '@types/node']
      .map((dep) => [dep, `file:${realpathSync(join(root, 'node_modules', dep))}`]));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: linked }));
    run(npm, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', join(work, tarball!)], app);

    writeFileSync(join(app, 'app.mjs'), readmeSnippet());
    const printed = Number(run(process.execPath, ['app.mjs'], app).stdout.trim().split('\n').pop());
    // The same computation from the sources, in this process (both start from seed 0).
    manualSeed(0);
    const model = nn.resnest14({ numClasses: 40 });
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const x = Tensor.randn([2, 3, 32, 32]);
    const y = Tensor.zeros([2, 40]);
    const loss = tidy(() => F.sigmoidFocalLoss(model.forward(x), y, { alpha: 0.25, gamma: 2 }));
    opt.zeroGrad(); loss.backward(); opt.step();
    const expected = await loss.item();
    for (const t of [x, y, loss]) t.dispose();
    model.dispose();
    // Same kernels on the same device; autotuning may pick another conv version in the other
    // process, whose float32 sums round differently across the 14 layers: hence rtol 1e-4.
    assert.ok(Math.abs(printed - expected) <= 1e-6 + 1e-4 * Math.abs(expected), `app.mjs printed ${printed}, the sources give ${expected}`);

    const bin = join(app, 'node_modules', '.bin');
    assert.match(run(join(bin, 'celeba-train'), ['--help'], app).stdout, /celeba-train train \[options\]/);
    const synthetic = join(work, 'synthetic');
    run(join(bin, 'make-synthetic-celeba'), [synthetic, '--count', '3', '--workers', '2'], app); // worker threads
    assert.is(readdirSync(join(synthetic, 'img_align_celeba')).length, 3);

    const fixture = join(root, 'test/io/fixtures/torch/tiny_legacy.pth');
    writeFileSync(join(app, 'weights.mjs'), `import { loadTorchStateDict } from 'resnest-webgpu/node';
const file = await loadTorchStateDict(${JSON.stringify(fixture)});
console.log(String(file.tensors.get('1.num_batches_tracked').data[0]));\n`);
    assert.is(run(process.execPath, ['weights.mjs'], app).stdout.trim(), '7');
    // the kernels entry drives a kernel on the device the main entry started (one runtime state)
    writeFileSync(join(app, 'kernels.mjs'), `import { initGpu, Tensor } from 'resnest-webgpu';
import { kernelFamilies, reduceSum } from 'resnest-webgpu/kernels';
await initGpu();
const x = Tensor.fromArray([1, 2, 3, 4, 5], [5]), out = Tensor.empty([1], 'sum');
reduceSum(x.binding, out.binding, 5, 0.5, 'sum');
console.log((await out.toArray())[0], kernelFamilies.map((f) => f.name).join(','));\n`);
    assert.is(run(process.execPath, ['kernels.mjs'], app).stdout.trim().split('\n').pop(), '7.5 conv2d,matmul,batchnorm2d,pool2d,split_attention');
    const vision = existsSync(join(root, 'src/vision/index.ts'));
    if (vision) {
      const names = run(process.execPath, ['--input-type=module', '-e', "console.log(Object.keys(await import('resnest-webgpu/vision')).length)"], app);
      assert.ok(Number(names.stdout.trim()) > 0, 'resnest-webgpu/vision exports something');
    }

    writeFileSync(join(app, 'app.ts'), readmeSnippet());
    writeFileSync(join(app, 'weights.ts'), `import { loadWeights, nn, parseTorchStateDict, type TorchStateDict } from 'resnest-webgpu/node';
export async function backbone(path: string): Promise<nn.ResNeSt> {
  const file = await loadWeights(path);
  const model = nn.resnest50({ numClasses: 40 });
  model.loadStateDict(file.tensors as Map<string, nn.StateArray>, { skip: ['fc.'], source: path });
  return model;
}
export const notes = (bytes: Uint8Array): string[] => (parseTorchStateDict(bytes) satisfies TorchStateDict).notes;
export { conv2dForward, kernelFamilies, type Conv2dGeometry } from 'resnest-webgpu/kernels';
// @ts-expect-error: the declarations carry real types, not any
nn.resnest50({ numClasses: 'forty' });\n${vision ? "export * as vision from 'resnest-webgpu/vision';\n" : ''}`);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      // lib check on: our .d.ts (and the @types they pull in) must compile; TypeScript's own lib
      // files (lib.dom.d.ts & co.) are left to TypeScript: checking them took half of tsc's time
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipDefaultLibCheck: true },
      files: ['app.ts', 'weights.ts'],
    }));
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

s.run();
