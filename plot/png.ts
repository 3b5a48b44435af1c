// PNG encoding of a Canvas. pngjs is taken from its self-contained browser build (as in
// src/vision/decode.ts) so a page can build a chart and offer the PNG for download too; in Node the
// same build works and needs no zlib binding.
import pngjs from 'pngjs/browser.js';
import type { Canvas } from './canvas.ts';

export function encodePng(canvas: Canvas): Uint8Array {
  const out = pngjs.PNG.sync.write({ width: canvas.width, height: canvas.height, data: canvas.data } as Parameters<
    typeof pngjs.PNG.sync.write
  >[0]);
  // A plain view: callers should not depend on whichever Buffer implementation pngjs carried.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
