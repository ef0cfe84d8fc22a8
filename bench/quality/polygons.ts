// Polygons drawn by eye for the real-image sets (trimaps of the capture pairs, cut-outs of the
// transplant set), stored as small JSON coordinate lists: rasterised here to coverage in 0..1.
import type { FloatPlane } from '../../src/eval/filters.js';

export type Point = readonly [number, number];
export type Polygon = readonly Point[];

/** Sub-samples per pixel side: 4x4 = 16 coverage levels along an edge, enough for a drawn alpha. */
const SUB = 4;

/**
 * Area coverage of the union of `polygons` (even-odd within each, union across), per pixel of a
 * width x height image whose coordinates are `scale` times those of the polygons.
 */
export function rasterise(polygons: readonly Polygon[], width: number, height: number, scale = 1): FloatPlane {
  const out = new Float32Array(width * height);
  const hits = new Uint8Array(width * SUB);
  for (let y = 0; y < height; y++) {
    hits.fill(0);
    for (let sy = 0; sy < SUB; sy++) {
      const py = (y + (sy + 0.5) / SUB) / scale;
      for (const poly of polygons) {
        // Crossings of the scan line with the polygon's edges, sorted: inside between pairs.
        const xs: number[] = [];
        for (let i = 0; i < poly.length; i++) {
          const [x0, y0] = poly[i]!;
          const [x1, y1] = poly[(i + 1) % poly.length]!;
          if ((y0 <= py && py < y1) || (y1 <= py && py < y0)) xs.push((x0 + ((py - y0) / (y1 - y0)) * (x1 - x0)) * scale);
        }
        xs.sort((a, b) => a - b);
        for (let k = 0; k + 1 < xs.length; k += 2) {
          const from = Math.max(0, Math.ceil(xs[k]! * SUB - 0.5));
          const to = Math.min(width * SUB - 1, Math.floor(xs[k + 1]! * SUB - 0.5));
          for (let s = from; s <= to; s++) hits[s] = hits[s]! | (1 << sy);
        }
      }
    }
    for (let x = 0; x < width; x++) {
      let n = 0;
      for (let s = 0; s < SUB; s++) {
        let m = hits[x * SUB + s]!;
        while (m) {
          n += m & 1;
          m >>= 1;
        }
      }
      out[y * width + x] = n / (SUB * SUB);
    }
  }
  return { data: out, width, height };
}

/** Checks a JSON value is a list of at least three [x, y] number pairs. */
export function parsePolygon(value: unknown, where: string): Polygon {
  if (!Array.isArray(value) || value.length < 3) throw new Error(`${where}: a polygon needs at least three [x, y] points`);
  return value.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && Number.isFinite(c))) {
      throw new Error(`${where}: point ${i} is not [x, y]`);
    }
    return [p[0] as number, p[1] as number] as const;
  });
}
