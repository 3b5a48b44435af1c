// Test entry: runs every test/**/*.test.ts through uvu, then prints the closing line
// `N passed, N failed` that CI reads. The trainer's command tests (examples/celeba_*: runs through
// main() and child processes that keep about one core busy) run in a second test process beside
// the rest (one GPU device per process), chosen so that the two take about the same CPU time; its
// report is printed after this one's and its counts added. TEST_PARALLEL=0 runs everything in
// this one process.
// Usage: node --import tsx test/run.ts [substring-filter ...]
// TEST_TIMES=1 adds a table of each file's wall time and CPU time (this process, lavapipe's
// threads included, and its finished child processes), slowest first.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Runner = () => Promise<[string | true, number, number, number]>;
const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: Array<Array<string | Runner | null>>; UVU_INDEX: number };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];

// Mesa keeps compiled shaders in a disk cache under $XDG_CACHE_HOME. Tests that give a child
// process a temporary XDG_CACHE_HOME (to isolate the trainer's own cache) would otherwise make
// each child compile every pipeline again: ~45 s of CPU per trainer run on lavapipe instead of
// ~10. Pinning Mesa's cache to the usual place keeps it shared by this process and every child.
process.env.MESA_SHADER_CACHE_DIR ??= process.env.XDG_CACHE_HOME || join(homedir(), '.cache');

const root = fileURLToPath(new URL('.', import.meta.url));
function findTests(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'artifacts' ? [] : findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/** CPU seconds so far: this process's, and its waited-for children's (Linux /proc; 0 elsewhere). */
function cpuSeconds(): { self: number; children: number } {
  const { user, system } = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd on
    children = (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime in clock ticks (USER_HZ 100)
  } catch { /* not Linux */ }
  return { self: (user + system) / 1e6, children };
}
interface FileTime { wall: number; self: number; children: number }
const times = new Map<string, FileTime>();
let running: string | null = null;
/** Runs fn, adding its wall and CPU time to the file's entry. */
async function timed<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now(), c0 = cpuSeconds();
  running = file;
  try { return await fn(); } finally {
    running = null;
    const c1 = cpuSeconds(), e = times.get(file) ?? { wall: 0, self: 0, children: 0 };
    times.set(file, { wall: e.wall + (performance.now() - t0) / 1000, self: e.self + c1.self - c0.self, children: e.children + c1.children - c0.children });
  }
}

const filters = process.argv.slice(2);
const selected = findTests(root).filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
/** The trainer's command tests: about half the suite's CPU time (TEST_TIMES=1 shows each file's). */
const CHILD_HEAVY = ['celeba_train.test.ts', 'celeba_train_cli.test.ts', 'celeba_train_docs.test.ts', 'celeba_check.test.ts', 'celeba_sweep.test.ts'];
const inChildren = (f: string) => CHILD_HEAVY.some((name) => relative(root, f) === join('examples', name));
const part = process.env.TEST_PART;
const split = part === undefined && process.env.TEST_PARALLEL !== '0' && selected.some(inChildren) && selected.some((f) => !inChildren(f));
const files = part === 'children' ? selected.filter(inChildren) : split || part === 'rest' ? selected.filter((f) => !inChildren(f)) : selected;

/** The second test process: its whole output, and its closing counts (a failure where it has none). */
let secondEnded = false, secondEndedDuring: string | null = null; // and the file whose CPU figures took in the second process's
const second = !split ? null : new Promise<{ output: string; passed: number; failed: number }>((resolve) => {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...filters],
    { env: { ...process.env, TEST_PART: 'children' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.on('exit', () => { secondEnded = true; secondEndedDuring = running; });
  child.on('close', (code, signal) => {
    const m = /^(\d+) passed, (\d+) failed\s*$/m.exec(output.split('\n').filter(Boolean).at(-1) ?? '');
    if (m && (code === 0) === (m[2] === '0')) resolve({ output, passed: Number(m[1]), failed: Number(m[2]) });
    else resolve({ output: `${output}\nthe trainer tests' process ended (${signal ?? `status ${code}`}) without its closing line`, passed: m ? Number(m[1]) : 0, failed: (m ? Number(m[2]) : 0) + 1 });
  });
});
for (const [index, file] of files.entries()) {
  g.UVU_QUEUE.push([relative(root, file)]);
  g.UVU_INDEX = index;
  await timed(relative(root, file), () => import(pathToFileURL(file).href));
}

let passed = 0, failed = 0;
for (const group of g.UVU_QUEUE) {
  const file = group[0] as string;
  for (let i = 1; i < group.length; i++) {
    const run = group[i] as Runner;
    group[i] = async () => {
      const result = await timed(file, run);
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
const CPU_LINE = /^cpu s of the whole test process, lavapipe and child processes included: ([\d.]+)$/m;
let secondCpu = 0, ownCpu = 0;
if (process.env.TEST_TIMES === '1') {
  // a finished child's CPU time counts once it has ended: take the second process's back out
  secondCpu = secondEnded && second ? Number(CPU_LINE.exec((await second).output)?.[1] ?? 0) : 0;
  if (secondEndedDuring) times.get(secondEndedDuring)!.children -= secondCpu;
  const rows = [...times].sort((a, b) => b[1].wall - a[1].wall);
  const sum = (k: keyof FileTime) => rows.reduce((a, [, t]) => a + t[k], 0);
  console.log('\n   wall s    cpu s  child cpu s  file');
  for (const [file, t] of [...rows, ['total', { wall: sum('wall'), self: sum('self'), children: sum('children') }] as const]) {
    console.log(`${t.wall.toFixed(1).padStart(9)}${t.self.toFixed(1).padStart(9)}${t.children.toFixed(1).padStart(13)}  ${file}`);
  }
  const all = cpuSeconds();
  ownCpu = all.self + all.children - secondCpu;
  console.log(`cpu s of the whole test process, lavapipe and child processes included: ${ownCpu.toFixed(1)}`);
}
if (second) {
  const r = await second;
  console.log(`\n---- the trainer's command tests, run beside the rest (${files.length} files above) ----`);
  console.log(r.output.trimEnd().split('\n').filter((l, i, all) => i < all.length - 1 || !/ passed, \d+ failed$/.test(l)).join('\n'));
  passed += r.passed; failed += r.failed;
  const theirs = Number(CPU_LINE.exec(r.output)?.[1] ?? NaN);
  if (process.env.TEST_TIMES === '1') console.log(`cpu s of both test processes: ${(ownCpu + theirs).toFixed(1)} (${ownCpu.toFixed(1)} + ${theirs.toFixed(1)})`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
