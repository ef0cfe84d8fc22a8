// The matte quality bench end to end on tiny images: generated and disagreement sets, a real set,
// a transplant and capture pairs (one with a right trimap, a decoy with a wrong one) from a
// temporary shared-data folder (in the layouts the bench recognises), the clip, an extra variant
// plugged in, the report's checks and `pass`, and the files it writes. The real plate model runs
// in onnxruntime.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQualityBench } from '../../bench/quality/harness.js';
import { PERTURBATIONS } from '../../bench/quality/perturbations.js';
import type { QualityResults } from '../../bench/quality/results.js';
import { NAIVE, naiveVariant } from '../../bench/quality/variants.js';
import { makeScene } from '../../src/eval/synthetic.js';

const W = 160;
const H = 90;
let dir: string;
let shared: string;
let trimapsFile: string;
let transplantsFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-quality-bench-'));
  shared = path.join(dir, 'shared');
  const scene = makeScene('pair', { width: 200, height: 120, noise: 2, strands: true });
  const raw = (data: Uint8Array, w: number, h: number, channels: 1 | 3 | 4) => sharp(data, { raw: { width: w, height: h, channels } });
  // A capture pair in the Background Matting v1 layout.
  await mkdir(path.join(shared, 'capture-pairs'), { recursive: true });
  await raw(scene.frame.data, 200, 120, 3)
    .png()
    .toFile(path.join(shared, 'capture-pairs', '0001_img.png'));
  await raw(scene.plate.data, 200, 120, 3)
    .png()
    .toFile(path.join(shared, 'capture-pairs', '0001_back.png'));
  // The same pair again as 0002: the decoy whose drawn trimap is wrong.
  await raw(scene.frame.data, 200, 120, 3)
    .png()
    .toFile(path.join(shared, 'capture-pairs', '0002_img.png'));
  await raw(scene.plate.data, 200, 120, 3)
    .png()
    .toFile(path.join(shared, 'capture-pairs', '0002_back.png'));
  // Trimaps: 0001's is right (interior inside the head and torso, exterior the side strips); the
  // decoy 0002's "interior" is drawn on background, so its check must fail.
  trimapsFile = path.join(dir, 'trimaps.json');
  const sides = [
    [
      [40, 0],
      [160, 0],
      [160, 120],
      [40, 120],
    ],
  ];
  await writeFile(
    trimapsFile,
    JSON.stringify({
      size: [200, 120],
      pairs: {
        'capture-pairs/0001': {
          interior: [
            [
              [95, 28],
              [105, 28],
              [105, 44],
              [95, 44],
            ],
            [
              [84, 92],
              [116, 92],
              [116, 120],
              [84, 120],
            ],
          ],
          outer: sides,
        },
        'capture-pairs/0002': {
          interior: [
            [
              [5, 60],
              [30, 60],
              [30, 110],
              [5, 110],
            ],
          ],
          outer: sides,
        },
      },
    }),
  );
  // One transplant: a piece of the plate moved onto another part of it, soft-edged.
  transplantsFile = path.join(dir, 'transplants.json');
  await writeFile(
    transplantsFile,
    JSON.stringify({
      plate: 'capture-pairs/0001_back.png',
      size: [200, 120],
      items: [
        {
          name: 'block',
          polygon: [
            [20, 20],
            [60, 20],
            [60, 70],
            [20, 70],
          ],
          feather: 1,
          offset: [110, 30],
        },
      ],
    }),
  );
  // A real foreground as fgr/ + pha/ (BGMv2 layout) and one as an RGBA image (PhotoMatte85 layout).
  const subject = makeScene('fg', { width: 120, height: 160, noise: 0, softEdge: 3, veil: true });
  const rgb = Uint8Array.from(subject.foreground, (v) => Math.round(255 * v));
  const pha = Uint8Array.from(subject.alpha, (a) => Math.round(255 * a));
  await mkdir(path.join(shared, 'people', 'fgr'), { recursive: true });
  await mkdir(path.join(shared, 'people', 'pha'), { recursive: true });
  await raw(rgb, 120, 160, 3)
    .png()
    .toFile(path.join(shared, 'people', 'fgr', 'a.png'));
  await raw(pha, 120, 160, 1)
    .png()
    .toFile(path.join(shared, 'people', 'pha', 'a.png'));
  const rgba = new Uint8Array(120 * 160 * 4);
  for (let i = 0; i < 120 * 160; i++) rgba.set([rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!, pha[i]!], 4 * i);
  await mkdir(path.join(shared, 'stills'), { recursive: true });
  await raw(rgba, 120, 160, 4)
    .png()
    .toFile(path.join(shared, 'stills', 'b.png'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('quality bench on tiny images', () => {
  let results: QualityResults;
  let markdown: string;
  const out = () => path.join(dir, 'out');
  const log: string[] = [];

  beforeAll(async () => {
    ({ results, markdown } = await runQualityBench({
      outDir: out(),
      sizes: [[W, H]],
      maxGenerated: 2,
      temporal: { width: W, height: H, frames: 4, read: 2, shot: 0.03 },
      env: { CLEANPLATE_SHARED_DATA: shared },
      registryModels: ['plate', 'bgmv2'],
      onlyRegistryModels: true,
      // The targets about "the default model" checked on plate, whichever default is installed here.
      defaultModel: 'plate',
      trimapsFile,
      transplantsFile,
      // An extra variant as a plug-in would add it: here a fixed-threshold key, capture pairs only.
      extraVariants: [async () => ({ ...naiveVariant(12), name: 'extra t=12', sets: ['pairs'] })],
      log: (line) => log.push(line),
    }));
  }, 120_000);

  /** Engine models that happen to be installed here besides plate (bgmv2 when fetched). */
  const installed = () => results.models.filter((m) => m.available && m.name !== NAIVE && m.name !== 'extra t=12').map((m) => m.name);

  it('scores the naive key and the plate model on every image of the generated and real sets, per perturbation class', () => {
    expect(installed()).toContain('plate');
    expect(results.sets.map((s) => s.id)).toEqual([`generated-${W}x${H}`, `disagree-${W}x${H}`, `real-${W}x${H}`, 'transplant-200x120']);
    const classes = PERTURBATIONS.map((p) => p.id);
    for (const set of results.sets.filter((s) => s.kind === 'generated' || s.kind === 'real')) {
      const images = 2; // two generated scenes; two real foregrounds (fgr/pha and RGBA)
      expect(set.images).toHaveLength(images * classes.length);
      expect(Object.keys(set.summary)).toEqual(classes);
      for (const img of set.images) {
        expect(Object.keys(img.scores)).toEqual([NAIVE, ...installed()]);
        for (const s of Object.values(img.scores)) {
          for (const v of [s.sad, s.mse, s.grad, s.conn, s.fgrMse!]) {
            expect(Number.isFinite(v)).toBe(true);
            expect(v).toBeGreaterThanOrEqual(0);
          }
        }
      }
      for (const cls of classes) expect(set.summary[cls]![NAIVE]!.n).toBe(images);
    }
  });

  it('runs the disagreement scenes and the transplant under the noise class, with interior and background means', () => {
    const disagree = results.sets.find((s) => s.kind === 'disagree')!;
    expect(disagree.images.map((i) => [i.image, i.subject, i.perturbation])).toEqual([
      ['camouflage', 'person-like', 'noise'],
      ['object', 'object', 'noise'],
      ['plate-person', 'person-like', 'noise'],
    ]);
    const transplant = results.sets.find((s) => s.kind === 'transplant')!;
    expect(transplant.images.map((i) => i.image)).toEqual(['block']);
    const plate = transplant.images[0]!.scores.plate!;
    // The block is a real piece of the plate: the model finds most of its interior, little else.
    expect(plate.interior!).toBeGreaterThan(0.5);
    expect(plate.background!).toBeLessThan(0.1);
    expect(log.join('\n')).toMatch(/transplants: 1 cut-outs of capture-pairs\/0001_back.png \(block\), 200x120/);
  });

  it('finds the real data by layout, says so, and reports the models that are not installed', () => {
    expect(results.sharedData.dir).toBe(shared);
    expect(log.join('\n')).toMatch(/capture pairs \(frame \+ plate, no ground truth\): 2/);
    expect(log.join('\n')).toMatch(/real foregrounds with ground-truth alpha: 2/);
    expect(results.sets[2]!.images.map((i) => i.image)).toEqual(expect.arrayContaining(['people/a', 'stills/b']));
    const bgmv2 = results.models.find((m) => m.name.startsWith('bgmv2'));
    if (bgmv2 && !bgmv2.available) expect(markdown).toContain(`| all | ${bgmv2.name} | not installed`);
  });

  it('checks plate against the naive key on every class, flicker, and the default model on the drawn trimaps; pass says whether all hold', () => {
    expect(results.defaultModel).toBe('plate');
    const sadChecks = results.checks.filter((c) => c.what === 'SAD / naive');
    expect(sadChecks.map((c) => c.set)).toEqual([...PERTURBATIONS.map(() => `generated-${W}x${H}`), ...PERTURBATIONS.map(() => `real-${W}x${H}`), 'transplant-200x120']);
    const flicker = results.temporal!.flicker;
    expect(Object.keys(flicker)).toEqual([NAIVE, ...installed()]);
    expect(flicker[NAIVE]!.all).toBeGreaterThan(0);
    for (const fl of Object.values(flicker)) expect(fl.sad).toBeGreaterThan(0);
    expect(results.checks.find((c) => c.what === `flicker / ${NAIVE}`)).toBeDefined();
    // The further clips: capture pair 0001 held still under fresh noise (no truth), and the moving subject.
    const cases = results.temporal!.cases!;
    expect(cases.map((c) => c.name)).toEqual(['real static (capture-pairs/0001)', 'moving']);
    expect(Object.keys(cases[0]!.scores)).toEqual([NAIVE, ...installed()]);
    expect(cases[0]!.scores.plate!.sad).toBeNull();
    expect(cases[1]!.scores.plate!.sad).toBeGreaterThan(0);
    expect(markdown).toContain('#### moving');
    // The right trimap holds on an easy synthetic pair; the decoy's interior is background.
    const pairChecks = (pair: string) => results.checks.filter((c) => c.set === 'capture pairs' && c.subject === pair).map((c) => [c.what, c.pass]);
    expect(pairChecks('capture-pairs/0001')).toEqual([
      ['interior mean', true],
      ['exterior mean', true],
    ]);
    expect(pairChecks('capture-pairs/0002')).toEqual([
      ['interior mean', false],
      ['exterior mean', true],
    ]);
    expect(results.pass).toBe(false);
    expect(markdown).toMatch(/### Targets: \*\*\d+ of \d+ fail\*\* \(default model: plate\)/);
  });

  it('runs the capture pairs with every variant, the extra one only there, and writes their alphas', async () => {
    const pairs = results.capturePairs!;
    expect(pairs.images).toHaveLength(2);
    expect(pairs.images[0]!.trimap).toEqual({ scored: true });
    expect(Object.keys(pairs.images[0]!.models)).toEqual(['naive (t=25)', ...installed(), 'extra t=12']);
    for (const m of Object.values(pairs.images[0]!.models)) {
      expect(m.trimap).toBeDefined();
      const meta = await sharp(path.join(out(), m.alphaFile)).metadata();
      expect([meta.width, meta.height]).toEqual([200, 120]);
    }
    expect(results.sets.every((s) => s.images.every((i) => !('extra t=12' in i.scores)))).toBe(true);
  });

  it('writes results.json, results.md and the contact sheets (a row per image, columns per view)', async () => {
    const json = JSON.parse(await readFile(path.join(out(), 'results.json'), 'utf8')) as QualityResults;
    expect(json.sets.map((s) => s.id)).toEqual(results.sets.map((s) => s.id));
    const md = await readFile(path.join(out(), 'results.md'), 'utf8');
    expect(md).toContain('| noise | plate |');
    expect(md).toContain(`#### generated-${W}x${H}: per image`);
    expect(markdown).not.toContain(': per image');
    // generated sheet: frame, plate, truth + alpha and error per model, tiles of 256 px with gaps
    // of 3; 14 rows (2 scenes x 7 classes) of 144 px under two header lines.
    const columns = 3 + 2 * (1 + installed().length);
    const sheet = await sharp(path.join(out(), results.sets[0]!.contactSheet)).metadata();
    expect(sheet.width).toBe(columns * 256 + (columns - 1) * 3);
    expect(sheet.height).toBe(44 + 14 * 144 + 13 * 3);
    // pairs: frame, aligned plate, trimap + an alpha per variant (naive, installed models, the extra).
    const pairColumns = 3 + 2 + installed().length;
    const pairsSheet = await sharp(path.join(out(), results.capturePairs!.contactSheet)).metadata();
    expect(pairsSheet.width).toBe(pairColumns * 384 + (pairColumns - 1) * 3);
  });
});

describe('quality bench without shared data', () => {
  it('says the folder is missing and skips the real sets without failing', async () => {
    const log: string[] = [];
    const outDir = path.join(dir, 'none');
    const { results } = await runQualityBench({
      outDir,
      sizes: [[W, H]],
      sets: ['real', 'pairs'],
      registryModels: ['plate'],
      env: { CLEANPLATE_SHARED_DATA: path.join(dir, 'does-not-exist') },
      extraVariants: [],
      log: (line) => log.push(line),
    });
    expect(log.join('\n')).toMatch(/no shared data folder at .*does-not-exist/);
    expect(results.sets).toEqual([]);
    expect(results.capturePairs).toBeNull();
    expect(existsSync(path.join(outDir, 'results.json'))).toBe(true);
  });
});
