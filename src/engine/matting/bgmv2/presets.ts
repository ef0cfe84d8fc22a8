// Settings baked into a BGMv2 ONNX export at export time (BGMV2.md: HD = backbone scale 0.25 and
// 80,000 refined pixels, 4K = 0.125 and 320,000), as the manifest records them, and the two
// frame-size rules that follow from them: which preset serves a frame, and how far a frame must
// be padded for the export to accept it.
import type { ManifestEntry } from '../manifest.js';

export interface Bgmv2Settings {
  readonly preset: string;
  readonly backboneScale: number;
  readonly refineMode: 'sampling' | 'thresholding' | 'full';
  /** Pixels the refiner refines per frame in sampling mode. */
  readonly refineSamplePixels: number;
  /** Largest frame (width x height) this preset is picked for; null = no limit. */
  readonly maxPixels: number | null;
}

const MODES = ['sampling', 'thresholding', 'full'] as const;

export function bgmv2Settings(entry: ManifestEntry): Bgmv2Settings {
  const s = entry.settings;
  const where = `models/manifest.json: model ${entry.id}`;
  const { preset, backboneScale, refineMode, refineSamplePixels, maxPixels } = s as Record<string, unknown>;
  if (typeof preset !== 'string') throw new Error(`${where}: settings.preset must be a string ("hd", "4k")`);
  if (typeof backboneScale !== 'number' || !(backboneScale > 0 && backboneScale <= 0.5)) throw new Error(`${where}: settings.backboneScale must be in (0, 0.5]`);
  if (!MODES.includes(refineMode as Bgmv2Settings['refineMode'])) throw new Error(`${where}: settings.refineMode must be one of ${MODES.join(', ')}`);
  if (typeof refineSamplePixels !== 'number' || !Number.isInteger(refineSamplePixels) || refineSamplePixels < 16) throw new Error(`${where}: settings.refineSamplePixels must be an integer >= 16`);
  if (maxPixels !== null && (typeof maxPixels !== 'number' || !(maxPixels > 0))) throw new Error(`${where}: settings.maxPixels must be a positive number or null`);
  return { preset, backboneScale, refineMode: refineMode as Bgmv2Settings['refineMode'], refineSamplePixels, maxPixels };
}

/**
 * The frame size the export accepts for a width x height frame, padded at the right and bottom.
 * Two rules come from the network's code, not from its documentation alone:
 * - H and W multiples of 4: the refiner works on a quarter-resolution grid of 4x4 patches and
 *   pastes them back by index (the base network's backbone copes with any size: its decoder
 *   upsamples to each skip connection's size).
 * - In sampling mode the refiner ranks the quarter-resolution error map with TopK of
 *   refineSamplePixels / 16 entries; onnxruntime refuses a TopK larger than the map, so the
 *   padded frame must hold at least that many 4x4 patches.
 */
export function paddedSize(width: number, height: number, settings: Pick<Bgmv2Settings, 'refineMode' | 'refineSamplePixels'>): { width: number; height: number } {
  let wq = Math.ceil(width / 4);
  let hq = Math.ceil(height / 4);
  const patches = settings.refineMode === 'sampling' ? Math.floor(settings.refineSamplePixels / 16) : 0;
  if (wq * hq < patches) {
    // Grow both sides in proportion, then top up the shorter one.
    const grow = Math.sqrt(patches / (wq * hq));
    wq = Math.ceil(wq * grow);
    hq = Math.ceil(hq * grow);
    while (wq * hq < patches) {
      if (wq <= hq) wq += 1;
      else hq += 1;
    }
  }
  return { width: wq * 4, height: hq * 4 };
}

/**
 * Picks the preset for a frame: the one with the smallest maxPixels that still covers the frame,
 * else the one with the largest limit. `candidates` are the presets whose files are present.
 */
export function pickPreset<T extends { readonly settings: Bgmv2Settings }>(candidates: readonly T[], width: number, height: number): T {
  const limit = (c: T) => c.settings.maxPixels ?? Number.POSITIVE_INFINITY;
  const sorted = [...candidates].sort((a, b) => limit(a) - limit(b));
  const pixels = width * height;
  const pick = sorted.find((c) => limit(c) >= pixels) ?? sorted[sorted.length - 1];
  if (!pick) throw new Error('no BackgroundMattingV2 preset to pick from');
  return pick;
}
