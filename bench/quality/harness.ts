// The matte quality bench (`npm run bench:quality`): builds evaluation composites, perturbs them
// per class, runs every variant, scores with the BGMv2 paper's metrics, measures flicker on a
// generated clip, runs the real capture pairs against drawn trimaps and the transplanted real
// textures, checks the targets (checks.ts) and writes results.json, results.md and contact
// sheets. Everything in one process, one image at a time (the machine is shared).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { Frame, Plane } from '../../src/engine/frame.js';
import { connectivityError, foregroundMse, gradientError, mse, oracleNaiveKey, sad } from '../../src/eval/metrics.js';
import { qualityChecks } from './checks.js';
import { ContactSheet, cropCell, errorHeatMap, subjectBox, truthPlane } from './contact-sheet.js';
import { discoverSharedData, generatedForegrounds, loadBackground, loadRealForeground, type GroundTruthImage } from './datasets.js';
import { disagreementScenes, type DisagreementImage } from './disagree.js';
import { extraVariants } from './extra-variants.js';
import { runPairs } from './pairs.js';
import { PERTURBATIONS, type PerturbationClass } from './perturbations.js';
import { markdownReport } from './report.js';
import type { ImageResult, ModelEntry, QualityResults, Scores, SetResult } from './results.js';
import { defaultTemporal, measureFlicker, type TemporalOptions } from './temporal.js';
import { fusedWithoutFilter, measureClip, movingClip, realStaticClip } from './temporal-cases.js';
import { defaultTransplantsFile, loadTransplantSpec, transplantImages } from './transplants.js';
import { defaultTrimapsFile, loadTrimapSpec } from './trimaps.js';
import { naiveVariant, registryVariants, WANTED_MODELS, type BenchSet, type MissingVariant, type ModelVariant, type VariantFactory } from './variants.js';

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
  /** Engine models to run when installed (ids or kinds; default plate, bgmv2, rvm, fused); any
   * other installed model runs too unless `onlyRegistryModels`. */
  readonly registryModels: readonly string[];
  readonly onlyRegistryModels?: boolean;
  /** The model the default-model targets are about (default: the engine's default). */
  readonly defaultModel?: string;
  /** Trimaps drawn on the capture pairs (bench/quality/data/capture-trimaps.json). */
  readonly trimapsFile: string;
  /** Cut-outs of the transplant set (bench/quality/data/transplants.json). */
  readonly transplantsFile: string;
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
  sets: ['generated', 'disagree', 'real', 'transplant', 'pairs', 'temporal'],
  temporal: defaultTemporal,
  maxReal: 12,
  perturbations: PERTURBATIONS,
  registryModels: WANTED_MODELS,
  trimapsFile: defaultTrimapsFile,
  transplantsFile: defaultTransplantsFile,
  extraVariants,
  env: process.env,
  command: 'npm run bench:quality',
  log: (line) => console.log(line),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fileSafe = (s: string) => s.replace(/[^a-z0-9._-]+/gi, '_');

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/** Mean predicted alpha (0..1) where the true alpha is `which` (1 interior, 0 background). */
function regionMean(alpha: Plane, truth: Float32Array, which: 0 | 1): number | null {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < truth.length; i++) {
    if (which === 1 ? truth[i]! >= 0.999 : truth[i]! <= 0.001) {
      n++;
      sum += alpha.data[i]!;
    }
  }
  return n ? sum / 255 / n : null;
}

function score(out: { alpha: Plane; foreground?: Frame }, truth: GroundTruthImage, ms: number): Scores {
  return {
    interior: regionMean(out.alpha, truth.alpha, 1),
    background: regionMean(out.alpha, truth.alpha, 0),
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
      const orNull = (g: (x: Scores) => number | null) => (s.every((x) => g(x) !== null) ? mean((x) => g(x)!) : null);
      summary[cls][v] = {
        sad: mean((x) => x.sad),
        mse: mean((x) => x.mse),
        grad: mean((x) => x.grad),
        conn: mean((x) => x.conn),
        fgrMse: orNull((x) => x.fgrMse),
        interior: orNull((x) => x.interior),
        background: orNull((x) => x.background),
        ms: median(s.map((x) => x.ms)),
        n: s.length,
      };
    }
  }
  return summary;
}

/** Runs every variant on every image of a ground-truth set under every perturbation class. */
async function runTruthSet(
  id: string,
  kind: SetResult['kind'],
  images: (GroundTruthImage | DisagreementImage)[],
  variants: readonly ModelVariant[],
  o: QualityOptions,
  perturbations = o.perturbations,
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
  for (const [ci, cls] of perturbations.entries()) {
    for (const [ii, img] of images.entries()) {
      const { frame, plate } = await cls.apply(img, 1 + 100 * ci + 10 * ii);
      const scores: Record<string, Scores> = {};
      const cells = [];
      for (const v of variants) {
        const { value, ms } = await timed(() => v.run(frame, plate, img.alpha));
        scores[v.name] = score(value, img, ms);
        cells.push(value.alpha, errorHeatMap(value.alpha, img.alpha));
      }
      const subject = 'subject' in img ? { subject: img.subject } : {};
      results.push({ image: img.name, perturbation: cls.id, oracleThreshold: oracleNaiveKey(frame, plate, img.alpha).threshold, ...subject, scores });
      const row = [frame, plate, truthPlane(img.alpha, width, height), ...cells];
      // Transplants are small on a 1080p plate: their rows show the region around the cut-out.
      const box = kind === 'transplant' ? subjectBox(img.alpha, width, height, tileW / tileH) : undefined;
      await sheet.addRow(`${img.name} / ${cls.id}`, box ? row.map((c) => cropCell(c, box)) : row);
    }
    const line = variants.map((v) => {
      const s = results.filter((r) => r.perturbation === cls.id).map((r) => r.scores[v.name]!.sad);
      return `${v.name} ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2)}`;
    });
    o.log(`  ${id} / ${cls.id}: mean SAD ${line.join(', ')}`);
  }
  const contactSheet = `contact-${fileSafe(id)}.png`;
  await writeFile(path.join(o.outDir, contactSheet), await sheet.toPng());
  return {
    id,
    kind,
    width,
    height,
    images: results,
    summary: summarise(
      results,
      variants.map((v) => v.name),
    ),
    contactSheet,
  };
}

const applies = (v: ModelVariant, set: BenchSet) => !v.sets || v.sets.includes(set);

/** Runs the bench, writes its files, and returns the results (also printed as Markdown by the caller). */
export async function runQualityBench(opts: Partial<QualityOptions> = {}): Promise<{ results: QualityResults; markdown: string }> {
  const o: QualityOptions = { ...defaultQualityOptions, ...opts };
  await mkdir(o.outDir, { recursive: true });
  const registry = await ModelRegistry.load();
  const installed = await registryVariants(registry, o.registryModels, o.onlyRegistryModels);
  const variants: ModelVariant[] = [naiveVariant(), ...installed.variants];
  for (const make of o.extraVariants) variants.push(await make(registry));
  // The fused model's filter off beside it, when the fused model itself is compared.
  if (o.sets.includes('temporal') && variants.some((v) => v.kind === 'fused')) {
    const noFilter = await fusedWithoutFilter(registry);
    if (noFilter) variants.push(noFilter);
  }
  const defaultModel = o.defaultModel ?? registry.defaultId;
  // The default model is always run (the targets are about it), unless it cannot be.
  if (!variants.some((v) => v.name === defaultModel) && registry.list().some((m) => m.id === defaultModel && m.available)) {
    variants.push(...(await registryVariants(registry, [defaultModel], true)).variants);
  }
  const names = variants.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new Error(`variant names must be unique: ${names.join(', ')}`);
  const missing: MissingVariant[] = installed.missing;
  const models: ModelEntry[] = [
    ...variants.map((v) => ({ name: v.name, available: true, ...(v.description ? { description: v.description } : {}) })),
    ...missing.map((m) => ({ name: m.name, available: false, reason: m.reason })),
  ];
  o.log(`models: ${variants.map((v) => v.name).join(', ')}${missing.length ? `; not installed: ${missing.map((m) => m.name).join(', ')}` : ''}`);

  try {
    const shared = o.sets.some((s) => s === 'real' || s === 'pairs' || s === 'transplant' || s === 'temporal') ? await discoverSharedData(o.env) : undefined;
    const notes = [...(shared?.notes ?? [])];
    const transplants = o.sets.includes('transplant') && shared ? await transplantImages(await loadTransplantSpec(o.transplantsFile), shared.dir) : undefined;
    if (transplants) notes.push(transplants.note);
    for (const note of notes) o.log(note);
    const [firstSize] = o.sizes;

    const sets: SetResult[] = [];
    for (const [W, H] of o.sizes) {
      if (o.sets.includes('generated')) {
        const fgs = generatedForegrounds(W, H).slice(0, o.maxGenerated);
        o.log(`generated set ${W}x${H}: ${fgs.length} foregrounds x ${o.perturbations.length} perturbation classes`);
        sets.push(
          await runTruthSet(
            `generated-${W}x${H}`,
            'generated',
            fgs,
            variants.filter((v) => applies(v, 'generated')),
            o,
          ),
        );
      }
      if (o.sets.includes('disagree') && W === firstSize?.[0] && H === firstSize[1]) {
        // One size and the noise class: these scenes separate models, they do not stress capture.
        o.log(`disagreement set ${W}x${H}: camouflage, object, plate-person (noise class)`);
        const noise = o.perturbations.filter((p) => p.id === 'noise');
        sets.push(
          await runTruthSet(
            `disagree-${W}x${H}`,
            'disagree',
            disagreementScenes(W, H),
            variants.filter((v) => applies(v, 'disagree')),
            o,
            noise,
          ),
        );
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
        sets.push(
          await runTruthSet(
            `real-${W}x${H}`,
            'real',
            images,
            variants.filter((v) => applies(v, 'real')),
            o,
          ),
        );
      }
    }

    if (transplants && transplants.images.length > 0) {
      const { width, height } = transplants.images[0]!.plate;
      o.log(`transplant set ${width}x${height}: ${transplants.images.map((i) => i.name).join(', ')} (noise class)`);
      const noise = o.perturbations.filter((p) => p.id === 'noise');
      sets.push(
        await runTruthSet(
          `transplant-${width}x${height}`,
          'transplant',
          transplants.images,
          variants.filter((v) => applies(v, 'transplant')),
          o,
          noise,
        ),
      );
    }

    let temporal: QualityResults['temporal'] = null;
    if (o.sets.includes('temporal')) {
      o.log(`temporal: ${o.temporal.frames} frames ${o.temporal.width}x${o.temporal.height}, static subject, fresh sensor noise per frame, fixed plate`);
      const flicker = await measureFlicker(
        variants.filter((v) => applies(v, 'temporal')),
        o.temporal,
      );
      const real = await realStaticClip(shared, o.temporal);
      if (typeof real === 'string') o.log(real);
      const cases = [];
      for (const clip of [...(typeof real === 'string' ? [] : [real]), movingClip(o.temporal)]) {
        o.log(`temporal: ${clip.name}: ${clip.description}`);
        cases.push(
          await measureClip(
            variants.filter((v) => applies(v, 'temporal')),
            clip,
          ),
        );
      }
      temporal = { options: o.temporal, flicker: Object.fromEntries(flicker), cases };
    }

    const trimaps = o.sets.includes('pairs') && shared?.capturePairs.length ? await loadTrimapSpec(o.trimapsFile) : undefined;
    const capturePairs =
      o.sets.includes('pairs') && shared
        ? await runPairs(
            shared,
            variants.filter((v) => applies(v, 'pairs')),
            { outDir: o.outDir, trimaps, log: o.log },
          )
        : null;
    const kindOf = (kind: string) => variants.find((v) => v.kind === kind)?.name;
    const fused = kindOf('fused');
    const rvm = kindOf('rvm');
    const checks = qualityChecks({ sets, temporal, capturePairs }, { defaultModel, ...(fused ? { fused } : {}), ...(rvm ? { rvm } : {}) });

    const results: QualityResults = {
      version: 2,
      createdAt: new Date().toISOString(),
      command: o.command,
      options: { sizes: o.sizes.map(([w, h]) => [w, h]), sets: [...o.sets], perturbations: o.perturbations.map((p) => ({ id: p.id, description: p.description })) },
      models,
      defaultModel,
      sharedData: { dir: shared?.dir ?? null, notes },
      sets,
      temporal,
      capturePairs,
      checks,
      pass: checks.every((c) => c.pass),
    };
    const markdown = markdownReport(results, { perImage: true });
    await writeFile(path.join(o.outDir, 'results.json'), JSON.stringify(results, null, 1));
    await writeFile(path.join(o.outDir, 'results.md'), markdown);
    return { results, markdown: markdownReport(results, { perImage: false }) };
  } finally {
    for (const v of variants) await v.dispose?.();
  }
}
