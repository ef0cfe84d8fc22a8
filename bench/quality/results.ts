// The shape of bench-results/quality/results.json (also what the Markdown report is made from).
import type { Check } from './checks.js';
import type { SubjectKind } from './disagree.js';
import type { ClipScores, TemporalOptions } from './temporal.js';
import type { CaseResult } from './temporal-cases.js';
import type { TrimapScores } from './trimaps.js';

/** The BGMv2 paper's metrics for one alpha (and foreground) against the ground truth. */
export interface Scores {
  /** Sum of absolute alpha differences, /1000. */
  readonly sad: number;
  /** Mean squared alpha error, x1e3. */
  readonly mse: number;
  /** Gradient error (Gaussian-derivative magnitudes, sigma 1.4), /1000. */
  readonly grad: number;
  /** Connectivity error (threshold step 0.1), /1000. */
  readonly conn: number;
  /** Foreground colour MSE where true alpha > 0, x1e3; null when the model gives no foreground. */
  readonly fgrMse: number | null;
  /** Mean alpha (0..1) where the true alpha is 1 (the subject's interior); null when there is none. */
  readonly interior: number | null;
  /** Mean alpha (0..1) where the true alpha is 0 (the background). */
  readonly background: number | null;
  /** Wall time of the model's run, ms. */
  readonly ms: number;
}

export interface ImageResult {
  readonly image: string;
  readonly perturbation: string;
  /** The naive key's oracle threshold on this image (levels). */
  readonly oracleThreshold: number;
  /** Generated disagreement scenes: whether a person model applies to the subject. */
  readonly subject?: SubjectKind;
  readonly scores: Record<string, Scores>;
}

export interface SetResult {
  readonly id: string;
  readonly kind: 'generated' | 'disagree' | 'real' | 'transplant';
  readonly width: number;
  readonly height: number;
  readonly images: ImageResult[];
  /** Per perturbation class, per model: the mean of each score over the class's images (ms: median). */
  readonly summary: Record<string, Record<string, Scores & { n: number }>>;
  readonly contactSheet: string;
}

export interface PairResult {
  readonly name: string;
  readonly frame: string;
  readonly plate: string;
  readonly width: number;
  readonly height: number;
  readonly note?: string;
  /** Whether the plate was aligned to the frame first (hand-held pairs: on). */
  readonly align: string;
  /** Whether a drawn trimap scored this frame (else why not). */
  readonly trimap: { readonly scored: true } | { readonly scored: false; readonly reason: string };
  /** Per model: fraction of pixels with alpha >= 0.5, run time, and the trimap scores. */
  readonly models: Record<string, { coverage: number; ms: number; alphaFile: string; trimap?: TrimapScores }>;
}

export interface ModelEntry {
  readonly name: string;
  readonly available: boolean;
  readonly description?: string;
  readonly reason?: string;
}

export interface QualityResults {
  readonly version: 2;
  readonly createdAt: string;
  readonly command: string;
  readonly options: { readonly sizes: [number, number][]; readonly sets: string[]; readonly perturbations: { id: string; description: string }[] };
  readonly models: ModelEntry[];
  /** The engine's default model (the one the "Must show" checks are about). */
  readonly defaultModel: string;
  readonly sharedData: { readonly dir: string | null; readonly notes: string[] };
  readonly sets: SetResult[];
  /** The generated static clip (`flicker`) and the further clips (real static, moving; temporal-cases.ts). */
  readonly temporal: { readonly options: TemporalOptions; readonly flicker: Record<string, ClipScores>; readonly cases?: CaseResult[] } | null;
  readonly capturePairs: { readonly images: PairResult[]; readonly contactSheet: string } | null;
  readonly checks: Check[];
  /** Every check passed. */
  readonly pass: boolean;
}
