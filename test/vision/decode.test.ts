import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage, encodeJpeg, ImageDecodeError, sniffFormat } from '../../src/vision/index.ts';
import { FIXTURES, readSafetensors, tensor } from './helpers.ts';

const s = suite('vision: decoding');
const ref = readSafetensors(join(FIXTURES, 'transforms.safetensors'));
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

function diff(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

s('PNG (grey, RGBA, palette) decodes to exactly what PIL gives as RGB', () => {
  for (const name of ['small_gray.png', 'small_rgba.png', 'small_palette.png']) {
    const img = decodeImage(bytes(name), name);
    const want = tensor(ref, `decoded/${name}`);
    assert.equal([img.height, img.width, 3], want.shape, name);
    assert.equal(diff(img.data, want.data as Uint8Array).max, 0, name);
  }
});

s('PNG decodes from a plain Uint8Array as well as a Node Buffer', () => {
  const buf = readFileSync(join(FIXTURES, 'card.png'));
  const a = decodeImage(buf), b = decodeImage(new Uint8Array(buf));
  assert.equal(Array.from(a.data), Array.from(b.data));
});

s('JPEG agrees with libjpeg (PIL) up to IDCT/upsampling rounding', () => {
  // 4:4:4 and greyscale differ only by IDCT rounding; 4:2:0 also by chroma upsampling
  // (jpeg-js replicates, libjpeg interpolates), which shows at colour edges.
  const limits: Record<string, { max: number; mean: number }> = {
    'small_444.jpg': { max: 3, mean: 0.7 },
    'small_gray.jpg': { max: 1, mean: 0.2 },
    'small_420.jpg': { max: 40, mean: 4 },
  };
  for (const [name, lim] of Object.entries(limits)) {
    const img = decodeImage(bytes(name), name);
    const want = tensor(ref, `decoded/${name}`);
    assert.equal([img.height, img.width, 3], want.shape, name);
    const d = diff(img.data, want.data as Uint8Array);
    assert.ok(d.max <= lim.max && d.mean <= lim.mean, `${name}: max ${d.max}, mean ${d.mean.toFixed(3)}`);
  }
});

s('grey JPEG comes out as three equal channels', () => {
  const img = decodeImage(bytes('small_gray.jpg'));
  for (let p = 0; p < img.width * img.height; p++) {
    assert.ok(img.data[3 * p] === img.data[3 * p + 1] && img.data[3 * p] === img.data[3 * p + 2]);
  }
});

s('format is sniffed from bytes, not the file name', () => {
  assert.is(sniffFormat(bytes('small_444.jpg')), 'jpeg');
  assert.is(sniffFormat(bytes('card.png')), 'png');
  assert.is(sniffFormat(new Uint8Array([1, 2, 3])), null);
});

s('corrupt, truncated, empty and non-image files throw ImageDecodeError naming the file', () => {
  const jpg = bytes('small_444.jpg');
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6)), /corrupt or truncated JPEG/],
    ['cut-before-eoi.jpg', jpg.subarray(0, jpg.length - 2), /corrupt or truncated JPEG/],
    ['empty.jpg', new Uint8Array(0), /empty file/],
    ['text.jpg', new TextEncoder().encode('not an image'), /not a JPEG or PNG/],
    ['truncated.png', bytes('card.png').subarray(0, 300), /corrupt or truncated PNG/],
  ];
  // Header-only (every segment up to the scan, then end-of-image): jpeg-js alone returns a grey image.
  const sos = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xda);
  cases.push(['header-only.jpg', Uint8Array.from([...jpg.subarray(0, sos), 0xff, 0xd9]), /no image data after the header/]);
  // Without its Huffman tables the decoder fails inside its internals: no TypeError text may leak.
  const withoutTables: number[] = [0xff, 0xd8];
  for (let i = 2; i < sos;) {
    const length = (jpg[i + 2] << 8) | jpg[i + 3];
    if (jpg[i + 1] !== 0xc4) withoutTables.push(...jpg.subarray(i, i + 2 + length));
    i += 2 + length;
  }
  withoutTables.push(...jpg.subarray(sos));
  cases.push(['no-tables.jpg', Uint8Array.from(withoutTables), /corrupt or truncated JPEG: damaged header \(missing or invalid tables\)\)$/]);
  const garbled = jpg.slice();
  for (let i = 200; i < garbled.length - 2; i += 13) garbled[i] ^= 0xa5;
  cases.push(['garbled.jpg', garbled, /corrupt or truncated JPEG/]);
  for (const [name, data, pattern] of cases) {
    try {
      decodeImage(data, name);
      assert.unreachable(`${name} decoded`);
    } catch (err) {
      assert.instance(err, ImageDecodeError, name);
      assert.match((err as Error).message, `${name}: cannot decode image`);
      assert.match((err as Error).message, pattern);
    }
  }
});

s('encodeJpeg output decodes close to the source (baseline JFIF, quality 90)', () => {
  const w = 37, h = 29, rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    rgba.set([x * 6, y * 8, 128 + ((x + y) % 2) * 10, 255], i);
  }
  const img = decodeImage(encodeJpeg(rgba, w, h, 90));
  assert.equal([img.width, img.height], [w, h]);
  let sum = 0, max = 0;
  for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) {
    const d = Math.abs(img.data[p * 3 + c] - rgba[p * 4 + c]);
    sum += d;
    max = Math.max(max, d);
  }
  assert.ok(sum / (w * h * 3) < 2 && max < 16, `mean ${sum / (w * h * 3)}, max ${max}`);
});

s.run();
