// On a terminal the command runs in a child process whose stderr passes through here, less the
// notices Dawn prints from native code while it lowers limits for CPU adapters ("Warning: ...
// artificially reduced ..."): they go straight to file descriptor 2, where nothing in JavaScript
// can intercept them. Parent and child share the terminal's process group, so Ctrl-C reaches the
// child once, as if it ran alone; the parent only waits and returns the child's status.
import { spawn } from 'node:child_process';

const CHILD = 'CELEBA_TRAIN_CHILD';
const DRIVER_NOTICE = /^Warning: \S+ artificially reduced from \d+ to \d+/;

/** Stderr text minus driver notices; `pending` holds an unfinished last line between chunks. */
export function filterDriverNotices(state: { pending: string }, chunk: string): string {
  const text = state.pending + chunk;
  const lines = text.split('\n');
  const last = lines.pop()!;
  // a progress redraw (\r...) has no newline: pass it on now unless it may begin a notice
  state.pending = 'Warning: '.startsWith(last.slice(0, 9)) || last.startsWith('Warning: ') ? last : '';
  const kept = lines.filter((l) => !DRIVER_NOTICE.test(l)).map((l) => `${l}\n`).join('');
  return kept + (state.pending ? '' : last);
}

/** True when this process should run the command itself (not on a terminal, or already the child). */
export function runsInProcess(): boolean {
  if (process.env[CHILD] === '1') return true;
  return !(process.stderr.isTTY || process.env.CELEBA_TRAIN_FILTER === '1');
}

/** Runs this same command in a child with filtered stderr; resolves to its exit status. */
export function launchFiltered(argv: string[]): Promise<number> {
  // the entry script and Node's flags as given: bin.mjs, the packaged bin or main.ts under tsx
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, [CHILD]: '1', CELEBA_TRAIN_TTY: process.stderr.isTTY ? '1' : '0' },
  });
  process.on('SIGINT', () => undefined); // the child got the same Ctrl-C and saves a checkpoint
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  const state = { pending: '' };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { const out = filterDriverNotices(state, d); if (out) process.stderr.write(out); });
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    if (state.pending && !DRIVER_NOTICE.test(state.pending)) process.stderr.write(state.pending);
    resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15));
  }));
}

/** In the child: end with the parent (a killed parent must not leave a run writing checkpoints). */
export function followParent(): void {
  if (process.env[CHILD] !== '1' || !process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.exit(137));
}
