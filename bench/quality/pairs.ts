// Real capture pairs: no ground truth, so each frame is scored against a trimap drawn by eye
// (holes and leaks, see trimaps.ts) and shown on a contact sheet: frame, aligned plate, trimap,
// then every model's alpha side by side (plate / rvm / fused / ...). The pairs are hand-held, so
// the plate is aligned to each frame first (align on, as `cleanplate matte --align on`), once per
// frame for all models.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PlateAligner } from '../../src/engine/align/aligner.js';
import { encodePng } from '../../src/engine/media/image.js';
import { ContactSheet } from './contact-sheet.js';
import { loadCapturePair, type SharedData } from './datasets.js';
import type { PairResult, QualityResults } from './results.js';
import { trimapPlane, trimapRegions, trimapScores, type TrimapSpec } from './trimaps.js';
import { NAIVE, NAIVE_FALLBACK_THRESHOLD, naiveVariant, type ModelVariant } from './variants.js';

export interface PairsOptions {
  readonly outDir: string;
  readonly trimaps: TrimapSpec | undefined;
  readonly log: (line: string) => void;
}

const fileSafe = (s: string) => s.replace(/[^a-z0-9._-]+/gi, '_');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export async function runPairs(shared: SharedData, variants: readonly ModelVariant[], o: PairsOptions): Promise<QualityResults['capturePairs']> {
  const pairs = shared.capturePairs;
  if (pairs.length === 0) return null;
  // Without ground truth the naive key has no oracle: it gets a fixed threshold.
  const models = variants.map((v) => (v.name === NAIVE ? naiveVariant(NAIVE_FALLBACK_THRESHOLD) : v));
  await mkdir(path.join(o.outDir, 'pairs'), { recursive: true });
  const tileW = 384;
  let sheet: ContactSheet | undefined;
  const images: PairResult[] = [];
  for (const p of pairs) {
    const { frame, plate, note } = await loadCapturePair(p);
    const aligned = await new PlateAligner(plate, { mode: 'on' }).plateFor(frame);
    const drawn = o.trimaps?.pairs[p.name];
    const [tw, th] = o.trimaps?.size ?? [0, 0];
    const trimap: PairResult['trimap'] = !drawn
      ? { scored: false, reason: 'no trimap drawn for this pair' }
      : tw !== frame.width || th !== frame.height
        ? { scored: false, reason: `trimap drawn on ${tw}x${th}, frame is ${frame.width}x${frame.height}` }
        : { scored: true };
    const regions = drawn && trimap.scored ? trimapRegions(drawn, frame.width, frame.height) : undefined;
    sheet ??= new ContactSheet(
      "capture pairs, align on: frame, aligned plate, drawn trimap (white surely subject, black surely background), each model's alpha",
      ['frame', 'plate (aligned)', 'trimap', ...models.map((m) => `${m.name} alpha`)],
      tileW,
      Math.round((tileW * frame.height) / frame.width),
    );
    const cells = [];
    const perModel: PairResult['models'] = {};
    for (const m of models) {
      const t0 = performance.now();
      const value = await m.run(frame, aligned);
      const ms = performance.now() - t0;
      const alphaFile = path.join('pairs', `${fileSafe(p.name)}-${fileSafe(m.name)}.png`);
      await writeFile(path.join(o.outDir, alphaFile), await encodePng(value.alpha));
      const coverage = value.alpha.data.reduce((n, a) => n + (a >= 128 ? 1 : 0), 0) / value.alpha.data.length;
      perModel[m.name] = { coverage, ms, alphaFile, ...(regions ? { trimap: trimapScores(value.alpha, regions) } : {}) };
      cells.push(value.alpha);
    }
    await sheet.addRow(p.name, [frame, aligned, regions ? trimapPlane(regions, frame.width, frame.height) : undefined, ...cells]);
    images.push({ name: p.name, frame: p.frame, plate: p.plate, width: frame.width, height: frame.height, ...(note ? { note } : {}), align: 'on', trimap, models: perModel });
    const said = models.map((m) => {
      const t = perModel[m.name]!.trimap;
      return `${m.name} ${t ? `interior ${t.interiorMean.toFixed(3)} (holes ${pct(t.holes)}), exterior ${t.exteriorMean.toFixed(3)} (leaks ${pct(t.leaks)})` : `${pct(perModel[m.name]!.coverage)} opaque`}`;
    });
    o.log(`  capture pair ${p.name}: ${said.join('; ')}`);
  }
  const contactSheet = 'contact-capture-pairs.png';
  await writeFile(path.join(o.outDir, contactSheet), await sheet!.toPng());
  return { images, contactSheet };
}
