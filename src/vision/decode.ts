// JPEG/PNG bytes -> RgbImage. Browser-safe: jpeg-js is pure JS and pngjs is taken from its
// self-contained browser build (the package's main entry needs Node's zlib and streams).
import jpeg from 'jpeg-js';
import pngjs from 'pngjs/browser.js';
import type { RgbImage } from './image.ts';

export class ImageDecodeError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: cannot decode image (${detail})`);
    this.name = 'ImageDecodeError';
  }
}

export type ImageFormat = 'jpeg' | 'png';

export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && sig.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/**
 * Decode JPEG or PNG (chosen by magic bytes, not by name) to 8-bit RGB. Grayscale is replicated to
 * three channels and alpha is dropped (not composited), as PIL's convert('RGB') does.
 * `file` only labels errors.
 */
export function decodeImage(bytes: Uint8Array, file = '<bytes>'): RgbImage {
  const format = sniffFormat(bytes);
  if (format === 'jpeg') return decodeJpeg(bytes, file);
  if (format === 'png') return decodePng(bytes, file);
  throw new ImageDecodeError(file, bytes.length === 0 ? 'empty file' : 'not a JPEG or PNG (unknown signature)');
}

export function decodeJpeg(bytes: Uint8Array, file = '<bytes>'): RgbImage {
  // jpeg-js turns a header without a scan into a uniform grey image: refuse it here.
  if (!hasScan(bytes)) throw new ImageDecodeError(file, 'corrupt or truncated JPEG: no image data after the header');
  let img: { width: number; height: number; data: Uint8Array };
  try {
    // tolerantDecoding off: a damaged scan must fail loudly rather than yield a partly grey face.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: 64 });
  } catch (err) {
    // jpeg-js's own errors are plain Errors with a readable reason; a TypeError or RangeError is
    // its internals tripping over missing tables, whose message would mean nothing to a user.
    const detail = err instanceof TypeError || err instanceof RangeError ? 'damaged header (missing or invalid tables)' : (err as Error).message;
    throw new ImageDecodeError(file, `corrupt or truncated JPEG: ${detail}`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
    throw new ImageDecodeError(file, 'corrupt JPEG: no image data');
  }
  return { width: img.width, height: img.height, data: img.data };
}

/** Walks the marker segments up to the first start-of-scan; true when one is found with data after it. */
function hasScan(bytes: Uint8Array): boolean {
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return true; // not a segment boundary: let the decoder give its reason
    const marker = bytes[i + 1];
    if (marker === 0xff) { i++; continue; } // fill byte
    if (marker === 0xd9) return false; // end of image before any scan
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker === 0xda) return i + 2 + length < bytes.length;
    i += 2 + length;
  }
  return false;
}

export function decodePng(bytes: Uint8Array, file = '<bytes>'): RgbImage {
  let png: { width: number; height: number; data: Uint8Array };
  try {
    // pngjs always hands back 8-bit RGBA (grey, palette and 16-bit are expanded for us).
    png = pngjs.PNG.sync.read(asPngjsInput(bytes) as Parameters<typeof pngjs.PNG.sync.read>[0]);
  } catch (err) {
    throw new ImageDecodeError(file, `corrupt or truncated PNG: ${(err as Error).message}`);
  }
  const { width, height } = png;
  const n = width * height;
  if (png.data.length < 4 * n) throw new ImageDecodeError(file, 'corrupt PNG: short pixel data');
  const out = new Uint8Array(3 * n);
  const src = png.data;
  for (let p = 0, s = 0, d = 0; p < n; p++, s += 4, d += 3) {
    out[d] = src[s];
    out[d + 1] = src[s + 1];
    out[d + 2] = src[s + 2];
  }
  return { width, height, data: out };
}

/**
 * pngjs reads chunk headers with Buffer's readUInt32BE & co. Node Buffers have them; a plain
 * Uint8Array (browser, fetch) gets a subclass with the four readers pngjs calls. slice() on a typed
 * array subclass returns the subclass, so the readers survive pngjs's own slicing.
 */
class BigEndianBytes extends Uint8Array {
  readUInt8(o: number): number {
    return this[o];
  }
  readUInt16BE(o: number): number {
    return (this[o] << 8) | this[o + 1];
  }
  readInt32BE(o: number): number {
    return (this[o] << 24) | (this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3];
  }
  readUInt32BE(o: number): number {
    return this.readInt32BE(o) >>> 0;
  }
}

function asPngjsInput(bytes: Uint8Array): Uint8Array {
  if (typeof (bytes as { readUInt32BE?: unknown }).readUInt32BE === 'function') return bytes;
  const copy = new BigEndianBytes(bytes.length);
  copy.set(bytes);
  return copy;
}
