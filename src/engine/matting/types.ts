// The one interface every matting model implements. Callers (http routes, jobs, live sessions,
// the CLI) see 8-bit frames only, never tensors; the tensor work lives inside the ONNX graphs.
import type { ModelKind, ProviderFallback } from '../../shared/api.js';
import type { Frame, Plane } from '../frame.js';

/**
 * The memory a recurrent model (rvm) carries from one frame to the next of the same clip or live
 * stream. The caller owns it: one per clip job or live session (several can share one model
 * session), `reset()` on a seek or a cut. Models without memory ignore it; a frame run without
 * one is matted on its own.
 */
export class FrameSequence {
  /** Model-specific state; only the model that wrote it reads it. */
  state: unknown;

  reset(): void {
    this.state = undefined;
  }
}

/** What the caller wants computed: skipping the foreground makes alpha-only work (luma mattes) cheaper. */
export interface RunOptions {
  readonly foreground?: boolean;
  /** Consecutive frames of one clip or stream (see FrameSequence). */
  readonly sequence?: FrameSequence;
  /** For models that run a downsampled pass (rvm): its scale, overriding the model's own choice. */
  readonly downsampleRatio?: number;
}

export interface MatteResult {
  /** Alpha, width x height, 0 = background, 255 = subject. */
  readonly alpha: Plane;
  /** Straight (unpremultiplied) RGBA foreground at full resolution; absent when not requested. */
  readonly foreground?: Frame;
  /** Where the model is unsure (0 = confident), possibly at a lower resolution than the frame. */
  readonly error?: Plane;
}

/** An open model: create, run many times, dispose. Not safe for concurrent `run` calls. */
export interface MattingSession {
  readonly modelId: string;
  readonly kind: ModelKind;
  /** True when `run` needs a background plate. */
  readonly needsPlate: boolean;
  /** The onnxruntime execution provider the model actually runs on ("cpu", "cuda", ...). */
  readonly provider: string;
  /** Providers tried before the one in use, and why each failed (for /v1/health). */
  readonly fallbacks: readonly ProviderFallback[];
  /** Optional warm-up: compile for a frame size before the first frame arrives. */
  prepare?(width: number, height: number): Promise<void>;
  run(src: Frame, bgr?: Frame, options?: RunOptions): Promise<MatteResult>;
  dispose(): Promise<void>;
}
