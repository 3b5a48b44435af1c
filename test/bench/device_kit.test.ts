// The device kit end to end on this machine: `npm run device-kit` builds a kit, then
// `bash bench/device/run.sh --quick` unpacks it into a temporary folder and runs the packed Node
// and bundle on this adapter with the kit's own Vulkan loader, at toy sizes; the PyTorch CUDA
// peer is skipped (no CUDA here). The kit is built into .cache/device-kit-test/ (git-ignored,
// kept between runs; the developer's device-kit/ is left alone) with xz at preset 0: the Node
// binary then compresses in a sixth of the CPU time of the real kit's preset 6, into larger
// files, so this kit fitting the 60 MiB budget means the real one fits too.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceReport } from '../../bench/device/bench.ts';
import { combine } from '../../bench/device/bench.ts';
import { deviceMarkdown, spliceDevice, DEVICE_END } from '../../bench/device/report.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const kit = join(root, '.cache/device-kit-test');
const s = suite('device kit');

s('the kit builds within its budget and runs from a bare folder on this adapter', () => {
  execFileSync('npm', ['run', '--silent', 'device-kit'], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DEVICE_KIT_DIR: kit, DEVICE_KIT_XZ_PRESET: '0' },
  });
  const manifest = JSON.parse(readFileSync(join(kit, 'manifest.json'), 'utf8')) as { totalBytes: number; files: { path: string; bytes: number }[] };
  assert.ok(manifest.totalBytes <= 60 * 2 ** 20, `${manifest.totalBytes} bytes`);
  const paths = manifest.files.map((f) => f.path);
  for (const p of ['node.xz', 'dawn.node.xz', 'bench.mjs', 'webgpu/index.js', 'webgpu/package.json']) assert.ok(paths.includes(p), p);
  assert.ok(paths.some((p) => /^debs\/libvulkan1_.*_amd64\.deb$/.test(p)), 'the Vulkan loader package');

  const work = mkdtempSync(join(tmpdir(), 'kit-work-')), out = mkdtempSync(join(tmpdir(), 'kit-out-'));
  try {
    // PATH without any python3 that has torch with CUDA: the peer must skip, not fail
    const r = spawnSync('bash', [join(root, 'bench/device/run.sh'), '--quick'], {
      cwd: tmpdir(), encoding: 'utf8', env: { ...process.env, KIT_DIR: kit, KIT_WORK: work, OUT: out, KIT_FORCE_LOADER: '1' },
    });
    assert.is(r.status, 0, `run.sh exited ${r.status}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /vulkan loader: the kit's \(libvulkan\.so\.1\./);
    assert.match(r.stdout, /^adapter: /m);
    assert.match(r.stdout, /^peaks: FMA [\d.]+ GFLOP\/s/m);
    const report = JSON.parse(readFileSync(join(out, 'device-results.json'), 'utf8')) as DeviceReport;
    assert.is(report.kind, 'device-kit');
    assert.ok(report.peaks.fmaGflops > 0 && report.peaks.copyGBs > 0 && report.peaks.dispatchUs > 0);
    assert.ok(report.autotune.length > 0, 'autotuned');
    assert.equal(report.failed, []);
    const conv = report.results.filter((x) => x.family === 'conv2d');
    assert.ok(conv.length >= 8 && conv.every((x) => x.valid === true), 'every convolution pass validated against the f64 reference');
    for (const op of ['fwd', 'dX', 'dW']) assert.ok(conv.some((x) => x.name.includes(` ${op} `)), op);
    const side = report.results.filter((x) => x.family === 'conv2d versions');
    assert.ok(new Set(side.map((x) => x.name.split(' ').pop())).size >= 2 && side.every((x) => x.valid === true), 'versions side by side, validated');
    const products = report.results.filter((x) => x.family === 'matmul versions');
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) assert.ok(products.some((x) => x.name.endsWith(` ${v}`)), `matmul ${v} side by side`);
    assert.ok(products.every((x) => x.valid !== false), 'matmul products validated');
    assert.ok(report.results.some((x) => x.family === 'bottleneck' && x.valid === true));
    const step = report.results.find((x) => x.family === 'end-to-end');
    assert.ok(step && step.valid === true && step.perRep?.submissions === 1, 'one submission per training step');
    assert.ok(typeof report.torch?.skipped === 'string' || (report.torch?.results?.length ?? 0) > 0, 'the PyTorch peer ran or said why not');
    const md = deviceMarkdown(report);
    assert.match(md, /### Training step/);
    assert.match(md, /### Matrix products of the step, every matmul version/);
    assert.match(md, new RegExp(step!.name));
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

s('the peer\'s step times join the matching rows; the docs section is replaced in place', () => {
  const row = { family: 'end-to-end', name: 'ResNeSt-50 train step, batch 32, 224x224', minMs: 50, medianMs: 55, method: 'wall', peers: [], valid: true };
  const report = { kind: 'device-kit', date: '2026-11-30T20:00:00Z', revision: 'r', quick: false,
    adapter: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', backend: 'dawn' }, features: [], limits: {},
    peaks: { fmaGflops: 50000, copyGBs: 4000, dispatchUs: 3, method: 'timestamp' }, results: [row], autotune: [], torch: null, failed: [] } as DeviceReport;
  const both = combine(report, { torch: '2.11', device: 'H200', results: [{ size: 224, batch: 32, mode: 'f32', ms: 100, median: 101 }, { size: 320, batch: 32, mode: 'f32', ms: 200, median: 201 }] });
  assert.equal(both.results[0].peers, [{ name: 'torch-cuda f32', ms: 100, ratio: 2 }]);
  assert.equal(report.results[0].peers, [], 'the input report is left as it was');
  const md = deviceMarkdown(both);
  assert.match(md, /\| ResNeSt-50 train step, batch 32, 224x224 \| 50.00 \/ 55.00 \|/);
  assert.match(md, /100 \(ours 2.00x faster\)|100.00 \(ours 2.00x faster\)/);
  assert.match(md, /at H200 datasheet/);
  const doc = spliceDevice(spliceDevice('# P\n\ntext\n', 'first'), 'second');
  assert.is(doc.split(DEVICE_END).length, 2, 'one section');
  assert.ok(doc.includes('second') && !doc.includes('first'));
});

s.run();
