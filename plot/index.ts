// Dependency-light raster charts: a pure TypeScript canvas with a bitmap font, line and bar charts,
// and PNG encoding. Everything except png.ts's encoder choice is plain computation on typed arrays.
export {
  Canvas, parseColor, type Align, type Baseline, type ColorLike, type MarkerShape, type Rect, type RGBA, type StrokeStyle,
  type TextStyle,
} from './canvas.ts';
export { measureText, wrapText, type TextMetrics } from './font.ts';
export * from './charts.ts';
export { encodePng } from './png.ts';
export { extent, formatTicks, formatValue, logTicks, niceStep, niceTicks, padRange, Scale } from './ticks.ts';
