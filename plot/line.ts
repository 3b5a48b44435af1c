// Line charts: several series over a numeric x axis (epochs), markers, NaN gaps, optional log y.
import type { Canvas, MarkerShape, Rect } from './canvas.ts';
import {
  axisTicks, DASH, drawAxis, drawGrid, drawLegendBox, drawLegendRows, drawTitle, findLegendSpot, labelWidth,
  legendBoxSize, legendRows, MARKERS, PALETTE, rightOverflow, THEME, type LegendItem,
} from './frame.ts';
import { extent, padRange, Scale } from './ticks.ts';

export interface LineSeries {
  name: string;
  /** [x, y] pairs; a non-finite x or y (NaN, null cast to NaN) breaks the line there. */
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
  dashed?: boolean;
  /** Marker shape, or 'none'. Default: a shape per series; hidden when points are denser than ~7px. */
  marker?: MarkerShape | 'none';
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly LineSeries[];
  /** Fixed axis ranges; by default the data range plus a small margin. */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  logY?: boolean;
  /** Default: shown when any series has a name. */
  legend?: boolean;
}

/** Where the chart put its plot area, and the data -> pixel mapping (for overlays and tests). */
export interface ChartFrame {
  plot: Rect;
  toPixel(x: number, y: number): [number, number];
}

const PAD = 10;

export function lineChart(c: Canvas, rect: Rect, opts: LineChartOptions): ChartFrame {
  const logY = opts.logY ?? false;
  const ok = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const all = opts.series.flatMap((s) => s.points.filter(([x, y]) => ok(x, y)));
  const intX = all.length > 0 && all.every(([x]) => Number.isInteger(x));
  const [x0, x1] = opts.xRange ?? padRange(extent(all.map((p) => p[0])), 0.03);
  const ys = yScale(all.map((p) => p[1]), opts.yRange, logY);
  const xs = new Scale(x0, x1);

  const inner = { x: rect.x + PAD, y: rect.y + PAD, width: rect.width - 2 * PAD, height: rect.height - 2 * PAD };
  const titleH = drawTitle(c, inner, opts.title);
  const bottomSpace = 10 + THEME.lineH + (opts.xLabel ? 8 + THEME.lineH : 0);
  const leftTitle = opts.yLabel ? THEME.lineH + 10 : 0;

  const build = (top: number) => {
    const bottom = inner.y + inner.height - bottomSpace;
    const h = bottom - top;
    const yTicks = axisTicks(ys, top, h, 'up');
    const left = inner.x + leftTitle + labelWidth(yTicks) + 12;
    const plot = { x: left, y: top, width: inner.x + inner.width - 16 - left, height: h };
    let xTicks = axisTicks(xs, plot.x, plot.width, 'right', intX);
    const over = rightOverflow(xTicks, inner.x + inner.width);
    if (over > 0) {
      plot.width -= Math.ceil(over);
      xTicks = axisTicks(xs, plot.x, plot.width, 'right', intX);
    }
    return { plot, yTicks, xTicks };
  };

  // Markers closer than ~7px would merge into a blob; such series are drawn (and listed) without.
  const approxWidth = inner.width - 100;
  const styles = opts.series.map((s, i) => ({
    color: s.color ?? PALETTE[i % PALETTE.length],
    marker: s.marker === 'none' || (s.marker === undefined && approxWidth / s.points.length < 7) ? null : s.marker ?? MARKERS[i % MARKERS.length],
  }));
  const items: LegendItem[] = opts.series.map((s, i) => ({
    name: s.name, color: styles[i].color, kind: 'line', marker: styles[i].marker, dashed: s.dashed,
  }));
  const showLegend = (opts.legend ?? opts.series.some((s) => s.name)) && items.length > 0;

  let L = build(inner.y + titleH);
  const runsOf = (plot: Rect) => opts.series.map((s) => splitRuns(s.points, ok).map((run) => run.map(([x, y]): [number, number] => [
    plot.x + xs.unit(x) * plot.width, plot.y + plot.height - ys.unit(y) * plot.height,
  ])));
  let runs = runsOf(L.plot);
  let legendBox: Rect | null = null;
  if (showLegend) {
    legendBox = findLegendSpot(L.plot, legendBoxSize(items), obstaclesOf(runs.flat()));
    if (!legendBox) {
      // No free corner: the legend goes in rows above the plot, which shrinks the plot.
      const rows = legendRows(items, inner.width);
      drawLegendRows(c, rows, inner.x + inner.width - 16, inner.y + titleH);
      L = build(inner.y + titleH + rows.length * THEME.lineH + 8);
      runs = runsOf(L.plot);
    }
  }
  const { plot, xTicks, yTicks } = L;

  drawGrid(c, plot, 'left', yTicks);
  drawGrid(c, plot, 'bottom', xTicks);
  c.setClip(plot);
  runs.forEach((seriesRuns, i) => {
    const { color, marker } = styles[i];
    for (const run of seriesRuns) {
      if (run.length > 1) c.polyline(run, { color, width: 2, dash: opts.series[i].dashed ? DASH : undefined });
      // An isolated point would be invisible without its marker, so it always gets one.
      const shape = marker ?? (run.length === 1 ? 'circle' : null);
      if (!shape) continue;
      for (const [px, py] of run) { c.marker(px, py, shape, 6, '#ffffff'); c.marker(px, py, shape, 4, color); }
    }
  });
  c.setClip(null);
  drawAxis(c, plot, 'left', yTicks);
  drawAxis(c, plot, 'bottom', xTicks);
  if (legendBox) drawLegendBox(c, legendBox, items);

  if (opts.xLabel) c.text(opts.xLabel, plot.x + plot.width / 2, plot.y + plot.height + 10 + THEME.lineH + 8, { align: 'center', color: THEME.muted });
  if (opts.yLabel) c.text(opts.yLabel, inner.x, plot.y + plot.height / 2, { rotate: -90, align: 'center', color: THEME.muted });
  return {
    plot,
    toPixel: (x, y) => [plot.x + xs.unit(x) * plot.width, plot.y + plot.height - ys.unit(y) * plot.height],
  };
}

function yScale(values: number[], fixed: readonly [number, number] | undefined, log: boolean): Scale {
  if (fixed) return new Scale(fixed[0], fixed[1], log);
  const r = extent(values);
  if (!log) {
    const [lo, hi] = padRange(r, 0.06);
    return new Scale(lo, hi);
  }
  // Padding is multiplicative on a log axis; a single value still gets a decade around it.
  if (!r) return new Scale(1, 10, true);
  const [lo, hi] = r[0] === r[1] ? [r[0] / Math.sqrt(10), r[1] * Math.sqrt(10)] : r;
  const f = Math.pow(hi / lo, 0.06);
  return new Scale(lo / f, hi * f, true);
}

/** Consecutive drawable points; anything `ok` rejects (NaN, non-positive on log axes) is a gap. */
function splitRuns(points: ReadonlyArray<readonly [number, number]>, ok: (x: number, y: number) => boolean): Array<Array<readonly [number, number]>> {
  const runs: Array<Array<readonly [number, number]>> = [];
  let cur: Array<readonly [number, number]> = [];
  for (const p of points) {
    if (ok(p[0], p[1])) cur.push(p);
    else if (cur.length > 0) { runs.push(cur); cur = []; }
  }
  if (cur.length > 0) runs.push(cur);
  return runs;
}

/** Boxes along every run (points and segment samples every 4px) that a legend must not cover. */
function obstaclesOf(runs: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Rect[] {
  const r = 7, out: Rect[] = [];
  const box = (x: number, y: number) => out.push({ x: x - r, y: y - r, width: 2 * r, height: 2 * r });
  for (const run of runs) {
    run.forEach(([x, y], k) => {
      box(x, y);
      if (k === 0) return;
      const [px, py] = run[k - 1];
      const n = Math.ceil(Math.hypot(x - px, y - py) / 4);
      for (let t = 1; t < n; t++) box(px + ((x - px) * t) / n, py + ((y - py) * t) / n);
    });
  }
  return out;
}
