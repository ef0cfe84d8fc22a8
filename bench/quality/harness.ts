// The matte quality bench (`npm run bench:quality`): builds evaluation composites, perturbs them
// per class, runs every variant, scores with the BGMv2 paper's metrics, measures flicker on a
// generated clip, runs the real capture pairs, and writes results.json, results.md and contact
// sheets. Everything in one process, one image at a time (the machine is shared).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../../src/engine/media/image.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { Frame, Plane } from '../../src/engine/matting/types.js';
import { connectivityError, foregroundMse, gradientError, mse, oracleNaiveKey, sad } from '../../src/eval/metrics.js';
import { ContactSheet, differencePlane, errorHeatMap, truthPlane } from './contact-sheet.js';
import {
  discoverSharedData,
  generatedForegrounds,
  loadBackground,
  loadCapturePair,
  loadRealForeground,
  type GroundTruthImage,
  type SharedData,
} from './datasets.js';
import { extraVariants } from './extra-variants.js';
import { PERTURBATIONS, type PerturbationClass } from './perturbations.js';
import { markdownReport } from './report.js';
import type { Check, ImageResult, ModelEntry, PairResult, QualityResults, Scores, SetResult } from './results.js';
import { defaultTemporal, measureFlicker, type TemporalOptions } from './temporal.js';
import { NAIVE, NAIVE_FALLBACK_THRESHOLD, naiveVariant, registryVariants, WANTED_MODELS, type BenchSet, type MissingVariant, type ModelVariant, type VariantFactory } from './variants.js';

export interface QualityOptions {
  readonly outDir: string;
  /** Sizes of the generated and real sets. */
  readonly sizes: readonly (readonly [number, number])[];
  readonly sets: readonly BenchSet[];
  readonly temporal: TemporalOptions;
  /** At most this many real foregrounds (they are slow to load and each runs every class). */
  readonly maxReal: number;
  /** Limits the generated foregrounds (tests use fewer). */
  readonly maxGenerated?: number;
  readonly perturbations: readonly PerturbationClass[];
  /** Engine models to run when installed (ids or kinds; default plate, bgmv2, rvm). */
  readonly registryModels: readonly string[];
  /** Factories of extra variants (default: extra-variants.ts). */
  readonly extraVariants: readonly VariantFactory[];
  readonly env: NodeJS.ProcessEnv;
  readonly command: string;
  readonly log: (line: string) => void;
}

export const defaultQualityOptions: QualityOptions = {
  outDir: path.resolve('bench-results', 'quality'),
  sizes: [
    [640, 360],
    [1280, 720],
  ],
  sets: ['generated', 'real', 'pairs', 'temporal'],
  temporal: defaultTemporal,
  maxReal: 12,
  perturbations: PERTURBATIONS,
  registryModels: WANTED_MODELS,
  extraVariants,
  env: process.env,
  command: 'npm run bench:quality',
  log: (line) => console.log(line),
};

/** The model the checks are about, and the baseline it must beat. */
export const PLATE = 'plate';
const SAD_TARGET = 0.5;
const FLICKER_TARGET = 1 / 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fileSafe = (s: string) => s.replace(/[^a-z0-9._-]+/gi, '_');

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

function score(out: { alpha: Plane; foreground?: Frame }, truth: GroundTruthImage, ms: number): Scores {
  return {
    sad: sad(out.alpha, truth.alpha),
    mse: mse(out.alpha, truth.alpha),
    grad: gradientError(out.alpha, truth.alpha),
    conn: connectivityError(out.alpha, truth.alpha),
    fgrMse: out.foreground ? foregroundMse(out.foreground, truth.foreground, truth.alpha) : null,
    ms,
  };
}

function summarise(images: ImageResult[], variants: readonly string[]): SetResult['summary'] {
  const summary: SetResult['summary'] = {};
  for (const cls of [...new Set(images.map((i) => i.perturbation))]) {
    const group = images.filter((i) => i.perturbation === cls);
    summary[cls] = {};
    for (const v of variants) {
      const s = group.map((i) => i.scores[v]).filter((x): x is Scores => x !== undefined);
      if (s.length === 0) continue;
      const mean = (f: (x: Scores) => number) => s.reduce((a, x) => a + f(x), 0) / s.length;
      const fgr = s.every((x) => x.fgrMse !== null) ? mean((x) => x.fgrMse!) : null;
      summary[cls][v] = { sad: mean((x) => x.sad), mse: mean((x) => x.mse), grad: mean((x) => x.grad), conn: mean((x) => x.conn), fgrMse: fgr, ms: median(s.map((x) => x.ms)), n: s.length };
    }
  }
  return summary;
}

/** Runs every variant on every image of a ground-truth set under every perturbation class. */
async function runTruthSet(
  id: string,
  kind: SetResult['kind'],
  images: GroundTruthImage[],
  variants: readonly ModelVariant[],
  o: QualityOptions,
): Promise<SetResult> {
  const { width, height } = images[0]!.plate;
  const tileW = 256;
  const tileH = Math.round((tileW * height) / width);
  const sheet = new ContactSheet(
    `${id}: |pred - truth| heat maps on a square-root scale (black 0, red ~0.1, yellow ~0.45, white 1)`,
    ['frame', 'plate', 'ground truth', ...variants.flatMap((v) => [`${v.name} alpha`, `${v.name} error`])],
    tileW,
    tileH,
  );
  const results: ImageResult[] = [];
  for (const [ci, cls] of o.perturbations.entries()) {
    for (const [ii, img] of images.entries()) {
      const { frame, plate } = await cls.apply(img, 1 + 100 * ci + 10 * ii);
      const scores: Record<string, Scores> = {};
      const cells = [];
      for (const v of variants) {
        const { value, ms } = await timed(() => v.run(frame, plate, img.alpha));
        scores[v.name] = score(value, img, ms);
        cells.push(value.alpha, errorHeatMap(value.alpha, img.alpha));
      }
      results.push({ image: img.name, perturbation: cls.id, oracleThreshold: oracleNaiveKey(frame, plate, img.alpha).threshold, scores });
      await sheet.addRow(`${img.name} / ${cls.id}`, [frame, plate, truthPlane(img.alpha, width, height), ...cells]);
    }
    const line = variants.map((v) => {
      const s = results.filter((r) => r.perturbation === cls.id).map((r) => r.scores[v.name]!.sad);
      return `${v.name} ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)}`;
    });
    o.log(`  ${id} / ${cls.id}: mean SAD ${line.join(', ')}`);
  }
  const contactSheet = `contact-${fileSafe(id)}.png`;
  await writeFile(path.join(o.outDir, contactSheet), await sheet.toPng());
  return { id, kind, width, height, images: results, summary: summarise(results, variants.map((v) => v.name)), contactSheet };
}

/** Real capture pairs: no ground truth, so alphas and a contact sheet to look at. */
async function runPairs(shared: SharedData, variants: readonly ModelVariant[], o: QualityOptions): Promise<QualityResults['capturePairs']> {
  const pairs = shared.capturePairs;
  if (pairs.length === 0) return null;
  // Without ground truth the naive key has no oracle: it gets a fixed threshold.
  const models = variants.map((v) => (v.name === NAIVE ? naiveVariant(NAIVE_FALLBACK_THRESHOLD) : v));
  const alphaDir = path.join(o.outDir, 'pairs');
  await mkdir(alphaDir, { recursive: true });
  const tileW = 384;
  let sheet: ContactSheet | undefined;
  const images: PairResult[] = [];
  for (const p of pairs) {
    const { frame, plate, note } = await loadCapturePair(p);
    sheet ??= new ContactSheet(
      `capture pairs (no ground truth): |frame - plate| x4, then each model's alpha`,
      ['frame', 'plate', '|frame - plate| x4', ...models.map((m) => `${m.name} alpha`)],
      tileW,
      Math.round((tileW * frame.height) / frame.width),
    );
    const cells = [];
    const perModel: PairResult['models'] = {};
    for (const m of models) {
      const { value, ms } = await timed(() => m.run(frame, plate));
      const alphaFile = path.join('pairs', `${fileSafe(p.name)}-${fileSafe(m.name)}.png`);
      await writeFile(path.join(o.outDir, alphaFile), await encodePng(value.alpha));
      const coverage = value.alpha.data.reduce((n, a) => n + (a >= 128 ? 1 : 0), 0) / value.alpha.data.length;
      perModel[m.name] = { coverage, ms, alphaFile };
      cells.push(value.alpha);
    }
    await sheet.addRow(p.name, [frame, plate, differencePlane(frame, plate), ...cells]);
    images.push({ name: p.name, frame: p.frame, plate: p.plate, width: frame.width, height: frame.height, ...(note ? { note } : {}), models: perModel });
    o.log(`  capture pair ${p.name}: ${models.map((m) => `${m.name} ${(100 * perModel[m.name]!.coverage).toFixed(1)}% opaque`).join(', ')}`);
  }
  const contactSheet = 'contact-capture-pairs.png';
  await writeFile(path.join(o.outDir, contactSheet), await sheet!.toPng());
  return { images, contactSheet };
}

function checks(sets: SetResult[], temporal: QualityResults['temporal']): Check[] {
  const out: Check[] = [];
  for (const s of sets) {
    for (const [cls, byModel] of Object.entries(s.summary)) {
      const plate = byModel[PLATE];
      const naive = byModel[NAIVE];
      if (!plate || !naive) continue;
      const ratio = plate.sad / naive.sad;
      out.push({ what: 'sad', set: s.id, perturbation: cls, plate: plate.sad, naive: naive.sad, ratio, target: SAD_TARGET, pass: ratio <= SAD_TARGET });
    }
  }
  const plate = temporal?.flicker[PLATE];
  const naive = temporal?.flicker[NAIVE];
  if (plate && naive) {
    const ratio = plate.all / naive.all;
    out.push({ what: 'flicker', set: 'temporal', plate: plate.all, naive: naive.all, ratio, target: FLICKER_TARGET, pass: ratio <= FLICKER_TARGET });
  }
  return out;
}

const applies = (v: ModelVariant, set: BenchSet) => !v.sets || v.sets.includes(set);

/** Runs the bench, writes its files, and returns the results (also printed as Markdown by the caller). */
export async function runQualityBench(opts: Partial<QualityOptions> = {}): Promise<{ results: QualityResults; markdown: string }> {
  const o: QualityOptions = { ...defaultQualityOptions, ...opts };
  await mkdir(o.outDir, { recursive: true });
  const registry = await ModelRegistry.load();
  const installed = await registryVariants(registry, o.registryModels);
  const variants: ModelVariant[] = [naiveVariant(), ...installed.variants];
  for (const make of o.extraVariants) variants.push(await make(registry));
  const names = variants.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new Error(`variant names must be unique: ${names.join(', ')}`);
  const missing: MissingVariant[] = installed.missing;
  const models: ModelEntry[] = [
    ...variants.map((v) => ({ name: v.name, available: true, ...(v.description ? { description: v.description } : {}) })),
    ...missing.map((m) => ({ name: m.name, available: false, reason: m.reason })),
  ];
  o.log(`models: ${variants.map((v) => v.name).join(', ')}${missing.length ? `; not installed: ${missing.map((m) => m.name).join(', ')}` : ''}`);

  try {
    const shared = o.sets.some((s) => s === 'real' || s === 'pairs') ? await discoverSharedData(o.env) : undefined;
    for (const note of shared?.notes ?? []) o.log(note);

    const sets: SetResult[] = [];
    for (const [W, H] of o.sizes) {
      if (o.sets.includes('generated')) {
        const fgs = generatedForegrounds(W, H).slice(0, o.maxGenerated);
        o.log(`generated set ${W}x${H}: ${fgs.length} foregrounds x ${o.perturbations.length} perturbation classes`);
        sets.push(await runTruthSet(`generated-${W}x${H}`, 'generated', fgs, variants.filter((v) => applies(v, 'generated')), o));
      }
      if (o.sets.includes('real') && shared && shared.realForegrounds.length > 0) {
        const chosen = shared.realForegrounds.slice(0, o.maxReal);
        o.log(`real set ${W}x${H}: ${chosen.length} of ${shared.realForegrounds.length} real foregrounds x ${o.perturbations.length} perturbation classes`);
        const images: GroundTruthImage[] = [];
        for (const [i, fg] of chosen.entries()) {
          const bgFile = shared.backgrounds.length ? shared.backgrounds[i % shared.backgrounds.length] : undefined;
          const plate = bgFile ? await loadBackground(bgFile, W, H) : generatedForegrounds(W, H)[0]!.plate;
          images.push(await loadRealForeground(fg, W, H, plate));
        }
        sets.push(await runTruthSet(`real-${W}x${H}`, 'real', images, variants.filter((v) => applies(v, 'real')), o));
      }
    }

    let temporal: QualityResults['temporal'] = null;
    if (o.sets.includes('temporal')) {
      o.log(`temporal: ${o.temporal.frames} frames ${o.temporal.width}x${o.temporal.height}, static subject, fresh sensor noise per frame, fixed plate`);
      const flicker = await measureFlicker(variants.filter((v) => applies(v, 'temporal')), o.temporal);
      temporal = { options: o.temporal, flicker: Object.fromEntries(flicker) };
    }

    const capturePairs = o.sets.includes('pairs') && shared ? await runPairs(shared, variants.filter((v) => applies(v, 'pairs')), o) : null;

    const results: QualityResults = {
      version: 1,
      createdAt: new Date().toISOString(),
      command: o.command,
      options: { sizes: o.sizes.map(([w, h]) => [w, h]), sets: [...o.sets], perturbations: o.perturbations.map((p) => ({ id: p.id, description: p.description })) },
      models,
      sharedData: { dir: shared?.dir ?? null, notes: shared?.notes ?? [] },
      sets,
      temporal,
      capturePairs,
      checks: checks(sets, temporal),
    };
    const markdown = markdownReport(results, { perImage: true });
    await writeFile(path.join(o.outDir, 'results.json'), JSON.stringify(results, null, 1));
    await writeFile(path.join(o.outDir, 'results.md'), markdown);
    return { results, markdown: markdownReport(results, { perImage: false }) };
  } finally {
    for (const v of variants) await v.dispose?.();
  }
}
