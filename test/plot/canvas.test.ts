import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Canvas, measureText, parseColor, wrapText, type RGBA } from '../../plot/index.ts';

const s = suite('plot: canvas, lines and text');
const WHITE: RGBA = [255, 255, 255, 255];
const BLUE: RGBA = [0, 114, 178, 255];

/** Pixels of the canvas that differ from white, as "x,y" keys. */
function inked(c: Canvas): Set<string> {
  const out = new Set<string>();
  for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) if (c.getPixel(x, y).some((v, k) => v !== WHITE[k])) out.add(`${x},${y}`);
  return out;
}

s('colours parse from hex and arrays', () => {
  assert.equal(parseColor('#0072B2'), BLUE);
  assert.equal(parseColor('#f00'), [255, 0, 0, 255]);
  assert.equal(parseColor('#00000080'), [0, 0, 0, 128]);
  assert.equal(parseColor([1, 2, 3]), [1, 2, 3, 255]);
  assert.throws(() => parseColor('blue'));
});

s('a 2px horizontal line on an integer y covers exactly rows y-1 and y', () => {
  const c = new Canvas(40, 20);
  c.line(5, 10, 30, 10, { color: '#0072B2', width: 2 });
  for (let x = 6; x < 30; x++) {
    assert.equal(c.getPixel(x, 9), BLUE, `row 9 at x=${x}`);
    assert.equal(c.getPixel(x, 10), BLUE, `row 10 at x=${x}`);
    assert.equal(c.getPixel(x, 8), WHITE);
    assert.equal(c.getPixel(x, 11), WHITE);
  }
  assert.equal(c.getPixel(2, 10), WHITE, 'nothing left of the round cap');
  assert.equal(c.getPixel(33, 10), WHITE, 'nothing right of the round cap');
});

s('a diagonal line inks pixels along y = x and leaves distant ones alone', () => {
  const c = new Canvas(50, 50);
  c.line(5, 5, 45, 45, { color: '#000000', width: 2 });
  for (let t = 8; t < 42; t++) assert.equal(c.getPixel(t, t), [0, 0, 0, 255], `on the line at ${t}`);
  const partial = c.getPixel(20, 21)[0];
  assert.ok(partial > 0 && partial < 255, `edge pixel is anti-aliased, got ${partial}`);
  assert.equal(c.getPixel(20, 25), WHITE);
  assert.equal(c.getPixel(25, 20), WHITE);
});

s('dashed lines alternate ink and gaps along the centre', () => {
  const c = new Canvas(100, 10);
  c.line(0, 5, 100, 5, { color: '#000000', width: 2, dash: [8, 6] });
  const row = Array.from({ length: 100 }, (_, x) => c.getPixel(x, 4)[0] === 0);
  assert.ok(row.slice(1, 7).every(Boolean), 'first dash');
  assert.ok(row.slice(10, 13).every((v) => !v), 'first gap');
  assert.ok(row.slice(15, 21).every(Boolean), 'second dash');
});

s('rects, circles and alpha blending', () => {
  const c = new Canvas(30, 30);
  c.fillRect(2, 3, 4, 5, '#ff0000');
  const ink = inked(c);
  assert.is(ink.size, 20);
  assert.ok(ink.has('2,3') && ink.has('5,7') && !ink.has('6,7') && !ink.has('5,8'));
  c.fillCircle(20, 20, 5, '#0072B2');
  assert.equal(c.getPixel(20, 20), BLUE);
  assert.equal(c.getPixel(20, 27), WHITE);
  c.fillRect(10, 10, 1, 1, '#00000080');
  assert.equal(c.getPixel(10, 10), [127, 127, 127, 255]);
});

s('clipping keeps drawing inside the clip rectangle', () => {
  const c = new Canvas(20, 20);
  c.setClip({ x: 5, y: 5, width: 10, height: 10 });
  c.fillRect(0, 0, 20, 20, '#000000');
  c.setClip(null);
  assert.is(inked(c).size, 100);
});

s('text measuring: 6px advance per char at scale 1, no trailing space', () => {
  assert.is(measureText('').width, 0);
  assert.is(measureText('A', 1).width, 5);
  assert.is(measureText('A').width, 10);
  assert.is(measureText('abc').width, 34);
  assert.is(measureText('abc', 2, true).width, 35);
  assert.equal(measureText('x', 3), { width: 15, height: 24, ascent: 21 });
});

s('drawn text stays inside its returned box, and alignment moves the box', () => {
  for (const rotate of [0, -90, 90] as const) {
    const c = new Canvas(120, 120);
    const box = c.text('Hg|0', 60, 60, { rotate, align: 'center', baseline: 'middle' });
    const ink = inked(c);
    assert.ok(ink.size > 40, `rotate ${rotate}: some ink`);
    for (const key of ink) {
      const [x, y] = key.split(',').map(Number);
      assert.ok(x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height, `rotate ${rotate}: ${key} outside`);
    }
    const along = rotate === 0 ? box.width : box.height;
    assert.is(along, measureText('Hg|0').width);
  }
  const c = new Canvas(100, 30);
  assert.is(c.text('abc', 50, 5, { align: 'right' }).x, 50 - 34);
  assert.is(c.text('abc', 50, 5, { align: 'center' }).x, 50 - 17);
  const tall = c.text('E', 10, 20, { baseline: 'bottom', scale: 1 });
  assert.is(tall.y, 13, 'baseline at y: capitals end on row 19');
  assert.equal(c.getPixel(10, 19), [34, 34, 34, 255]);
});

s('unknown characters draw as "?" rather than vanishing', () => {
  const a = new Canvas(20, 20), b = new Canvas(20, 20);
  a.text('\u00b5', 2, 2);
  b.text('?', 2, 2);
  assert.equal([...a.data], [...b.data]);
});

s('wrapping breaks at separators and marks truncation', () => {
  assert.equal(wrapText('conv3x3 s1 64ch', 1000, 2), ['conv3x3 s1 64ch']);
  assert.equal(wrapText('grouped_conv3x3 radix2', 100, 3), ['grouped_', 'conv3x3', 'radix2']);
  assert.equal(wrapText('abcdefghijklmnop', 60, 1), ['abc..']);
  const lines = wrapText('one two three four five six', 60, 2);
  assert.is(lines.length, 2);
  assert.ok(lines[1].endsWith('..'));
});

s.run();
