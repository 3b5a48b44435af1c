// An RGBA raster with the handful of primitives charts need. Browser-safe (no Node built-ins).
// Geometry is in float pixel coordinates where pixel (i, j) covers [i, i+1) x [j, j+1); a 2px line
// centred on an integer coordinate therefore lands exactly on two pixel rows and looks crisp,
// while anything else is anti-aliased by an analytic coverage estimate.
import { ADVANCE, CAP_H, glyphColumns, measureText } from './font.ts';

export type RGBA = [number, number, number, number];
/** '#rgb', '#rrggbb', '#rrggbbaa', or [r, g, b(, a)] with 0..255 channels. */
export type ColorLike = string | readonly number[];

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface StrokeStyle {
  color: ColorLike;
  /** Line width in pixels (default 2: 1px lines look faint next to scale-2 text). */
  width?: number;
  /** Alternating on/off lengths in pixels, e.g. [8, 5]. */
  dash?: readonly number[];
}

export type MarkerShape = 'circle' | 'square' | 'diamond' | 'triangle';
export type Align = 'left' | 'center' | 'right';
export type Baseline = 'top' | 'middle' | 'bottom';

export interface TextStyle {
  color?: ColorLike;
  scale?: number;
  align?: Align;
  /** 'bottom' puts the baseline (below capitals, above descenders) at y. */
  baseline?: Baseline;
  /** -90 reads bottom-to-top (y-axis titles), 90 reads top-to-bottom. */
  rotate?: 0 | 90 | -90;
  bold?: boolean;
}

export function parseColor(c: ColorLike): RGBA {
  if (typeof c !== 'string') return [c[0] ?? 0, c[1] ?? 0, c[2] ?? 0, c[3] ?? 255];
  let h = c.startsWith('#') ? c.slice(1) : c;
  if (h.length === 3 || h.length === 4) h = [...h].map((ch) => ch + ch).join('');
  if (!/^[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(h)) throw new Error(`bad colour '${c}'`);
  const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
  return [n(0), n(2), n(4), h.length === 8 ? n(6) : 255];
}

type Sdf = (px: number, py: number) => number;

export class Canvas {
  readonly data: Uint8Array;
  private cx0 = 0;
  private cy0 = 0;
  private cx1: number;
  private cy1: number;

  constructor(readonly width: number, readonly height: number, background: ColorLike = '#ffffff') {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new Error(`canvas size must be positive integers, got ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.cx1 = width;
    this.cy1 = height;
    this.fill(background);
  }

  fill(color: ColorLike): void {
    const [r, g, b, a] = parseColor(color);
    for (let i = 0; i < this.data.length; i += 4) {
      this.data[i] = r; this.data[i + 1] = g; this.data[i + 2] = b; this.data[i + 3] = a;
    }
  }

  /** Restricts drawing to a rectangle (null: whole canvas); charts clip data to the plot area. */
  setClip(rect: Rect | null): void {
    const r = rect ?? { x: 0, y: 0, width: this.width, height: this.height };
    this.cx0 = Math.max(0, Math.floor(r.x));
    this.cy0 = Math.max(0, Math.floor(r.y));
    this.cx1 = Math.min(this.width, Math.ceil(r.x + r.width));
    this.cy1 = Math.min(this.height, Math.ceil(r.y + r.height));
  }

  getPixel(x: number, y: number): RGBA {
    const i = (y * this.width + x) * 4;
    return [this.data[i], this.data[i + 1], this.data[i + 2], this.data[i + 3]];
  }

  /** Source-over blend of one pixel; `coverage` in 0..1 scales the colour's own alpha. */
  blend(x: number, y: number, c: RGBA, coverage = 1): void {
    if (x < this.cx0 || y < this.cy0 || x >= this.cx1 || y >= this.cy1) return;
    const a = (c[3] / 255) * Math.min(1, coverage);
    if (a <= 0) return;
    const i = (y * this.width + x) * 4;
    const d = this.data;
    d[i] = Math.round(d[i] + (c[0] - d[i]) * a);
    d[i + 1] = Math.round(d[i + 1] + (c[1] - d[i + 1]) * a);
    d[i + 2] = Math.round(d[i + 2] + (c[2] - d[i + 2]) * a);
    d[i + 3] = Math.round(d[i + 3] + (255 - d[i + 3]) * a);
  }

  /** Fills whole pixels: edges are rounded so bars and grid lines stay crisp. */
  fillRect(x: number, y: number, w: number, h: number, color: ColorLike): void {
    const c = parseColor(color);
    const x0 = Math.round(x), y0 = Math.round(y), x1 = Math.round(x + w), y1 = Math.round(y + h);
    for (let j = Math.min(y0, y1); j < Math.max(y0, y1); j++) {
      for (let i = Math.min(x0, x1); i < Math.max(x0, x1); i++) this.blend(i, j, c);
    }
  }

  /** Outline drawn inside the rectangle's edges. */
  strokeRect(x: number, y: number, w: number, h: number, color: ColorLike, lineWidth = 1): void {
    this.fillRect(x, y, w, lineWidth, color);
    this.fillRect(x, y + h - lineWidth, w, lineWidth, color);
    this.fillRect(x, y + lineWidth, lineWidth, h - 2 * lineWidth, color);
    this.fillRect(x + w - lineWidth, y + lineWidth, lineWidth, h - 2 * lineWidth, color);
  }

  line(x0: number, y0: number, x1: number, y1: number, style: StrokeStyle): void {
    this.polyline([[x0, y0], [x1, y1]], style);
  }

  /**
   * Strokes connected segments with round joins. Coverage is accumulated with max() in a mask and
   * blended once, so joints and overlapping dashes do not come out darker than the line.
   */
  polyline(points: ReadonlyArray<readonly [number, number]>, style: StrokeStyle): void {
    if (points.length === 0) return;
    const hw = (style.width ?? 2) / 2;
    const segs = style.dash && style.dash.length > 0 ? dashSegments(points, style.dash) : toSegments(points);
    let bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity;
    for (const [ax, ay, bx, by] of segs) {
      bx0 = Math.min(bx0, ax, bx); by0 = Math.min(by0, ay, by);
      bx1 = Math.max(bx1, ax, bx); by1 = Math.max(by1, ay, by);
    }
    const x0 = Math.max(this.cx0, Math.floor(bx0 - hw - 1)), y0 = Math.max(this.cy0, Math.floor(by0 - hw - 1));
    const x1 = Math.min(this.cx1, Math.ceil(bx1 + hw + 1)), y1 = Math.min(this.cy1, Math.ceil(by1 + hw + 1));
    if (x1 <= x0 || y1 <= y0) return;
    const mw = x1 - x0;
    const mask = new Float32Array(mw * (y1 - y0));
    for (const s of segs) rasterSegment(s, hw, x0, y0, x1, y1, mask, mw);
    const c = parseColor(style.color);
    for (let j = y0; j < y1; j++) {
      for (let i = x0; i < x1; i++) {
        const m = mask[(j - y0) * mw + (i - x0)];
        if (m > 0) this.blend(i, j, c, m);
      }
    }
  }

  fillCircle(cx: number, cy: number, r: number, color: ColorLike): void {
    this.fillShape(cx - r, cy - r, cx + r, cy + r, color, (px, py) => Math.hypot(px - cx, py - cy) - r);
  }

  /** Filled marker of "radius" r (half the side for squares); shapes tell series apart without colour. */
  marker(cx: number, cy: number, shape: MarkerShape, r: number, color: ColorLike): void {
    if (shape === 'circle') return this.fillCircle(cx, cy, r, color);
    let sdf: Sdf;
    if (shape === 'square') sdf = (px, py) => Math.max(Math.abs(px - cx), Math.abs(py - cy)) - r * 0.9;
    else if (shape === 'diamond') sdf = (px, py) => (Math.abs(px - cx) + Math.abs(py - cy) - r * 1.25) / Math.SQRT2;
    else {
      // Equilateral triangle pointing up, centred on its centroid.
      const s = r * 1.3;
      sdf = (px, py) => {
        const dx = px - cx, dy = py - cy;
        return Math.max(dy - s * 0.5, (Math.sqrt(3) * Math.abs(dx) - dy) / 2 - s * 0.5);
      };
    }
    const m = r * 1.5;
    this.fillShape(cx - m, cy - m, cx + m, cy + m, color, sdf);
  }

  /** Anti-aliased fill of the region where the signed distance is negative. */
  private fillShape(bx0: number, by0: number, bx1: number, by1: number, color: ColorLike, sdf: Sdf): void {
    const c = parseColor(color);
    for (let j = Math.floor(by0 - 1); j <= Math.ceil(by1); j++) {
      for (let i = Math.floor(bx0 - 1); i <= Math.ceil(bx1); i++) {
        const cov = 0.5 - sdf(i + 0.5, j + 0.5);
        if (cov > 0) this.blend(i, j, c, cov);
      }
    }
  }

  /** Draws text with the bitmap font and returns its axis-aligned bounding box. */
  text(str: string, x: number, y: number, style: TextStyle = {}): Rect {
    const scale = style.scale ?? 2;
    const bold = style.bold ?? false;
    const rot = style.rotate ?? 0;
    const c = parseColor(style.color ?? '#222222');
    const w = measureText(str, scale, bold).width;
    const along = style.align === 'center' ? -Math.round(w / 2) : style.align === 'right' ? -w : 0;
    const base = style.baseline ?? 'top';
    const across = base === 'middle' ? -Math.round((CAP_H * scale) / 2) : base === 'bottom' ? -CAP_H * scale : 0;
    x = Math.round(x); y = Math.round(y);
    // Local (u along the text, v down the glyph) -> canvas; one call per ink pixel block.
    const put = (u: number, v: number, su: number, sv: number): void => {
      if (rot === 0) this.fillRectRaw(x + u, y + v, su, sv, c);
      else if (rot === -90) this.fillRectRaw(x + v, y - u - su, sv, su, c);
      else this.fillRectRaw(x - v - sv, y + u, sv, su, c);
    };
    for (let k = 0; k < str.length; k++) {
      const cols = glyphColumns(str[k]);
      for (let col = 0; col < cols.length; col++) {
        for (let row = 0; row < 8; row++) {
          if ((cols[col] >> row) & 1) {
            put(along + (k * ADVANCE + col) * scale, across + row * scale, scale + (bold ? 1 : 0), scale);
          }
        }
      }
    }
    const h = 8 * scale;
    if (rot === 0) return { x: x + along, y: y + across, width: w, height: h };
    if (rot === -90) return { x: x + across, y: y - along - w, width: h, height: w };
    return { x: x - across - h, y: y + along, width: h, height: w };
  }

  private fillRectRaw(x: number, y: number, w: number, h: number, c: RGBA): void {
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.blend(i, j, c);
  }
}

type Seg = [number, number, number, number];

function toSegments(points: ReadonlyArray<readonly [number, number]>): Seg[] {
  if (points.length === 1) return [[points[0][0], points[0][1], points[0][0], points[0][1]]];
  const out: Seg[] = [];
  for (let i = 1; i < points.length; i++) out.push([points[i - 1][0], points[i - 1][1], points[i][0], points[i][1]]);
  return out;
}

/** The dash pattern continues across vertices so dashes keep their rhythm around corners. */
function dashSegments(points: ReadonlyArray<readonly [number, number]>, dash: readonly number[]): Seg[] {
  const out: Seg[] = [];
  let k = 0, left = dash[0], on = true;
  for (const [ax, ay, bx, by] of toSegments(points)) {
    const len = Math.hypot(bx - ax, by - ay);
    let t = 0;
    while (t < len) {
      const step = Math.min(left, len - t);
      if (on) {
        const f0 = t / len, f1 = (t + step) / len;
        out.push([ax + (bx - ax) * f0, ay + (by - ay) * f0, ax + (bx - ax) * f1, ay + (by - ay) * f1]);
      }
      t += step; left -= step;
      if (left <= 1e-9) { k = (k + 1) % dash.length; left = dash[k]; on = !on; }
    }
  }
  return out;
}

/** Max-accumulates the coverage of a round-capped thick segment, visiting only its row spans. */
function rasterSegment(s: Seg, hw: number, x0: number, y0: number, x1: number, y1: number, mask: Float32Array, mw: number): void {
  const [ax, ay, bx, by] = s;
  const R = hw + 0.5; // coverage reaches zero half a pixel outside the geometric edge
  const dx = bx - ax, dy = by - ay, L2 = dx * dx + dy * dy, L = Math.sqrt(L2);
  const jy0 = Math.max(y0, Math.floor(Math.min(ay, by) - R)), jy1 = Math.min(y1, Math.ceil(Math.max(ay, by) + R));
  for (let j = jy0; j < jy1; j++) {
    const py = j + 0.5;
    let lo = Infinity, hi = -Infinity;
    for (const [cx, cy] of [[ax, ay], [bx, by]]) {
      const h = R * R - (py - cy) ** 2;
      if (h >= 0) { lo = Math.min(lo, cx - Math.sqrt(h)); hi = Math.max(hi, cx + Math.sqrt(h)); }
    }
    if (L > 0) {
      // The body between the caps is a parallelogram; intersect its two slabs with this row.
      const ry = py - ay;
      let [l, h] = slab(dx, -ry * dy, L2 - ry * dy);
      const [l2, h2] = slab(dy, ry * dx - R * L, ry * dx + R * L);
      l = Math.max(l, l2); h = Math.min(h, h2);
      if (l <= h) { lo = Math.min(lo, ax + l); hi = Math.max(hi, ax + h); }
    }
    if (lo > hi) continue;
    const i0 = Math.max(x0, Math.floor(lo - 0.5)), i1 = Math.min(x1 - 1, Math.ceil(hi - 0.5));
    for (let i = i0; i <= i1; i++) {
      const px = i + 0.5;
      let t = L2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / L2 : 0;
      t = Math.max(0, Math.min(1, t));
      const d = Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
      const cov = Math.min(1, R - d);
      const k = (j - y0) * mw + (i - x0);
      if (cov > mask[k]) mask[k] = cov;
    }
  }
}

/** Solves lo <= k * u <= hi for u (u = x - ax); k = 0 means the row is wholly in or out. */
function slab(k: number, lo: number, hi: number): [number, number] {
  if (Math.abs(k) < 1e-12) return lo <= 0 && 0 <= hi ? [-Infinity, Infinity] : [Infinity, -Infinity];
  const a = lo / k, b = hi / k;
  return a < b ? [a, b] : [b, a];
}
