// The transplant set: real textures with an exact ground truth. A region of a real clean plate
// (a chimney, a tree, a roof unit) is cut out with an alpha drawn by eye (bench/quality/data/
// transplants.json), moved elsewhere on the same plate and composited over it; the models matte
// that against the untouched plate. The cut-outs are not people, so a person model has no say.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gaussianBlur } from '../../src/eval/filters.js';
import type { GroundTruthImage } from './datasets.js';
import { loadBackground } from './datasets.js';
import { parsePolygon, rasterise, type Polygon } from './polygons.js';

export interface TransplantItem {
  readonly name: string;
  readonly what: string;
  readonly polygon: Polygon;
  /** Gaussian sigma (pixels of the drawing) that softens the drawn outline. */
  readonly feather: number;
  /** Where the cut-out goes: [dx, dy] in pixels of the drawing. */
  readonly offset: readonly [number, number];
}

export interface TransplantSpec {
  /** The plate, relative to the shared data folder. */
  readonly plate: string;
  /** The size of the image the coordinates were drawn on. */
  readonly size: readonly [number, number];
  readonly items: readonly TransplantItem[];
}

export const defaultTransplantsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'transplants.json');

export async function loadTransplantSpec(file: string): Promise<TransplantSpec> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const where = path.basename(file);
  const size = raw.size;
  if (typeof raw.plate !== 'string' || !Array.isArray(size) || size.length !== 2 || !Array.isArray(raw.items)) {
    throw new Error(`${where}: needs "plate", "size": [w, h] and "items"`);
  }
  const items = (raw.items as Record<string, unknown>[]).map((it, i) => {
    const offset = it.offset;
    if (typeof it.name !== 'string' || typeof it.feather !== 'number' || !Array.isArray(offset) || offset.length !== 2) {
      throw new Error(`${where}: item ${i} needs "name", "feather" and "offset": [dx, dy]`);
    }
    return {
      name: it.name,
      what: typeof it.what === 'string' ? it.what : it.name,
      polygon: parsePolygon(it.polygon, `${where}: ${it.name}`),
      feather: it.feather,
      offset: [Number(offset[0]), Number(offset[1])] as const,
    };
  });
  return { plate: raw.plate, size: [Number(size[0]), Number(size[1])], items };
}

/**
 * The transplant composites at the drawing's size (the plate is used at that size: a plate of
 * another size is scaled to it). Absent plate: an empty list and a note saying why.
 */
export async function transplantImages(spec: TransplantSpec, sharedDir: string | undefined): Promise<{ images: GroundTruthImage[]; note: string }> {
  const file = sharedDir ? path.join(sharedDir, spec.plate) : undefined;
  if (!file || !existsSync(file)) return { images: [], note: `transplants: plate ${spec.plate} not found in the shared data folder: transplant set skipped` };
  const [W, H] = spec.size;
  const plate = await loadBackground(file, W, H);
  const images: GroundTruthImage[] = [];
  for (const item of spec.items) {
    const cut = gaussianBlur(rasterise([item.polygon], W, H), item.feather).data;
    const [dx, dy] = item.offset.map(Math.round) as [number, number];
    const alpha = new Float32Array(W * H);
    const foreground = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const sx = x - dx;
        const sy = y - dy;
        // The cut-out's colour is the plate's at its source; outside the source, the plate here
        // (alpha 0 there, so it only fills the foreground layer).
        const j = sx >= 0 && sx < W && sy >= 0 && sy < H ? sy * W + sx : -1;
        alpha[i] = j >= 0 ? Math.min(1, cut[j]!) : 0;
        const src = j >= 0 ? j : i;
        for (let k = 0; k < 3; k++) foreground[3 * i + k] = plate.data[3 * src + k]! / 255;
      }
    }
    images.push({ name: item.name, plate, alpha, foreground });
  }
  return { images, note: `transplants: ${images.length} cut-outs of ${spec.plate} (${spec.items.map((i) => i.name).join(', ')}), ${W}x${H}` };
}
