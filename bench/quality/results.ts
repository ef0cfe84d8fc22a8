// The shape of bench-results/quality/results.json (also what the Markdown report is made from).
import type { ClipScores, TemporalOptions } from './temporal.js';

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
  /** Wall time of the model's run, ms. */
  readonly ms: number;
}

export interface ImageResult {
  readonly image: string;
  readonly perturbation: string;
  /** The naive key's oracle threshold on this image (levels). */
  readonly oracleThreshold: number;
  readonly scores: Record<string, Scores>;
}

export interface SetResult {
  readonly id: string;
  readonly kind: 'generated' | 'real';
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
  /** Per model: fraction of pixels with alpha >= 0.5, and run time. */
  readonly models: Record<string, { coverage: number; ms: number; alphaFile: string }>;
}

export interface Check {
  readonly what: 'sad' | 'flicker';
  readonly set: string;
  readonly perturbation?: string;
  readonly plate: number;
  readonly naive: number;
  readonly ratio: number;
  readonly target: number;
  readonly pass: boolean;
}

export interface ModelEntry {
  readonly name: string;
  readonly available: boolean;
  readonly description?: string;
  readonly reason?: string;
}

export interface QualityResults {
  readonly version: 1;
  readonly createdAt: string;
  readonly command: string;
  readonly options: { readonly sizes: [number, number][]; readonly sets: string[]; readonly perturbations: { id: string; description: string }[] };
  readonly models: ModelEntry[];
  readonly sharedData: { readonly dir: string | null; readonly notes: string[] };
  readonly sets: SetResult[];
  readonly temporal: { readonly options: TemporalOptions; readonly flicker: Record<string, ClipScores> } | null;
  readonly capturePairs: { readonly images: PairResult[]; readonly contactSheet: string } | null;
  readonly checks: Check[];
}
