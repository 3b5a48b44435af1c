// Grouped bar charts (throughput per kernel for several implementations), linear or log value axis,
// horizontal (long category names at the left) or vertical, with labelled reference lines (peaks).
import type { Canvas, Rect } from './canvas.ts';
import {
  axisTicks, DASH, drawAxis, drawGrid, drawLegendBox, drawLegendRows, drawTitle, findLegendSpot, intersects, labelWidth,
  legendBoxSize, legendRows, PALETTE, rightOverflow, THEME, type LegendItem,
} from './frame.ts';
import { measureText, wrapText } from './font.ts';
import { extent, formatValue, Scale } from './ticks.ts';

export interface BarSeries {
  name: string;
  /** One value per category; null (or, on a log axis, a value <= 0) means "not measured". */
  values: ReadonlyArray<number | null>;
  color?: string;
}

export interface ReferenceLine {
  value: number;
  label: string;
  color?: string;
}

export interface BarChartOptions {
  title?: string;
  /** Title of the value axis (bottom for horizontal bars, left for vertical ones). */
  yLabel?: string;
  /** Title of the category axis. */
  xLabel?: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  log?: boolean;
  referenceLines?: readonly ReferenceLine[];
  /** 'auto' (default) turns bars horizontal when category labels would not fit under vertical bars. */
  orientation?: 'vertical' | 'horizontal' | 'auto';
  /** Print each bar's value at its end. */
  valueLabels?: boolean;
  legend?: boolean;
}

export interface BarFrame {
  plot: Rect;
  orientation: 'vertical' | 'horizontal';
  /** Pixel rectangle of one bar, or null when the value is missing. */
  barRect(series: number, category: number): Rect | null;
  /** Pixel coordinate of a value along the value axis. */
  valueToPixel(v: number): number;
}

const PAD = 10;
const fitsUnwrapped = (label: string, w: number, lines: number) => !wrapText(label, w, lines).some((l) => l.endsWith('..'));

export function barChart(c: Canvas, rect: Rect, opts: BarChartOptions): BarFrame {
  const { categories, series } = opts;
  const log = opts.log ?? false;
  const refs = opts.referenceLines ?? [];
  const usable = (v: number | null | undefined): v is number => v != null && Number.isFinite(v) && (!log || v > 0);
  const inner = { x: rect.x + PAD, y: rect.y + PAD, width: rect.width - 2 * PAD, height: rect.height - 2 * PAD };
  const n = Math.max(1, categories.length), m = Math.max(1, series.length);
  const catWidth = Math.max(0, ...categories.map((l) => measureText(l).width));
  const vertSlot = (inner.width - 90) / n - 8;
  const horizontal = opts.orientation === 'horizontal' ||
    (opts.orientation !== 'vertical' && !categories.every((l) => fitsUnwrapped(l, vertSlot, 2)));

  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const items: LegendItem[] = series.map((s, i) => ({ name: s.name, color: colors[i], kind: 'bar' }));
  const showLegend = (opts.legend ?? series.some((s) => s.name)) && items.length > 0;

  let top = inner.y + drawTitle(c, inner, opts.title);
  // Legend rows above the plot are decided up front for bars: corners are rarely free of bars.
  const rows = showLegend ? legendRows(items, inner.width) : [];
  const box = showLegend ? legendBoxSize(items) : null;

  const values = series.flatMap((s) => s.values.filter(usable)).concat(refs.map((r) => r.value).filter(usable));
  const valueScale = (): Scale => {
    const ext = extent(values) ?? (log ? [1, 10] : [0, 1]);
    if (log) {
      // Bars grow from a decade; the top only gets headroom (a whole empty decade wastes the axis).
      const lo = Math.pow(10, Math.floor(Math.log10(ext[0]) + 1e-9));
      const decades = Math.max(1, Math.log10(ext[1] / lo));
      return new Scale(lo, ext[1] * Math.pow(10, decades * (opts.valueLabels ? 0.1 : 0.04)), true);
    }
    const lo = Math.min(0, ext[0]), hi = Math.max(0, ext[1]);
    return new Scale(lo, lo + (hi - lo || 1) * (opts.valueLabels ? 1.12 : 1.03));
  };
  /** Ticks for the value axis; a linear axis is then stretched to end on a labelled tick. */
  const valueAxis = (plot: Rect) => {
    const ticksFor = (s: Scale) => horizontal ? axisTicks(s, plot.x, plot.width, 'right') : axisTicks(s, plot.y, plot.height, 'up');
    let scale = valueScale(), ticks = ticksFor(scale);
    for (let k = 0; k < 3 && !log && ticks.length >= 2; k++) {
      const step = (ticks[1].value ?? 0) - (ticks[0].value ?? 0);
      const lo = Math.floor(scale.lo / step + 1e-9) * step, hi = Math.ceil(scale.hi / step - 1e-9) * step;
      if (lo === scale.lo && hi === scale.hi) break;
      scale = new Scale(lo, hi);
      ticks = ticksFor(scale);
    }
    return { scale, ticks };
  };

  const layout = (top: number) => {
    const bottom = inner.y + inner.height - (10 + THEME.lineH + (horizontal && opts.yLabel ? 8 + THEME.lineH : 0));
    if (horizontal) {
      const col = Math.min(catWidth, Math.floor(inner.width * 0.35));
      const left = inner.x + (opts.xLabel ? THEME.lineH + 10 : 0) + col + 12;
      const plotTop = top + refs.length * THEME.lineH + (refs.length ? 4 : 0);
      const plot = { x: left, y: plotTop, width: inner.x + inner.width - 20 - left, height: bottom - plotTop };
      let axis = valueAxis(plot);
      const over = rightOverflow(axis.ticks, inner.x + inner.width);
      if (over > 0) {
        plot.width -= Math.ceil(over);
        axis = valueAxis(plot);
      }
      return { plot, ...axis, col, rotate: false };
    }
    const slot = (inner.width - 90) / n - 8;
    const rotate = !categories.every((l) => fitsUnwrapped(l, slot, 2));
    const labH = rotate ? Math.min(catWidth, Math.floor(inner.height * 0.3)) : (categories.some((l) => !fitsUnwrapped(l, slot, 1)) ? 2 : 1) * THEME.lineH;
    const plotBottom = inner.y + inner.height - (10 + labH + (opts.xLabel ? 8 + THEME.lineH : 0));
    const plot = { x: 0, y: top, width: 0, height: plotBottom - top };
    const axis = valueAxis(plot);
    plot.x = inner.x + (opts.yLabel ? THEME.lineH + 10 : 0) + labelWidth(axis.ticks) + 12;
    plot.width = inner.x + inner.width - 10 - plot.x;
    return { plot, ...axis, col: labH, rotate };
  };

  let L = layout(top);
  const geometry = (plot: Rect, scale: Scale) => {
    const len = horizontal ? plot.width : plot.height;
    const slot = (horizontal ? plot.height : plot.width) / n;
    const thick = (slot * 0.8) / m;
    const pos = (v: number) => Math.max(0, Math.min(len, scale.unit(v) * len));
    const base = log ? 0 : pos(0);
    const barRect = (s: number, k: number): Rect | null => {
      const v = series[s]?.values[k];
      if (!usable(v)) return null;
      const a = Math.min(base, pos(v)), b = Math.max(base, pos(v));
      const off = slot * k + slot * 0.1 + thick * s;
      return horizontal
        ? { x: plot.x + a, y: plot.y + off, width: b - a, height: thick }
        : { x: plot.x + off, y: plot.y + plot.height - b, width: thick, height: b - a };
    };
    const valueToPixel = (v: number) => (horizontal ? plot.x + scale.unit(v) * len : plot.y + plot.height - scale.unit(v) * len);
    return { slot, thick, base, barRect, valueToPixel };
  };
  let G = geometry(L.plot, L.scale);
  const allBars = () => series.flatMap((_, s) => categories.map((_, k) => G.barRect(s, k))).filter((r): r is Rect => r !== null);
  let legendBox = box ? findLegendSpot(L.plot, box, [...allBars(), ...refObstacles(L.plot, refs, G.valueToPixel, horizontal)]) : null;
  if (showLegend && !legendBox) {
    drawLegendRows(c, rows, inner.x + inner.width - 20, top);
    top += rows.length * THEME.lineH + 8;
    L = layout(top);
    G = geometry(L.plot, L.scale);
  }
  const { plot, ticks } = L;

  drawGrid(c, plot, horizontal ? 'bottom' : 'left', ticks);
  const scaleText = G.thick >= 17 ? 2 : G.thick >= 9 ? 1 : 0;
  // One size for every value label of a vertical chart: the largest at which all fit flat over
  // their bars (adjacent bars touch, so a wider label would run into its neighbour), else rotated.
  const labelsOf = series.flatMap((s) => s.values.filter(usable).map((v) => formatValue(v)));
  const flat = horizontal ? scaleText : [2, 1].find((sc) => sc <= scaleText && labelsOf.every((l) => measureText(l, sc).width <= G.thick - 2)) ?? 0;
  series.forEach((s, si) => categories.forEach((_, k) => {
    const r = G.barRect(si, k);
    if (r) c.fillRect(r.x, r.y, r.width, r.height, colors[si]);
    if (!scaleText) return;
    const off = G.slot * k + G.slot * 0.1 + G.thick * si + G.thick / 2;
    if (!r) {
      // Missing and zero differ: say so instead of leaving an ambiguous gap.
      if (horizontal) c.text('n/a', plot.x + G.base + 4, plot.y + off, { scale: 1, baseline: 'middle', color: THEME.muted });
      else if (G.thick >= 20) c.text('n/a', plot.x + off, plot.y + plot.height - G.base - 4, { scale: 1, align: 'center', baseline: 'bottom', color: THEME.muted });
    } else if (opts.valueLabels) {
      const label = formatValue(s.values[k] as number);
      if (horizontal) c.text(label, r.x + r.width + 4, plot.y + off + 1, { scale: scaleText, baseline: 'middle', color: THEME.text });
      else {
        if (flat) c.text(label, plot.x + off, r.y - 4, { scale: flat, align: 'center', baseline: 'bottom', color: THEME.text });
        else c.text(label, plot.x + off + 1, r.y - 4, { scale: 1, rotate: -90, baseline: 'middle', color: THEME.text });
      }
    }
  }));
  drawReferenceLines(c, plot, refs, G.valueToPixel, horizontal);
  drawAxis(c, plot, horizontal ? 'bottom' : 'left', ticks);
  drawCategoryAxis(c, plot, categories, G.slot, horizontal, L.col, L.rotate);
  if (legendBox) drawLegendBox(c, legendBox, items);

  if (opts.yLabel) {
    if (horizontal) c.text(opts.yLabel, plot.x + plot.width / 2, plot.y + plot.height + 10 + THEME.lineH + 8, { align: 'center', color: THEME.muted });
    else c.text(opts.yLabel, inner.x, plot.y + plot.height / 2, { rotate: -90, align: 'center', color: THEME.muted });
  }
  if (opts.xLabel) {
    if (horizontal) c.text(opts.xLabel, inner.x, plot.y + plot.height / 2, { rotate: -90, align: 'center', color: THEME.muted });
    else c.text(opts.xLabel, plot.x + plot.width / 2, inner.y + inner.height - THEME.lineH + 2, { align: 'center', color: THEME.muted });
  }
  return { plot, orientation: horizontal ? 'horizontal' : 'vertical', barRect: G.barRect, valueToPixel: G.valueToPixel };
}

function drawCategoryAxis(c: Canvas, plot: Rect, cats: readonly string[], slot: number, horizontal: boolean, room: number, rotate: boolean): void {
  if (horizontal) {
    c.fillRect(plot.x - 1, plot.y, 1, plot.height + 1, THEME.axis);
    const maxLines = Math.max(1, Math.floor(slot / THEME.lineH));
    cats.forEach((label, k) => {
      const lines = wrapText(label, room, maxLines);
      const cy = plot.y + slot * (k + 0.5) - ((lines.length - 1) * THEME.lineH) / 2;
      lines.forEach((l, j) => c.text(l, plot.x - 10, cy + j * THEME.lineH + 1, { align: 'right', baseline: 'middle', color: THEME.text }));
    });
    return;
  }
  const bottom = plot.y + plot.height;
  cats.forEach((label, k) => {
    const cx = plot.x + slot * (k + 0.5);
    if (rotate) {
      const text = wrapText(label, room, 1)[0];
      c.text(text, cx, bottom + 8, { rotate: -90, align: 'right', baseline: 'middle', color: THEME.text });
    } else {
      wrapText(label, slot - 8, 2).forEach((l, j) => c.text(l, cx, bottom + 10 + j * THEME.lineH, { align: 'center', color: THEME.text }));
    }
  });
}

/** Where reference-line labels go: a row per line above horizontal bars, or beside the line's right end. */
function refLabelBoxes(plot: Rect, refs: readonly ReferenceLine[], toPx: (v: number) => number, horizontal: boolean): Rect[] {
  const boxes: Rect[] = [];
  refs.forEach((r, k) => {
    const w = measureText(r.label).width + 8, h = THEME.lineH;
    const p = toPx(r.value);
    if (horizontal) {
      // Centred over the line when that fits, else hanging off the line's side towards the middle.
      let x = p - w / 2;
      if (x + w > plot.x + plot.width + 10) x = p - w + 4;
      else if (x < plot.x - 10) x = p - 4;
      boxes.push({ x, y: plot.y - (refs.length - k) * THEME.lineH - 4, width: w, height: h });
    } else {
      // Above the line at its right end (below it if an earlier label sits there), clear of the dashes.
      let b = { x: plot.x + plot.width - w - 4, y: p - h - 4, width: w, height: h };
      if (boxes.some((o) => intersects(o, b))) b = { ...b, y: p + 4 };
      boxes.push(b);
    }
  });
  return boxes;
}

function refObstacles(plot: Rect, refs: readonly ReferenceLine[], toPx: (v: number) => number, horizontal: boolean): Rect[] {
  const lines = refs.map((r) => {
    const p = toPx(r.value);
    return horizontal ? { x: p - 3, y: plot.y, width: 6, height: plot.height } : { x: plot.x, y: p - 3, width: plot.width, height: 6 };
  });
  return [...lines, ...refLabelBoxes(plot, refs, toPx, horizontal)];
}

function drawReferenceLines(c: Canvas, plot: Rect, refs: readonly ReferenceLine[], toPx: (v: number) => number, horizontal: boolean): void {
  const boxes = refLabelBoxes(plot, refs, toPx, horizontal);
  refs.forEach((r, k) => {
    const color = r.color ?? THEME.reference;
    const p = Math.round(toPx(r.value));
    const inside = horizontal ? p >= plot.x && p <= plot.x + plot.width : p >= plot.y && p <= plot.y + plot.height;
    if (!inside || !Number.isFinite(p)) return;
    if (horizontal) c.line(p, plot.y - 2, p, plot.y + plot.height, { color, width: 2, dash: DASH });
    else c.line(plot.x, p, plot.x + plot.width, p, { color, width: 2, dash: DASH });
    const b = boxes[k];
    if (!horizontal) c.fillRect(b.x, b.y, b.width, b.height, '#ffffff');
    c.text(r.label, b.x + 4, b.y + 1, { color });
  });
}
