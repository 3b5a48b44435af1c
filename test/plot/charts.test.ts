import pngjs from 'pngjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { barChart, Canvas, encodePng, gridRects, lineChart, parseColor, PALETTE } from '../../plot/index.ts';

const s = suite('plot: charts and PNG');
const px = (c: Canvas, x: number, y: number) => c.getPixel(Math.floor(x), Math.floor(y));

s('encodePng writes a PNG that pngjs decodes to the same size and pixels', () => {
  const c = new Canvas(37, 21);
  c.fillRect(3, 4, 10, 5, '#D55E00');
  const bytes = encodePng(c);
  assert.instance(bytes, Uint8Array);
  assert.equal([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const png = pngjs.PNG.sync.read(Buffer.from(bytes));
  assert.equal([png.width, png.height], [37, 21]);
  assert.equal([...png.data], [...c.data]);
});

s('a line chart puts each series marker, in its colour, at the mapped position', () => {
  const c = new Canvas(800, 500);
  const train = [[1, 0.9], [2, 0.6], [3, 0.45], [4, 0.4]] as [number, number][];
  const val = [[1, 1.0], [2, 0.8], [3, 0.7], [4, 0.72]] as [number, number][];
  const f = lineChart(c, { x: 0, y: 0, width: 800, height: 500 }, {
    title: 'loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', points: train }, { name: 'val', points: val, dashed: true }],
  });
  for (const [x, y] of train) assert.equal(px(c, ...f.toPixel(x, y)), parseColor(PALETTE[0]), `train (${x}, ${y})`);
  for (const [x, y] of val) assert.equal(px(c, ...f.toPixel(x, y)), parseColor(PALETTE[1]), `val (${x}, ${y})`);
  // The data range is padded: extreme points land inside the plot area, not on its edges.
  const [x0, y0] = f.toPixel(1, 1.0), [x1, y1] = f.toPixel(4, 0.4);
  assert.ok(x0 > f.plot.x + 5 && y0 > f.plot.y + 5 && x1 < f.plot.x + f.plot.width - 5 && y1 < f.plot.y + f.plot.height - 5);
  assert.ok(f.plot.x > 40, 'room for y tick labels and title');
});

s('line charts survive a single point, NaN gaps and an empty series list', () => {
  const c = new Canvas(600, 400);
  const [a, b, e] = gridRects({ x: 0, y: 0, width: 600, height: 400 }, 1, 3, 0);
  const one = lineChart(c, a, { series: [{ name: 'only', points: [[3, 0.5]], color: '#009E73' }] });
  assert.equal(px(c, ...one.toPixel(3, 0.5)), parseColor('#009E73'));
  const gap = lineChart(c, b, { series: [{ name: 'g', points: [[0, 0], [1, 1], [2, NaN], [3, 1], [4, 0]], marker: 'none' }] });
  // No segment bridges the gap: around the midpoint between x=1 and x=3 at y=1 there is only
  // background and grey grid, no series colour.
  const [mx, my] = gap.toPixel(2, 1);
  for (let d = -3; d <= 3; d++) {
    const [r, g, b] = px(c, mx + d, my);
    assert.ok(r === g && g === b, `neutral pixel at offset ${d}: ${[r, g, b]}`);
  }
  const [lx, ly] = gap.toPixel(0.5, 0.5);
  assert.equal(px(c, lx, ly), parseColor(PALETTE[0]), 'segment before the gap is drawn');
  lineChart(c, e, { title: 'nothing yet', series: [] });
});

s('bar charts draw each bar in its series colour; null bars are absent', () => {
  const c = new Canvas(900, 600);
  const f = barChart(c, { x: 0, y: 0, width: 900, height: 600 }, {
    title: 'GFLOP/s', yLabel: 'GFLOP/s', categories: ['matmul', 'conv3x3', 'relu'], orientation: 'vertical',
    series: [{ name: 'ours', values: [100, 200, 50] }, { name: 'peer', values: [80, null, 60] }],
    referenceLines: [{ value: 250, label: 'peak' }],
  });
  assert.is(f.orientation, 'vertical');
  assert.is(f.barRect(1, 1), null);
  const r = f.barRect(0, 1)!;
  assert.equal(px(c, r.x + r.width / 2, r.y + r.height / 2), parseColor(PALETTE[0]));
  const q = f.barRect(1, 2)!;
  assert.equal(px(c, q.x + q.width / 2, q.y + q.height / 2), parseColor(PALETTE[1]));
  // Linear bars grow from zero: 200 is twice as tall as 100.
  assert.ok(Math.abs(r.height - 2 * f.barRect(0, 0)!.height) < 1.01);
  assert.ok(Math.abs(r.y + r.height - f.valueToPixel(0)) < 1e-6);
  // The reference line is drawn (dashed, so look along a stretch of it).
  const y = Math.round(f.valueToPixel(250));
  let dark = 0;
  for (let x = f.plot.x; x < f.plot.x + 100; x++) if (c.getPixel(x, y)[0] < 100 || c.getPixel(x, y - 1)[0] < 100) dark++;
  assert.ok(dark > 40, `reference line pixels: ${dark}`);
});

s('long labels turn bars horizontal; log bars are proportional to decades', () => {
  const c = new Canvas(900, 700);
  const cats = Array.from({ length: 12 }, (_, k) => `grouped conv3x3 variant ${k}`);
  const f = barChart(c, { x: 0, y: 0, width: 900, height: 700 }, {
    categories: cats, log: true,
    series: [{ name: 'a', values: cats.map((_, k) => (k === 0 ? 10 : k === 1 ? 1000 : 100)) }],
  });
  assert.is(f.orientation, 'horizontal');
  const ten = f.barRect(0, 0)!, thousand = f.barRect(0, 1)!, hundred = f.barRect(0, 2)!;
  assert.ok(thousand.y > ten.y, 'first category on top');
  assert.ok(Math.abs(thousand.width - hundred.width - (hundred.width - ten.width)) < 1.01, 'equal length per decade');
  assert.equal(px(c, hundred.x + hundred.width / 2, hundred.y + hundred.height / 2), parseColor(PALETTE[0]));
});

s.run();
