// The "models" the quality bench compares: anything that turns a frame and its plate into alpha.
// Installed engine models come from the ModelRegistry; the naive difference key is the baseline;
// extra variants (e.g. a model with and without plate alignment) plug in through extra-variants.ts.
import type { ModelRegistry } from '../../src/engine/matting/registry.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import type { Frame, Plane } from '../../src/engine/frame.js';
import { naiveKey, oracleNaiveKey } from '../../src/eval/metrics.js';

/** The data sets of the bench: generated foregrounds with ground truth (and generated scenes where
 * plate and a person prior disagree), real foregrounds and transplanted real textures with ground
 * truth, real capture pairs with drawn trimaps, and the generated clip for temporal stability. */
export type BenchSet = 'generated' | 'disagree' | 'real' | 'transplant' | 'pairs' | 'temporal';

export interface VariantOutput {
  readonly alpha: Plane;
  /** The model's foreground colour (RGB or straight RGBA), scored where true alpha > 0. */
  readonly foreground?: Frame;
}

export interface ModelVariant {
  /** Column and row name in every table and contact sheet; unique. */
  readonly name: string;
  /** One line for the report: what this variant is. */
  readonly description?: string;
  /** The engine model kind behind it (plate, rvm, fused, ...); absent for baselines and extras. */
  readonly kind?: string;
  /** Limits the variant to some sets (default: all). */
  readonly sets?: readonly BenchSet[];
  /**
   * Alpha for a frame and its plate. `truth` (0..1) is given where the set has ground truth:
   * only an oracle baseline may look at it.
   */
  run(frame: Frame, plate: Frame, truth?: Float32Array): Promise<VariantOutput>;
  /** For a clip: the variant to use on every frame, set up from the first (default: itself). It
   * shares this variant's resources and is not disposed on its own. */
  forClip?(first: { frame: Frame; plate: Frame; truth: Float32Array }): ModelVariant;
  dispose?(): Promise<void>;
}

/** A model the bench would run but cannot here; its rows say why. */
export interface MissingVariant {
  readonly name: string;
  readonly reason: string;
}

/** Makes an extra variant, given the engine's models (open sessions with `registry.open(id)`). */
export type VariantFactory = (registry: ModelRegistry) => Promise<ModelVariant>;

export const NAIVE = 'naive (oracle t)';

/** Threshold (levels of max channel difference) the naive key uses where there is no ground truth. */
export const NAIVE_FALLBACK_THRESHOLD = 25;

/**
 * The naive difference key. With ground truth it takes the threshold that minimises that image's
 * SAD (an oracle no real user has); without, a fixed threshold. Its "foreground" is the frame
 * itself: a hard key cuts out the frame's own pixels.
 */
export function naiveVariant(fixedThreshold?: number): ModelVariant {
  const name = fixedThreshold === undefined ? NAIVE : `naive (t=${fixedThreshold})`;
  return {
    name,
    description:
      fixedThreshold === undefined
        ? `max channel |frame - plate| > t, t chosen per image to minimise SAD against the ground truth (t=${NAIVE_FALLBACK_THRESHOLD} without ground truth)`
        : `max channel |frame - plate| > ${fixedThreshold}`,
    async run(frame, plate, truth) {
      const alpha = fixedThreshold === undefined && truth ? oracleNaiveKey(frame, plate, truth).alpha : naiveKey(frame, plate, fixedThreshold ?? NAIVE_FALLBACK_THRESHOLD);
      return { alpha, foreground: frame };
    },
    forClip(first) {
      // One threshold for the whole clip: a key is set once, not re-tuned per frame.
      const t = fixedThreshold ?? oracleNaiveKey(first.frame, first.plate, first.truth).threshold;
      return { ...naiveVariant(t), name };
    },
  };
}

/**
 * An engine MattingSession as a variant (alpha and foreground requested). Stills are matted on
 * their own; a clip's frames share one FrameSequence, so recurrent models (rvm) carry their state.
 */
export function sessionVariant(name: string, session: MattingSession, description?: string, sequence?: FrameSequence): ModelVariant {
  return {
    name,
    kind: session.kind,
    ...(description ? { description } : {}),
    async run(frame, plate) {
      const r = await session.run(frame, session.needsPlate ? plate : undefined, { foreground: true, ...(sequence ? { sequence } : {}) });
      return { alpha: r.alpha, ...(r.foreground ? { foreground: r.foreground } : {}) };
    },
    forClip: () => sessionVariant(name, session, description, new FrameSequence()),
    dispose: () => session.dispose(),
  };
}

/** Models the bench asks for, whether installed or not (ids or kinds): a missing one gets a row
 * saying why. Any other installed model is run too. */
export const WANTED_MODELS: readonly string[] = ['plate', 'bgmv2', 'rvm', 'fused'];

/**
 * The registry's models that the bench compares: open sessions for the wanted ones that are
 * available, then for every other available model of the manifest (by id; the presets of a logical
 * model, such as bgmv2's, are left to it). `only` limits the bench to the wanted list.
 */
export async function registryVariants(registry: ModelRegistry, wanted: readonly string[] = WANTED_MODELS, only = false): Promise<{ variants: ModelVariant[]; missing: MissingVariant[] }> {
  const listed = registry.list();
  const variants: ModelVariant[] = [];
  const missing: MissingVariant[] = [];
  const open = async (id: string) => {
    const info = listed.find((m) => m.id === id)!;
    const session = await registry.open(id);
    variants.push(sessionVariant(id, session, `${info.kind} model "${id}" via ModelRegistry (${session.provider})`));
  };
  const presets = new Set(listed.flatMap((m) => registry.entry(m.id)?.variants ?? []));
  for (const id of wanted) {
    // The entry of that id, else any entry of that kind; an available one first.
    const candidates = [...listed.filter((m) => m.id === id), ...listed.filter((m) => m.kind === id && m.id !== id)];
    const info = candidates.find((m) => m.available) ?? candidates[0];
    if (!info) {
      missing.push({ name: id, reason: `not installed (no "${id}" entry in models/manifest.json)` });
    } else if (!info.available) {
      missing.push({ name: info.id, reason: `not installed: ${info.unavailableReason ?? 'unavailable'}` });
    } else if (!variants.some((v) => v.name === info.id)) {
      await open(info.id);
    }
  }
  if (!only) for (const m of listed.filter((m) => m.available && !presets.has(m.id) && !variants.some((v) => v.name === m.id))) await open(m.id);
  return { variants, missing };
}
