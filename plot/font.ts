// A 5x8 bitmap font for ASCII 32..126 (the classic "glcdfont" layout: five column bytes per glyph,
// bit 0 = top row, rows 0..6 hold capitals and digits, row 7 holds descenders). A bitmap font keeps
// the rasteriser free of font files and platform text APIs, so charts render identically in Node
// and the browser. Text is drawn at an integer scale; scale 2 reads comfortably in a PNG at 100%.

/** Glyph cell: 5 columns of ink plus 1 column of spacing; 7 rows above the baseline, 1 below. */
export const GLYPH_W = 5;
export const ADVANCE = 6;
export const CAP_H = 7;
export const CELL_H = 8;
export const FIRST_CHAR = 32;

// prettier-ignore
const HEX =
  '0000000000 00005F0000 0007000700 147F147F14 242A7F2A12 2313086462 3649562050 0000070300' + // sp ! " # $ % & '
  '001C224100 0041221C00 2A1C7F1C2A 08083E0808 0080703000 0808080808 0000606000 2010080402' + // ( ) * + , - . /
  '3E5149453E 00427F4000 7249494946 2141494D33 1814127F10 2745454539 3C4A494931 4121110907' + // 0-7
  '3649494936 464949291E 0000360000 0040340000 0008142241 1414141414 0041221408 0201590906' + // 8 9 : ; < = > ?
  '3E415D594E 7C1211127C 7F49494936 3E41414122 7F4141413E 7F49494941 7F09090901 3E41415173' + // @ A-G
  '7F0808087F 00417F4100 2040413F01 7F08142241 7F40404040 7F021C027F 7F0408107F 3E4141413E' + // H-O
  '7F09090906 3E4151215E 7F09192946 2649494932 03017F0103 3F4040403F 1F2040201F 3F4038403F' + // P-W
  '6314081463 0304780403 6159494D43 007F414141 0204081020 004141417F 0402010204 4040404040' + // X Y Z [ \ ] ^ _
  '0003070800 2054547840 7F28444438 3844444444 384444287F 3854545418 00087E0902 18A4A49C78' + // ` a-g
  '7F08040478 00447D4000 4080847D00 7F10284400 00417F4000 7C04780478 7C08040478 3844444438' + // h-o
  'FC18242418 18242418FC 7C08040408 4854545424 04043F4424 3C4040207C 1C2040201C 3C4030403C' + // p-w
  '4428102844 4C9090907C 4464544C44 0008364100 00007F0000 0041360800 0201020402';            // x y z { | } ~

const GLYPHS: Uint8Array = (() => {
  const cols = HEX.replace(/\s+/g, '');
  const out = new Uint8Array(cols.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cols.slice(2 * i, 2 * i + 2), 16);
  return out;
})();

const GLYPH_COUNT = GLYPHS.length / GLYPH_W;

/**
 * The five column bitmasks of a character. Anything outside 32..126 draws as '?' so that a stray
 * unicode character (an em dash, a micro sign) is visible as a defect rather than silently dropped.
 */
export function glyphColumns(ch: string): Uint8Array {
  let i = ch.charCodeAt(0) - FIRST_CHAR;
  if (!(i >= 0 && i < GLYPH_COUNT)) i = '?'.charCodeAt(0) - FIRST_CHAR;
  return GLYPHS.subarray(i * GLYPH_W, (i + 1) * GLYPH_W);
}

export interface TextMetrics {
  /** Pixel width of the ink, without the trailing spacing column. */
  width: number;
  /** Pixel height of the full cell including the descender row. */
  height: number;
  /** Pixel height above the baseline (capitals and digits). */
  ascent: number;
}

export function measureText(text: string, scale = 2, bold = false): TextMetrics {
  const n = text.length;
  const width = n === 0 ? 0 : (n * ADVANCE - 1) * scale + (bold ? 1 : 0);
  return { width, height: CELL_H * scale, ascent: CAP_H * scale };
}

/**
 * Greedy word wrap into at most `maxLines` lines no wider than `maxWidth`. Breaks after spaces,
 * underscores, slashes and hyphens because kernel names look like `conv2d_3x3/s2-nhwc`. A word that
 * fits nowhere, or text left over after the last line, ends in '..' so truncation is visible.
 */
export function wrapText(text: string, maxWidth: number, maxLines: number, scale = 2): string[] {
  const maxChars = Math.max(1, Math.floor((maxWidth / scale + 1) / ADVANCE));
  if (text.length <= maxChars) return [text];
  const pieces = text.match(/[^ _/-]*[ _/-]?/g)?.filter((p) => p.length > 0) ?? [text];
  const lines: string[] = [];
  let cur = '';
  for (const piece of pieces) {
    if ((cur + piece).trimEnd().length <= maxChars) cur += piece;
    else {
      if (cur) lines.push(cur.trimEnd());
      cur = piece;
    }
  }
  if (cur) lines.push(cur.trimEnd());
  const out = lines.map((l) => (l.length > maxChars ? truncate(l, maxChars) : l));
  if (out.length > maxLines) {
    const rest = out.slice(maxLines - 1).join(' ');
    out.length = maxLines - 1;
    out.push(truncate(rest, maxChars));
  }
  return out;
}

function truncate(s: string, maxChars: number): string {
  if (s.length <= maxChars) return s;
  return maxChars <= 2 ? s.slice(0, maxChars) : s.slice(0, maxChars - 2) + '..';
}
