// Baseline JPEG encoder (JFIF, YCbCr 4:4:4, the standard Annex K tables, IJG quality scaling).
// Used for the synthetic set instead of jpeg-js's encoder, which rebuilds ~65k small lookup arrays
// on every call: that allocation made it ~10x slower than rendering the face itself.
// Browser-safe; output decodes with jpeg-js, libjpeg (PIL) and browsers.

const NATURAL_ORDER = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
];
const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_Q = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99,
  99, 99, 99, ...new Array<number>(32).fill(99),
];
const DC_LUMA = { bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const DC_CHROMA = { bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const AC_LUMA = {
  bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  values: [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
    0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09,
    0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
    0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65,
    0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
    0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
    0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
  ],
};
const AC_CHROMA = {
  bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  values: [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
    0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16,
    0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86,
    0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
    0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
    0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
  ],
};

interface HuffmanTable { bits: number[]; values: number[] }
interface Codes { code: Int32Array; size: Int32Array }

function huffmanCodes(t: HuffmanTable): Codes {
  const code = new Int32Array(256), size = new Int32Array(256);
  let c = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < t.bits[len - 1]; i++, k++) {
      code[t.values[k]] = c++;
      size[t.values[k]] = len;
    }
    c <<= 1;
  }
  return { code, size };
}

const CODES = [DC_LUMA, AC_LUMA, DC_CHROMA, AC_CHROMA].map(huffmanCodes);

// Arai-Agui-Nakajima float DCT (as IJG's jfdctflt.c): its outputs carry a per-frequency scale that
// is folded into the quantisation divisors.
const AAN_SCALE = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

function scaledTable(base: number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const sf = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return Int32Array.from(base, (v) => Math.min(255, Math.max(1, Math.floor((v * sf + 50) / 100))));
}

/** Reciprocal divisors in natural order for the AAN-scaled coefficients. */
function divisors(table: Int32Array): Float64Array {
  return Float64Array.from(table, (q, n) => 1 / (q * AAN_SCALE[n >> 3] * AAN_SCALE[n & 7] * 8));
}

class ByteSink {
  buf = new Uint8Array(1 << 15);
  len = 0;
  private acc = 0;
  private nbits = 0;
  byte(b: number): void {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  word(w: number): void {
    this.byte(w >> 8);
    this.byte(w & 0xff);
  }
  /** Entropy-coded bits, most significant first, with 0xFF byte stuffing. */
  bits(value: number, count: number): void {
    this.acc = (this.acc << count) | (value & ((1 << count) - 1));
    this.nbits += count;
    while (this.nbits >= 8) {
      const b = (this.acc >> (this.nbits - 8)) & 0xff;
      this.byte(b);
      if (b === 0xff) this.byte(0);
      this.nbits -= 8;
    }
    this.acc &= (1 << this.nbits) - 1;
  }
  flushBits(): void {
    if (this.nbits > 0) this.bits(0x7f, 8 - this.nbits);
  }
}

/** Encode RGBA (alpha ignored) or RGB pixels to a baseline JPEG. */
export function encodeJpeg(pixels: Uint8Array, width: number, height: number, quality = 90, channels: 3 | 4 = 4): Uint8Array {
  const qt = [scaledTable(LUMA_Q, quality), scaledTable(CHROMA_Q, quality)];
  const out = new ByteSink();
  out.word(0xffd8);
  out.word(0xffe0); out.word(16);
  for (const b of [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]) out.byte(b);
  out.word(0xffdb); out.word(2 + 2 * 65);
  qt.forEach((t, id) => {
    out.byte(id);
    for (let k = 0; k < 64; k++) out.byte(t[NATURAL_ORDER[k]]);
  });
  out.word(0xffc0); out.word(17); out.byte(8); out.word(height); out.word(width); out.byte(3);
  for (let c = 0; c < 3; c++) { out.byte(c + 1); out.byte(0x11); out.byte(c === 0 ? 0 : 1); }
  const tables: [number, HuffmanTable][] = [[0x00, DC_LUMA], [0x10, AC_LUMA], [0x01, DC_CHROMA], [0x11, AC_CHROMA]];
  out.word(0xffc4); out.word(2 + tables.reduce((n, [, t]) => n + 17 + t.values.length, 0));
  for (const [id, t] of tables) {
    out.byte(id);
    t.bits.forEach((b) => out.byte(b));
    t.values.forEach((v) => out.byte(v));
  }
  out.word(0xffda); out.word(12); out.byte(3);
  for (let c = 0; c < 3; c++) { out.byte(c + 1); out.byte(c === 0 ? 0x00 : 0x11); }
  out.byte(0); out.byte(63); out.byte(0);

  // Level-shifted YCbCr planes padded to whole blocks by edge replication.
  const pw = (width + 7) & ~7, ph = (height + 7) & ~7;
  const planes = [new Float64Array(pw * ph), new Float64Array(pw * ph), new Float64Array(pw * ph)];
  for (let y = 0; y < ph; y++) {
    const sy = Math.min(y, height - 1);
    for (let x = 0; x < pw; x++) {
      const i = (sy * width + Math.min(x, width - 1)) * channels, o = y * pw + x;
      const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
      planes[0][o] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
      planes[1][o] = -0.168736 * r - 0.331264 * g + 0.5 * b;
      planes[2][o] = 0.5 * r - 0.418688 * g - 0.081312 * b;
    }
  }
  const div = qt.map(divisors);
  const block = new Float64Array(64);
  const coef = new Int32Array(64);
  const prevDc = [0, 0, 0];
  for (let by = 0; by < ph; by += 8) {
    for (let bx = 0; bx < pw; bx += 8) {
      for (let c = 0; c < 3; c++) {
        const plane = planes[c];
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * pw + bx + x];
        forwardDct(block, div[c === 0 ? 0 : 1], coef);
        prevDc[c] = encodeBlock(out, coef, prevDc[c], CODES[c === 0 ? 0 : 2], CODES[c === 0 ? 1 : 3]);
      }
    }
  }
  out.flushBits();
  out.word(0xffd9);
  return out.buf.slice(0, out.len);
}

/** In-place 8-point AAN DCT on d[o], d[o+step], ..., d[o+7*step]. */
function dct8(d: Float64Array, o: number, step: number): void {
  const d0 = d[o], d1 = d[o + step], d2 = d[o + 2 * step], d3 = d[o + 3 * step];
  const d4 = d[o + 4 * step], d5 = d[o + 5 * step], d6 = d[o + 6 * step], d7 = d[o + 7 * step];
  const t0 = d0 + d7, t7 = d0 - d7, t1 = d1 + d6, t6 = d1 - d6;
  const t2 = d2 + d5, t5 = d2 - d5, t3 = d3 + d4, t4 = d3 - d4;
  const e10 = t0 + t3, e13 = t0 - t3, e11 = t1 + t2, e12 = t1 - t2;
  d[o] = e10 + e11;
  d[o + 4 * step] = e10 - e11;
  const z1 = (e12 + e13) * 0.707106781;
  d[o + 2 * step] = e13 + z1;
  d[o + 6 * step] = e13 - z1;
  const o10 = t4 + t5, o11 = t5 + t6, o12 = t6 + t7;
  const z5 = (o10 - o12) * 0.382683433;
  const z2 = 0.5411961 * o10 + z5;
  const z4 = 1.306562965 * o12 + z5;
  const z3 = o11 * 0.707106781;
  const z11 = t7 + z3, z13 = t7 - z3;
  d[o + 5 * step] = z13 + z2;
  d[o + 3 * step] = z13 - z2;
  d[o + step] = z11 + z4;
  d[o + 7 * step] = z11 - z4;
}

/** 2-D DCT (rows, then columns), quantised into zig-zag order. */
function forwardDct(block: Float64Array, div: Float64Array, coef: Int32Array): void {
  for (let r = 0; r < 8; r++) dct8(block, r * 8, 1);
  for (let c = 0; c < 8; c++) dct8(block, c, 8);
  for (let k = 0; k < 64; k++) {
    const n = NATURAL_ORDER[k];
    coef[k] = Math.round(block[n] * div[n]);
  }
}

function magnitude(v: number): [number, number] {
  const a = Math.abs(v);
  const size = a === 0 ? 0 : 32 - Math.clz32(a);
  return [size, v < 0 ? v - 1 : v];
}

function encodeBlock(out: ByteSink, coef: Int32Array, prevDc: number, dc: Codes, ac: Codes): number {
  const [dcSize, dcBits] = magnitude(coef[0] - prevDc);
  out.bits(dc.code[dcSize], dc.size[dcSize]);
  if (dcSize) out.bits(dcBits, dcSize);
  let run = 0;
  for (let k = 1; k < 64; k++) {
    if (coef[k] === 0) { run++; continue; }
    while (run > 15) { out.bits(ac.code[0xf0], ac.size[0xf0]); run -= 16; }
    const [size, bits] = magnitude(coef[k]);
    const sym = (run << 4) | size;
    out.bits(ac.code[sym], ac.size[sym]);
    out.bits(bits, size);
    run = 0;
  }
  if (run > 0) out.bits(ac.code[0], ac.size[0]);
  return coef[0];
}
