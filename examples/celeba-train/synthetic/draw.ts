// A tiny anti-aliased rasteriser for the synthetic faces: shapes are signed distance functions
// (negative inside, in pixels) with a bounding box; coverage = clamp(0.5 - d, 0, 1) gives a one-pixel
// soft edge, which keeps JPEG ringing low and the shapes stable after downscaling.

export type Rgb = readonly [number, number, number];

export interface Shape {
  d: (x: number, y: number) => number;
  box: readonly [number, number, number, number]; // x0, y0, x1, y1 (inclusive-exclusive, pixels)
}

export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 4);
  }

  /** Vertical gradient from `top` to `bottom`, opaque. */
  fillGradient(top: Rgb, bottom: Rgb): void {
    const { width, height, data } = this;
    for (let y = 0; y < height; y++) {
      const t = y / (height - 1);
      const r = top[0] + (bottom[0] - top[0]) * t, g = top[1] + (bottom[1] - top[1]) * t, b = top[2] + (bottom[2] - top[2]) * t;
      for (let x = 0, i = y * width * 4; x < width; x++, i += 4) {
        data[i] = r; data[i + 1] = g; data[i + 2] = b; data[i + 3] = 255;
      }
    }
  }

  fill(shape: Shape, color: Rgb, alpha = 1): void {
    const x0 = Math.max(0, Math.floor(shape.box[0]) - 1), y0 = Math.max(0, Math.floor(shape.box[1]) - 1);
    const x1 = Math.min(this.width, Math.ceil(shape.box[2]) + 1), y1 = Math.min(this.height, Math.ceil(shape.box[3]) + 1);
    const data = this.data;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const cov = 0.5 - shape.d(x + 0.5, y + 0.5);
        if (cov <= 0) continue;
        const a = (cov >= 1 ? 1 : cov) * alpha;
        const i = (y * this.width + x) * 4;
        data[i] += (color[0] - data[i]) * a;
        data[i + 1] += (color[1] - data[i + 1]) * a;
        data[i + 2] += (color[2] - data[i + 2]) * a;
      }
    }
  }
}

export function ellipse(cx: number, cy: number, rx: number, ry: number): Shape {
  return {
    // First-order distance: (k - 1) / |grad k| with k the normalised radius; exact on the boundary.
    d: (x, y) => {
      const u = (x - cx) / rx, v = (y - cy) / ry;
      const k = Math.sqrt(u * u + v * v);
      if (k === 0) return -Math.min(rx, ry);
      const gx = u / rx, gy = v / ry;
      return (k * (k - 1)) / Math.sqrt(gx * gx + gy * gy);
    },
    box: [cx - rx, cy - ry, cx + rx, cy + ry],
  };
}

export function circle(cx: number, cy: number, r: number): Shape {
  return { d: (x, y) => Math.hypot(x - cx, y - cy) - r, box: [cx - r, cy - r, cx + r, cy + r] };
}

/** Axis-aligned box with half sizes (hw, hh) and corner radius r. */
export function roundBox(cx: number, cy: number, hw: number, hh: number, r = 0): Shape {
  const rr = Math.min(r, hw, hh);
  return {
    d: (x, y) => {
      const qx = Math.abs(x - cx) - hw + rr, qy = Math.abs(y - cy) - hh + rr;
      return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - rr;
    },
    box: [cx - hw, cy - hh, cx + hw, cy + hh],
  };
}

/** Thick line segment with round caps (radius r). */
export function capsule(ax: number, ay: number, bx: number, by: number, r: number): Shape {
  const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy || 1;
  return {
    d: (x, y) => {
      const t = Math.min(1, Math.max(0, ((x - ax) * dx + (y - ay) * dy) / len2));
      return Math.hypot(x - ax - t * dx, y - ay - t * dy) - r;
    },
    box: [Math.min(ax, bx) - r, Math.min(ay, by) - r, Math.max(ax, bx) + r, Math.max(ay, by) + r],
  };
}

/** Thick polyline through `points` (flat list x0, y0, x1, y1, ...). */
export function stroke(points: readonly number[], r: number): Shape {
  const parts: Shape[] = [];
  for (let i = 0; i + 3 < points.length; i += 2) parts.push(capsule(points[i], points[i + 1], points[i + 2], points[i + 3], r));
  return union(...parts);
}

/** Convex polygon (clockwise or not): max of edge half-plane distances, exact inside. */
export function convexPolygon(points: readonly number[]): Shape {
  const n = points.length / 2;
  let area = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    area += points[2 * i] * points[2 * j + 1] - points[2 * j] * points[2 * i + 1];
  }
  const sign = area > 0 ? 1 : -1;
  const edges: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const ex = points[2 * j] - points[2 * i], ey = points[2 * j + 1] - points[2 * i + 1];
    const len = Math.hypot(ex, ey) || 1;
    // Outward normal for the given winding.
    edges.push((sign * ey) / len, (-sign * ex) / len, points[2 * i], points[2 * i + 1]);
  }
  const xs = points.filter((_, i) => i % 2 === 0), ys = points.filter((_, i) => i % 2 === 1);
  return {
    d: (x, y) => {
      let d = -Infinity;
      for (let e = 0; e < edges.length; e += 4) d = Math.max(d, (x - edges[e + 2]) * edges[e] + (y - edges[e + 3]) * edges[e + 1]);
      return d;
    },
    box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)],
  };
}

export function union(...shapes: Shape[]): Shape {
  return {
    d: (x, y) => {
      let d = Infinity;
      for (const s of shapes) d = Math.min(d, s.d(x, y));
      return d;
    },
    box: [
      Math.min(...shapes.map((s) => s.box[0])), Math.min(...shapes.map((s) => s.box[1])),
      Math.max(...shapes.map((s) => s.box[2])), Math.max(...shapes.map((s) => s.box[3])),
    ],
  };
}

export function intersect(a: Shape, b: Shape): Shape {
  return {
    d: (x, y) => Math.max(a.d(x, y), b.d(x, y)),
    box: [Math.max(a.box[0], b.box[0]), Math.max(a.box[1], b.box[1]), Math.min(a.box[2], b.box[2]), Math.min(a.box[3], b.box[3])],
  };
}

export function subtract(a: Shape, b: Shape): Shape {
  return { d: (x, y) => Math.max(a.d(x, y), -b.d(x, y)), box: a.box };
}

/** Ring of the given thickness along the outline of `s`. */
export function outline(s: Shape, thickness: number): Shape {
  const h = thickness / 2;
  return { d: (x, y) => Math.abs(s.d(x, y)) - h, box: [s.box[0] - h, s.box[1] - h, s.box[2] + h, s.box[3] + h] };
}

/** Half-plane y < y0 (above a horizontal line), for clipping. */
export function above(y0: number): Shape {
  return { d: (_x, y) => y - y0, box: [-1e6, -1e6, 1e6, y0] };
}

/** HSV (all in [0, 1]) to 0..255 RGB. */
export function hsv(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6, f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][(i + 6) % 6];
  return [r * 255, g * 255, b * 255];
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scaleRgb(a: Rgb, k: number): Rgb {
  return [Math.min(255, a[0] * k), Math.min(255, a[1] * k), Math.min(255, a[2] * k)];
}
