// Host memory of this process over a stretch of work: its peak resident set size, the kernel's
// own high-water mark (VmHWM in /proc/self/status, the figure `/usr/bin/time -v` and Python's
// getrusage report as the maximum resident set size), reset at the start by writing 5 to
// /proc/self/clear_refs (Linux). Where that cannot be done, the largest RSS sampled every 20 ms,
// which can miss a peak inside synchronous work. On CPU adapters (lavapipe) the GPU's buffers and
// textures are host memory of this process, so they count here.
import { readFileSync, writeFileSync } from 'node:fs';

export interface HostMemory {
  /** Peak RSS over the stretch, MB. */
  peakRssMB: number;
  /** RSS when it began, MB. */
  startRssMB: number;
  method: 'VmHWM' | 'sampled';
}

const MB = 2 ** 20;

/** A field of /proc/self/status in MB (its values are in kB), or null off Linux. */
function statusMB(field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? (Number(m[1]) * 1024) / MB : null;
  } catch { return null; }
}

/** Starts watching; stop() gives the peak since the call. */
export function watchHostMemory(): { stop: () => HostMemory } {
  const rss = () => process.memoryUsage.rss() / MB;
  const startRssMB = rss();
  let reset = false;
  try { writeFileSync('/proc/self/clear_refs', '5'); reset = statusMB('VmHWM') !== null; } catch { /* not Linux, or not allowed */ }
  let sampled = startRssMB;
  const timer = setInterval(() => { sampled = Math.max(sampled, rss()); }, 20);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      sampled = Math.max(sampled, rss());
      const hwm = reset ? statusMB('VmHWM') : null;
      return hwm !== null ? { peakRssMB: Math.max(hwm, sampled), startRssMB, method: 'VmHWM' } : { peakRssMB: sampled, startRssMB, method: 'sampled' };
    },
  };
}
