// 3x3 homographies as row-major 9-number arrays, mapping plate pixels to frame pixels
// (pixel centres at integer coordinates, as OpenCV's warpPerspective uses them).
// Small pure helpers: applying, composing, rescaling, and measuring how far two warps disagree.
import { solveLinear } from './linear.js';

export type Homography = readonly [number, number, number, number, number, number, number, number, number];

export const IDENTITY: Homography = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function apply(h: Homography, x: number, y: number): [number, number] {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
}

/** a after b: x -> a(b(x)). */
export function compose(a: Homography, b: Homography): Homography {
  const out: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out.push(a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!);
  }
  return normalise(out);
}

export function invert(h: Homography): Homography {
  const [a, b, c, d, e, f, g, i, j] = h;
  const A = e * j - f * i;
  const B = -(d * j - f * g);
  const C = d * i - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) throw new Error('homography is singular');
  const inv = [A, -(b * j - c * i), b * f - c * e, B, a * j - c * g, -(a * f - c * d), C, -(a * i - b * g), a * e - b * d].map((v) => v / det);
  return normalise(inv);
}

function normalise(m: readonly number[]): Homography {
  const s = m[8]!;
  if (Math.abs(s) < 1e-12) throw new Error('homography with h33 = 0');
  return m.map((v) => v / s) as unknown as Homography;
}

export function fromArray(values: ArrayLike<number>): Homography {
  if (values.length !== 9) throw new Error(`a homography has 9 entries, got ${values.length}`);
  return normalise(Array.from(values));
}

/**
 * A homography estimated on images resized by `s` (an area resize maps pixel centre x to
 * s * (x + 0.5) - 0.5), expressed for the full-size images: S^-1 * H * S.
 */
export function rescale(h: Homography, s: number): Homography {
  const t = 0.5 * (s - 1);
  const S: Homography = [s, 0, t, 0, s, t, 0, 0, 1];
  const Sinv: Homography = [1 / s, 0, -t / s, 0, 1 / s, -t / s, 0, 0, 1];
  return compose(Sinv, compose(h, S));
}

/** The four corners and the centre of a width x height image, where warps are compared. */
function checkpoints(width: number, height: number): [number, number][] {
  const r = width - 1;
  const b = height - 1;
  return [
    [0, 0],
    [r, 0],
    [r, b],
    [0, b],
    [r / 2, b / 2],
  ];
}

/** Largest distance, in pixels, between where a and b send the image's corners and centre. */
export function maxDisplacement(a: Homography, b: Homography, width: number, height: number): number {
  let worst = 0;
  for (const [x, y] of checkpoints(width, height)) {
    const [ax, ay] = apply(a, x, y);
    const [bx, by] = apply(b, x, y);
    worst = Math.max(worst, Math.hypot(ax - bx, ay - by));
  }
  return worst;
}

/** Mean distance the corners move under h: the "shift" reported to users. */
export function meanCornerShift(h: Homography, width: number, height: number): number {
  const corners = checkpoints(width, height).slice(0, 4);
  let sum = 0;
  for (const [x, y] of corners) {
    const [px, py] = apply(h, x, y);
    sum += Math.hypot(px - x, py - y);
  }
  return sum / corners.length;
}

/**
 * A warp a camera can plausibly produce between plate and frame: corners stay in order (no
 * fold), the area changes by less than `maxAreaRatio`, and no corner lands absurdly far away.
 */
export function isPlausible(h: Homography, width: number, height: number, maxAreaRatio = 2): boolean {
  if (!h.every(Number.isFinite)) return false;
  const pts = checkpoints(width, height)
    .slice(0, 4)
    .map(([x, y]) => {
      const w = h[6] * x + h[7] * y + h[8];
      return w > 0 ? apply(h, x, y) : undefined;
    });
  if (pts.some((p) => p === undefined)) return false;
  const q = pts as [number, number][];
  // Signed area and convexity: every turn goes the same way as in the source rectangle.
  let area = 0;
  for (let i = 0; i < 4; i++) {
    const [x0, y0] = q[i]!;
    const [x1, y1] = q[(i + 1) % 4]!;
    const [x2, y2] = q[(i + 2) % 4]!;
    if ((x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1) <= 0) return false;
    area += x0 * y1 - x1 * y0;
  }
  const ratio = area / 2 / ((width - 1) * (height - 1));
  if (!(ratio > 1 / maxAreaRatio && ratio < maxAreaRatio)) return false;
  const diagonal = Math.hypot(width, height);
  return q.every(([x, y], i) => {
    const [cx, cy] = checkpoints(width, height)[i]!;
    return Math.hypot(x - cx, y - cy) < 0.5 * diagonal;
  });
}

/**
 * Fraction of the frame (width x height) that the warped plate does not cover: the quadrilateral
 * h(plate rectangle) clipped to the frame, by polygon clipping rather than counting pixels.
 */
export function uncoveredFraction(h: Homography, width: number, height: number): number {
  let poly: [number, number][] = [
    [-0.5, -0.5],
    [width - 0.5, -0.5],
    [width - 0.5, height - 0.5],
    [-0.5, height - 0.5],
  ].map(([x, y]) => apply(h, x!, y!));
  const edges: [(p: [number, number]) => number][] = [[(p) => p[0] + 0.5], [(p) => width - 0.5 - p[0]], [(p) => p[1] + 0.5], [(p) => height - 0.5 - p[1]]];
  for (const [inside] of edges) {
    const out: [number, number][] = [];
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i]!;
      const b = poly[(i + 1) % poly.length]!;
      const da = inside(a);
      const db = inside(b);
      if (da >= 0) out.push(a);
      if (da >= 0 !== db >= 0) {
        const t = da / (da - db);
        out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
      }
    }
    poly = out;
    if (poly.length === 0) return 1;
  }
  let area = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x0, y0] = poly[i]!;
    const [x1, y1] = poly[(i + 1) % poly.length]!;
    area += x0 * y1 - x1 * y0;
  }
  return Math.min(1, Math.max(0, 1 - Math.abs(area) / 2 / (width * height)));
}

/** The homography taking four points to four others (none three collinear); undefined when degenerate. */
export function fromCorrespondences(from: readonly (readonly [number, number])[], to: readonly (readonly [number, number])[]): Homography | undefined {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push(x, y, 1, 0, 0, 0, -u * x, -u * y);
    b.push(u);
    a.push(0, 0, 0, x, y, 1, -v * x, -v * y);
    b.push(v);
  }
  const h = solveLinear(a, b, 8);
  return h ? fromArray([...h, 1]) : undefined;
}

/** The corners of a width x height image (pixel centres), clockwise from the top left. */
export function imageCorners(width: number, height: number): [number, number][] {
  return checkpoints(width, height).slice(0, 4);
}
