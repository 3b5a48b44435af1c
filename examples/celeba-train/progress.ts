// A progress line with ETA (of the epoch, and of the run when known), images/s and running loss; on a TTY it redraws in place, otherwise
// it prints a plain line every 10% of the epoch (and at its end).
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY) || process.env.CELEBA_TRAIN_TTY === '1'; // launch.ts's child
  private start = performance.now();
  private lastPrinted = -1;

  /** `runEta(epochEta)`, when given, adds the whole run's remaining time to the line. */
  constructor(private readonly label: string, private readonly total: number, private readonly runEta?: (epochEta: number) => number) {}

  /** `loss` is left out of the line when not given (a pass that trains nothing). */
  update(done: number, images: number, loss?: number): void {
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = images / Math.max(elapsed, 1e-9);
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const line = `${this.label} ${done}/${this.total} ${bar(done / this.total)} ${rate.toFixed(1)} img/s${loss === undefined ? '' : ` loss ${loss.toFixed(4)}`} ETA ${clock(eta)}${this.runEta ? `, run ${clock(this.runEta(eta))}` : ''}`;
    if (this.tty) {
      process.stderr.write(`\r${line}\x1b[K`);
      if (done === this.total) process.stderr.write('\n');
    } else {
      const decile = Math.floor((10 * done) / this.total);
      if (decile !== this.lastPrinted || done === this.total) { this.lastPrinted = decile; process.stderr.write(`${line}\n`); }
    }
  }
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, fraction) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}
