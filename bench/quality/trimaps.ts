// Trimaps of the real capture pairs, drawn by eye (bench/quality/data/capture-trimaps.json):
// inside `interior` the pixel is surely subject, outside `outer` surely background, between them
// an unknown band that is not scored. Without ground truth this is what a matte can be judged by:
// holes (interior alpha < 0.5) and leaks (exterior alpha > 0.5), and the mean alpha of each region.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plane } from '../../src/engine/frame.js';
import { parsePolygon, rasterise, type Polygon } from './polygons.js';

export interface Trimap {
  readonly interior: readonly Polygon[];
  readonly outer: readonly Polygon[];
}

export interface TrimapSpec {
  /** The size of the frames the polygons were drawn on; a frame of another size is not scored. */
  readonly size: readonly [number, number];
  /** Per capture-pair name (as the bench names pairs, e.g. "capture-pairs/0001"). */
  readonly pairs: Readonly<Record<string, Trimap>>;
}

/** Per frame and model, against a drawn trimap (alpha in 0..1). */
export interface TrimapScores {
  /** Share of interior pixels with alpha < 0.5. */
  readonly holes: number;
  readonly interiorMean: number;
  /** Share of exterior pixels with alpha > 0.5. */
  readonly leaks: number;
  readonly exteriorMean: number;
}

export const defaultTrimapsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'capture-trimaps.json');

export async function loadTrimapSpec(file: string): Promise<TrimapSpec> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as { size?: unknown; pairs?: Record<string, { interior?: unknown; outer?: unknown }> };
  const where = path.basename(file);
  if (!Array.isArray(raw.size) || raw.size.length !== 2 || typeof raw.pairs !== 'object') throw new Error(`${where}: needs "size": [w, h] and "pairs"`);
  const polys = (v: unknown, at: string) => {
    if (!Array.isArray(v) || v.length === 0) throw new Error(`${at}: needs a list of polygons`);
    return v.map((p, i) => parsePolygon(p, `${at} polygon ${i}`));
  };
  const pairs: Record<string, Trimap> = {};
  for (const [name, t] of Object.entries(raw.pairs)) pairs[name] = { interior: polys(t.interior, `${where}: ${name} interior`), outer: polys(t.outer, `${where}: ${name} outer`) };
  return { size: [Number(raw.size[0]), Number(raw.size[1])], pairs };
}

/** Region masks of a trimap at the frame's size: 1 = interior, 2 = exterior, 0 = unknown band. */
export function trimapRegions(t: Trimap, width: number, height: number): Uint8Array {
  const inner = rasterise(t.interior, width, height).data;
  const outer = rasterise(t.outer, width, height).data;
  const regions = new Uint8Array(width * height);
  // Only pixels wholly inside the interior, or wholly outside the outline, are scored.
  for (let i = 0; i < regions.length; i++) regions[i] = inner[i] === 1 ? 1 : outer[i] === 0 ? 2 : 0;
  return regions;
}

export function trimapScores(alpha: Plane, regions: Uint8Array): TrimapScores {
  let nIn = 0;
  let nOut = 0;
  let holes = 0;
  let leaks = 0;
  let sumIn = 0;
  let sumOut = 0;
  for (let i = 0; i < regions.length; i++) {
    const a = alpha.data[i]!;
    if (regions[i] === 1) {
      nIn++;
      sumIn += a;
      if (a < 128) holes++;
    } else if (regions[i] === 2) {
      nOut++;
      sumOut += a;
      if (a > 128) leaks++;
    }
  }
  return { holes: holes / Math.max(1, nIn), interiorMean: sumIn / 255 / Math.max(1, nIn), leaks: leaks / Math.max(1, nOut), exteriorMean: sumOut / 255 / Math.max(1, nOut) };
}

/** A plane showing the trimap: interior white, unknown grey, exterior black (for contact sheets). */
export function trimapPlane(regions: Uint8Array, width: number, height: number): Plane {
  return { data: Uint8Array.from(regions, (r) => (r === 1 ? 255 : r === 2 ? 0 : 128)), width, height };
}
