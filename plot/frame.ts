// Chart furniture shared by line and bar charts: palette, title, axes with grid, legend placement.
import type { Canvas, MarkerShape, Rect } from './canvas.ts';
import { measureText } from './font.ts';
import { formatTicks, formatValue, logTicks, niceTicks, type Scale } from './ticks.ts';

/** Okabe-Ito: distinguishable under the common colour-vision deficiencies and in greyscale print. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#E69F00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'] as const;
export const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'diamond', 'triangle'];

export const THEME = {
  text: '#222222',
  muted: '#555555',
  axis: '#666666',
  grid: '#e3e3e3',
  minorGrid: '#f3f3f3',
  reference: '#333333',
  scale: 2,
  lineH: 18,
} as const;

export const DASH = [8, 5] as const;

/** Draws a bold centred title at the top of `rect` and returns the height it used. */
export function drawTitle(c: Canvas, rect: Rect, title: string | undefined): number {
  if (!title) return 0;
  const maxChars = Math.max(1, Math.floor((rect.width / THEME.scale + 1) / 6));
  const text = title.length > maxChars ? title.slice(0, maxChars - 2) + '..' : title;
  c.text(text, rect.x + rect.width / 2, rect.y, { align: 'center', bold: true, color: THEME.text });
  return THEME.lineH + 10;
}

export interface Tick {
  /** Pixel coordinate along the axis. */
  at: number;
  /** Data value at the tick. */
  value?: number;
  label?: string;
  /** Minor ticks only draw a faint grid line. */
  minor?: boolean;
}

/** Grid lines across the plot for every tick (drawn first, under the data). */
export function drawGrid(c: Canvas, plot: Rect, side: 'left' | 'bottom', ticks: readonly Tick[]): void {
  for (const t of ticks) {
    const color = t.minor ? THEME.minorGrid : THEME.grid;
    const p = Math.round(t.at);
    if (side === 'left') c.fillRect(plot.x, p, plot.width, 1, color);
    else c.fillRect(p, plot.y, 1, plot.height, color);
  }
}

/** Axis line, tick marks and labels (drawn last, over the data, so the axis stays unbroken). */
export function drawAxis(c: Canvas, plot: Rect, side: 'left' | 'bottom', ticks: readonly Tick[]): void {
  const bottom = plot.y + plot.height;
  if (side === 'left') c.fillRect(plot.x - 1, plot.y, 1, plot.height + 1, THEME.axis);
  else c.fillRect(plot.x - 1, bottom, plot.width + 1, 1, THEME.axis);
  for (const t of ticks) {
    if (t.minor) continue;
    const p = Math.round(t.at);
    if (side === 'left') {
      c.fillRect(plot.x - 6, p, 5, 1, THEME.axis);
      if (t.label) c.text(t.label, plot.x - 10, p + 1, { align: 'right', baseline: 'middle', color: THEME.text });
    } else {
      c.fillRect(p, bottom + 1, 1, 5, THEME.axis);
      if (t.label) c.text(t.label, p + 1, bottom + 10, { align: 'center', color: THEME.text });
    }
  }
}

/**
 * Ticks for a value axis `length` pixels long starting at `start`. 'up' axes (y) get a tick per
 * ~45px; 'right' axes (x) start dense and back off until neighbouring labels have room.
 */
export function axisTicks(s: Scale, start: number, length: number, dir: 'up' | 'right', integer = false): Tick[] {
  const at = (v: number) => (dir === 'up' ? start + length - s.unit(v) * length : start + s.unit(v) * length);
  if (s.log) {
    const { major, mid, minor } = logTicks(s.lo, s.hi);
    const gapNeeded = (a: number, b: number) => (dir === 'up' ? 24 : (measureText(formatValue(a)).width + measureText(formatValue(b)).width) / 2 + 12);
    const fits = (vs: number[]) => vs.every((v, k) => k === 0 || Math.abs(at(v) - at(vs[k - 1])) >= gapNeeded(v, vs[k - 1]));
    // Label 2s and 5s when there is room; on a short axis thin the decades too.
    let labelled = [...major, ...mid].sort((a, b) => a - b);
    if (!fits(labelled)) labelled = major;
    for (let every = 2; !fits(labelled) && labelled.length > 2; every++) labelled = major.filter((_, k) => k % every === 0);
    const all = [...major, ...mid, ...minor];
    const faint = all.filter((v) => !labelled.includes(v));
    return [...faint.map((v) => ({ at: at(v), value: v, minor: true })), ...labelled.map((v) => ({ at: at(v), value: v, label: formatValue(v) }))];
  }
  const ticksFor = (n: number): Tick[] => {
    const { values, step } = niceTicks(s.lo, s.hi, n, integer);
    const labels = formatTicks(values, step);
    return values.map((v, k) => ({ at: at(v), value: v, label: labels[k] }));
  };
  if (dir === 'up') return ticksFor(Math.max(2, Math.min(10, Math.floor(length / 45))));
  for (let n = Math.max(2, Math.floor(length / 50)); ; n--) {
    const ticks = ticksFor(n);
    const roomy = ticks.every((t, k) => k === 0 || t.at - ticks[k - 1].at >= (labelWidth([t]) + labelWidth([ticks[k - 1]])) / 2 + 16);
    if (roomy || n <= 2) return ticks;
  }
}

/** How far the centred labels of a bottom axis stick out past `limit` (0 when they fit). */
export function rightOverflow(ticks: readonly Tick[], limit: number): number {
  return Math.max(0, ...ticks.map((t) => (t.label ? t.at + measureText(t.label).width / 2 + 2 - limit : 0)));
}

/** Widest label among ticks, for sizing the left margin. */
export function labelWidth(ticks: readonly Tick[]): number {
  return Math.max(0, ...ticks.map((t) => (t.label ? measureText(t.label).width : 0)));
}

export interface LegendItem {
  name: string;
  color: string;
  kind: 'line' | 'bar';
  marker?: MarkerShape | null;
  dashed?: boolean;
}

const SWATCH = 30;
const ITEM_GAP = 24;

function itemWidth(it: LegendItem): number {
  return SWATCH + 8 + measureText(it.name).width;
}

/** Size of a boxed legend with one item per row (used inside the plot area). */
export function legendBoxSize(items: readonly LegendItem[]): { width: number; height: number } {
  return { width: 16 + Math.max(0, ...items.map(itemWidth)), height: 10 + items.length * THEME.lineH };
}

/** Rows of a legend laid out left to right within `maxWidth` (used above the plot area). */
export function legendRows(items: readonly LegendItem[], maxWidth: number): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let row: LegendItem[] = [], w = 0;
  for (const it of items) {
    const iw = itemWidth(it);
    if (row.length > 0 && w + ITEM_GAP + iw > maxWidth) { rows.push(row); row = []; w = 0; }
    w += (row.length > 0 ? ITEM_GAP : 0) + iw;
    row.push(it);
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

function drawItem(c: Canvas, it: LegendItem, x: number, cy: number): void {
  if (it.kind === 'bar') c.fillRect(x + 7, cy - 7, 16, 14, it.color);
  else {
    c.line(x, cy, x + SWATCH, cy, { color: it.color, width: 2, dash: it.dashed ? DASH : undefined });
    if (it.marker) { c.marker(x + SWATCH / 2, cy, it.marker, 6, '#ffffff'); c.marker(x + SWATCH / 2, cy, it.marker, 4, it.color); }
  }
  c.text(it.name, x + SWATCH + 8, cy + 1, { baseline: 'middle', color: THEME.text });
}

export function drawLegendBox(c: Canvas, box: Rect, items: readonly LegendItem[]): void {
  c.fillRect(box.x, box.y, box.width, box.height, '#ffffff');
  c.strokeRect(box.x, box.y, box.width, box.height, '#cccccc');
  items.forEach((it, k) => drawItem(c, it, box.x + 8, box.y + 5 + THEME.lineH * k + THEME.lineH / 2));
}

/** Draws flowing legend rows right-aligned to `right`, starting at `top`; returns the height used. */
export function drawLegendRows(c: Canvas, rows: readonly LegendItem[][], right: number, top: number): number {
  rows.forEach((row, r) => {
    const w = row.reduce((s, it, k) => s + itemWidth(it) + (k > 0 ? ITEM_GAP : 0), 0);
    let x = right - w;
    for (const it of row) { drawItem(c, it, x, top + r * THEME.lineH + THEME.lineH / 2); x += itemWidth(it) + ITEM_GAP; }
  });
  return rows.length * THEME.lineH;
}

export function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * The plot corner where a legend of this size touches none of the obstacles (data marks) and sits
 * farthest from them, or null when every corner is taken: the caller then puts it above the plot.
 */
export function findLegendSpot(plot: Rect, size: { width: number; height: number }, obstacles: readonly Rect[]): Rect | null {
  const inset = 8, margin = 4;
  if (size.width + 2 * inset > plot.width || size.height + 2 * inset > plot.height) return null;
  let best: Rect | null = null, bestGap = -1;
  for (const y of [plot.y + inset, plot.y + plot.height - inset - size.height]) {
    for (const x of [plot.x + plot.width - inset - size.width, plot.x + inset]) {
      const spot = { x, y, ...size };
      const probe = { x: x - margin, y: y - margin, width: size.width + 2 * margin, height: size.height + 2 * margin };
      if (obstacles.some((o) => intersects(o, probe))) continue;
      // Ties (no obstacles at all) keep the conventional top-right.
      const gap = Math.min(1e9, ...obstacles.map((o) => rectGap(o, spot)));
      if (gap > bestGap + 0.5) { best = spot; bestGap = gap; }
    }
  }
  return best;
}

function rectGap(a: Rect, b: Rect): number {
  const dx = Math.max(0, a.x - (b.x + b.width), b.x - (a.x + a.width));
  const dy = Math.max(0, a.y - (b.y + b.height), b.y - (a.y + a.height));
  return Math.hypot(dx, dy);
}

/** Splits `rect` into a rows x cols grid of panels (e.g. loss and accuracy side by side). */
export function gridRects(rect: Rect, rows: number, cols: number, gap = 24): Rect[] {
  const w = Math.floor((rect.width - gap * (cols - 1)) / cols), h = Math.floor((rect.height - gap * (rows - 1)) / rows);
  const out: Rect[] = [];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) out.push({ x: rect.x + k * (w + gap), y: rect.y + r * (h + gap), width: w, height: h });
  }
  return out;
}
