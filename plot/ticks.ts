// Axis scales, "nice" tick positions (1, 2 or 5 times a power of ten) and compact number labels.

/** Maps data values to 0..1 along an axis; values outside [lo, hi] map outside 0..1. */
export class Scale {
  constructor(readonly lo: number, readonly hi: number, readonly log = false) {
    if (!(hi > lo)) throw new Error(`scale needs lo < hi, got [${lo}, ${hi}]`);
    if (log && !(lo > 0)) throw new Error(`log scale needs a positive lower bound, got ${lo}`);
  }

  unit(v: number): number {
    if (this.log) return (Math.log10(v) - Math.log10(this.lo)) / (Math.log10(this.hi) - Math.log10(this.lo));
    return (v - this.lo) / (this.hi - this.lo);
  }
}

/** Removes the binary noise of k * step (0.30000000000000004) so labels and tests see 0.3. */
const clean = (v: number): number => (v === 0 ? 0 : Number(v.toPrecision(12)));

/**
 * The smallest 1/2/5 x 10^k step that puts at most `maxTicks` ticks in [lo, hi]. Integer axes
 * (epochs) never get a fractional step.
 */
export function niceStep(lo: number, hi: number, maxTicks = 6, integer = false): number {
  const range = hi - lo;
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  let p = Math.pow(10, Math.floor(Math.log10(range / Math.max(1, maxTicks))));
  for (;;) {
    for (const m of [1, 2, 5]) {
      const step = clean(m * p);
      if (integer && step < 1) continue;
      const count = Math.floor(hi / step + 1e-9) - Math.ceil(lo / step - 1e-9) + 1;
      if (count <= Math.max(2, maxTicks)) return step;
    }
    p *= 10;
  }
}

/** Multiples of a nice step inside [lo, hi] (inclusive, with a little float tolerance). */
export function niceTicks(lo: number, hi: number, maxTicks = 6, integer = false): { values: number[]; step: number } {
  const step = niceStep(lo, hi, maxTicks, integer);
  const k0 = Math.ceil(lo / step - 1e-9), k1 = Math.floor(hi / step + 1e-9);
  const values: number[] = [];
  for (let k = k0; k <= k1; k++) values.push(clean(k * step));
  return { values, step };
}

/**
 * Log-axis ticks: decades, the 2 and 5 multiples (labelled when the axis has room), and the other
 * multiples (minor grid only). More than ~8 decades keeps every other (third, ...) decade.
 */
export function logTicks(lo: number, hi: number): { major: number[]; mid: number[]; minor: number[] } {
  const e0 = Math.floor(Math.log10(lo) + 1e-9), e1 = Math.ceil(Math.log10(hi) - 1e-9);
  const every = Math.max(1, Math.ceil((e1 - e0) / 8));
  const major: number[] = [], mid: number[] = [], minor: number[] = [];
  const inRange = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  for (let e = e0; e <= e1; e++) {
    const p = clean(Math.pow(10, e));
    if (inRange(p)) ((e - e0) % every === 0 ? major : minor).push(p);
    for (let m = 2; m <= 9; m++) {
      const v = clean(m * p);
      if (inRange(v)) (m === 2 || m === 5 ? mid : minor).push(v);
    }
  }
  return { major, mid, minor };
}

/** [min, max] of the finite values, or null when there are none. */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Grows a data range by `frac` of its span on each side so markers are not cut by the frame. A
 * single value gets a span of its own (10% of its magnitude, or +-1 around zero).
 */
export function padRange(r: [number, number] | null, frac = 0.05): [number, number] {
  if (!r) return [0, 1];
  let [lo, hi] = r;
  if (hi - lo <= Math.abs(hi) * 1e-12) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * frac;
  return [lo - d, hi + d];
}

const UNITS: Array<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

/**
 * Labels for one axis, formatted alike: the same number of decimals everywhere (0.0, 0.5, 1.0),
 * a k/M/G/T suffix for large values (12k) and exponents for small ones (1e-3).
 */
export function formatTicks(values: readonly number[], step: number): string[] {
  const maxAbs = Math.max(0, ...values.map(Math.abs));
  if (maxAbs > 0 && maxAbs < 0.01) return values.map((v) => (v === 0 ? '0' : expo(v)));
  let unit = 1, suffix = '';
  for (const [u, s] of UNITS) {
    if (maxAbs >= (u === 1e3 ? 1e4 : u)) { unit = u; suffix = s; break; }
  }
  // As many decimals as the step needs to be exact: 0.2 -> 1, 0.25 -> 2, 5 -> 0.
  const st = step / unit;
  let decimals = 0;
  while (decimals < 15 && Math.abs(Number(st.toFixed(decimals)) - st) > st * 1e-9) decimals++;
  return values.map((v) => {
    if (v === 0) return '0';
    const s = (v / unit).toFixed(Math.min(20, decimals));
    return (/^-0(\.0*)?$/.test(s) ? s.slice(1) : s) + suffix;
  });
}

/** One value in at most `sig` significant digits: 0.25, 93.4, 12.3k, 1.5G, 2.5e-4. */
export function formatValue(v: number, sig = 3): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 0.01) return expo(v, sig);
  const units: Array<[number, string]> = [[1, ''], ...[...UNITS].reverse()];
  let k = 0;
  while (k + 1 < units.length && a >= units[k + 1][0]) k++;
  let m = Number((v / units[k][0]).toPrecision(sig));
  // 999.9 rounds to 1000: say 1k, not 1000.
  if (Math.abs(m) >= 1000 && k + 1 < units.length) m = Number((v / units[++k][0]).toPrecision(sig));
  return `${m}${units[k][1]}`;
}

function expo(v: number, sig = 6): string {
  return Number(v.toPrecision(sig)).toExponential().replace('e+', 'e');
}
