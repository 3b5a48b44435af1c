// The chart entry points. Each draws into a rectangle of a Canvas, so several charts (loss and
// accuracy panels) can share one image; see gridRects for splitting a canvas into panels.
export { lineChart, type ChartFrame, type LineChartOptions, type LineSeries } from './line.ts';
export { barChart, type BarChartOptions, type BarFrame, type BarSeries, type ReferenceLine } from './bar.ts';
export { gridRects, PALETTE, MARKERS } from './frame.ts';
