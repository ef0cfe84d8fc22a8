// Plate alignment for one still, clip job or live session: decides per frame whether to reuse
// the current aligned plate (the same object, so the model's per-plate preparation is reused),
// refresh only the exposure match, or estimate the camera motion again; keeps the report.
import { ALIGN_MODES, type AlignMode, type AlignReport } from '../../shared/api.js';
import type { Frame } from '../frame.js';
import { estimateHomography, type EstimateOptions } from './estimate.js';
import { maxDisplacement, meanCornerShift, IDENTITY, uncoveredFraction, type Homography } from './homography.js';
import { fitPhotometric, isNoticeable, type Photometric } from './photometric.js';
import { buildProbe, checkStatic, type Probe } from './static-check.js';
import { WarpSmoother } from './smoothing.js';
import { renderAlignedPlate } from './warp.js';

export interface AlignerOptions {
  readonly mode: AlignMode;
  /** Frames of one shot in order (clip jobs, live): smooth warps over time. Default false (a still). */
  readonly video?: boolean;
  readonly estimate?: EstimateOptions;
}

export function isAlignMode(value: unknown): value is AlignMode {
  return typeof value === 'string' && (ALIGN_MODES as readonly string[]).includes(value);
}

/** A warp that moves no corner further than this only blurs the plate by resampling it. */
const MIN_WARP_PX = 0.35;

/** Probes of plates, built once per plate buffer. */
const plateProbes = new WeakMap<Uint8Array, Probe>();

function plateProbe(plate: Frame): Probe {
  let probe = plateProbes.get(plate.data);
  if (!probe) {
    probe = buildProbe(plate);
    plateProbes.set(plate.data, probe);
  }
  return probe;
}

export class PlateAligner {
  private current: Frame;
  private warp: Homography | undefined;
  private photometric: Photometric | undefined;
  private exposureFitted = false;
  private uncovered = 0;
  /** What the static check compares new frames with: the plate, then the frame of the last update. */
  private probe: Probe | undefined;
  private readonly smoother: WarpSmoother | undefined;
  /** The last frame's raw estimate in a video: the next frame tracks from it. */
  private lastEstimate: Homography | undefined;
  private readonly warnings = new Set<string>();
  private frames = 0;
  private estimated = 0;
  private warped = 0;
  private aligned = 0;
  private exposureMatched = 0;
  private shiftSum = 0;
  private shiftMax = 0;
  private maxUncovered = 0;
  private ms = 0;

  constructor(
    readonly plate: Frame,
    private readonly options: AlignerOptions,
  ) {
    this.current = plate;
    this.smoother = options.video ? new WarpSmoother(plate.width, plate.height) : undefined;
  }

  get mode(): AlignMode {
    return this.options.mode;
  }

  /** The plate to matte `frame` with. With mode off, always the plate given. */
  async plateFor(frame: Frame): Promise<Frame> {
    this.frames++;
    if (this.options.mode === 'off') return this.plate;
    // A plate of another size or layout is the model's to refuse, with its own clear error.
    if (frame.width !== this.plate.width || frame.height !== this.plate.height || frame.channels !== this.plate.channels) return this.plate;
    const started = performance.now();
    try {
      await this.update(frame);
    } finally {
      this.ms += performance.now() - started;
    }
    if (this.warp) {
      this.warped++;
      const shift = meanCornerShift(this.warp, frame.width, frame.height);
      this.shiftSum += shift;
      this.shiftMax = Math.max(this.shiftMax, shift);
      this.maxUncovered = Math.max(this.maxUncovered, this.uncovered);
    }
    if (this.photometric) this.exposureMatched++;
    if (this.warp || this.photometric) this.aligned++;
    return this.current;
  }

  private async update(frame: Frame): Promise<void> {
    // Whether the exposure may differ from what the current gain/offset was fitted for.
    let exposureChanged = true;
    if (this.options.mode === 'auto') {
      const check = checkStatic(this.probe ?? plateProbe(this.plate), frame);
      if (!check.moved && !check.exposureChanged) return;
      if (!check.moved) {
        // Same geometry, new exposure: refit the gain/offset only.
        await this.apply(frame, this.warp);
        return;
      }
      exposureChanged = check.exposureChanged || !this.exposureFitted;
    }
    this.estimated++;
    const prior = this.options.video ? this.lastEstimate : undefined;
    const estimate = await estimateHomography(this.plate, frame, { ...this.options.estimate, ...(prior ? { prior } : {}) });
    this.lastEstimate = estimate.ok ? estimate.warp : undefined;
    if (!estimate.ok) {
      this.warnings.add(`${estimate.reason}: the plate was used as given`);
      this.smoother?.reset();
      // A video keeps its last good alignment (a passing occlusion, a blurred frame); otherwise
      // the plate is used as given rather than fitted to a frame it does not show.
      if (!this.options.video || this.current === this.plate) {
        this.warp = undefined;
        this.photometric = undefined;
        this.exposureFitted = false;
        this.uncovered = 0;
        this.current = this.plate;
      }
      this.probe = buildProbe(frame);
      return;
    }
    let warp: Homography | undefined = this.smoother ? this.smoother.next(estimate.warp) : estimate.warp;
    if (maxDisplacement(warp, IDENTITY, frame.width, frame.height) <= MIN_WARP_PX) warp = undefined;
    await this.apply(frame, warp, exposureChanged);
  }

  /**
   * Fits the exposure match under `warp` (or keeps the current one when the exposure did not
   * change: a moving camera rarely changes it), renders the aligned plate, and makes `frame` the
   * static check's reference.
   */
  private async apply(frame: Frame, warp: Homography | undefined, refitExposure = true): Promise<void> {
    let photometric = this.photometric;
    if (refitExposure) {
      const fit = fitPhotometric(this.plate, frame, warp);
      if (!fit.ok) this.warnings.add(`${fit.reason}: exposure not matched`);
      photometric = fit.ok && isNoticeable(fit.photometric) ? fit.photometric : undefined;
      this.exposureFitted = fit.ok;
    }
    this.warp = warp;
    this.photometric = photometric;
    this.uncovered = warp ? uncoveredFraction(warp, frame.width, frame.height) : 0;
    this.current = warp || photometric ? await renderAlignedPlate(this.plate, frame, warp, photometric) : this.plate;
    this.probe = buildProbe(frame);
  }

  report(): AlignReport {
    const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
    const ph = this.photometric;
    return {
      mode: this.options.mode,
      frames: this.frames,
      framesEstimated: this.estimated,
      framesAligned: this.aligned,
      framesWarped: this.warped,
      framesExposureMatched: this.exposureMatched,
      meanShiftPx: this.warped > 0 ? round(this.shiftSum / this.warped, 2) : 0,
      maxShiftPx: round(this.shiftMax, 2),
      maxUncoveredFraction: round(this.maxUncovered, 4),
      ...(ph
        ? {
            gain: ph.gain.map((g) => round(g, 4)) as unknown as [number, number, number],
            offset: ph.offset.map((o) => round(o, 2)) as unknown as [number, number, number],
          }
        : {}),
      ms: round(this.ms, 1),
      warnings: [...this.warnings],
    };
  }
}
