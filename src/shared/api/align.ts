// Plate alignment (stills, clip jobs, live sessions; models that take a plate).
//
// A hand-held or nudged camera, focus breathing or auto-exposure leave the plate off the frame
// by pixels and levels. Before the model runs, the engine can warp the plate onto the frame (a
// homography from feature matches on the background) and match its exposure (per-channel gain
// and offset); the strip of frame the warped plate does not cover is filled from the frame itself,
// so it mattes as background.
import * as v from 'valibot';
import { record } from './check.js';

/**
 * auto: a cheap check per frame; align only when the camera moved or the exposure changed (a
 * tripod clip pays almost nothing). on: estimate on every frame. off: use the plate as given.
 */
export const ALIGN_MODES = ['auto', 'off', 'on'] as const;
export type AlignMode = (typeof ALIGN_MODES)[number];
export const DEFAULT_ALIGN_MODE: AlignMode = 'auto';

/** An optional AlignMode field; the message quotes `field`. */
export const alignModeSchema = (field: string) => v.optional(v.picklist(ALIGN_MODES, (i) => `${field} must be one of ${ALIGN_MODES.join(', ')}; got ${JSON.stringify(i.input)}`));

const rgb = v.pipe(v.tuple([v.number(), v.number(), v.number()]), v.readonly());

/** What alignment did over a still, a job or a live session. */
export const AlignReportSchema = record({
  mode: v.picklist(ALIGN_MODES),
  /** Frames seen. */
  frames: v.number(),
  /** Frames on which the camera motion was estimated (the costly step; auto skips it when nothing moved). */
  framesEstimated: v.number(),
  /** Frames matted with a changed plate (warped and/or exposure-matched). */
  framesAligned: v.number(),
  framesWarped: v.number(),
  framesExposureMatched: v.number(),
  /** Mean over warped frames of the plate's mean corner shift, pixels (0 when none was warped). */
  meanShiftPx: v.number(),
  maxShiftPx: v.number(),
  /** Largest share of the frame the warped plate left uncovered (filled from the frame: mattes as background). */
  maxUncoveredFraction: v.number(),
  /** The last exposure match applied (frame = gain * plate + offset, 8-bit levels), per channel R, G, B. */
  gain: v.optional(rgb),
  offset: v.optional(rgb),
  /** Milliseconds spent aligning, all frames together. */
  ms: v.number(),
  /** E.g. the frame and the plate have nothing in common: the plate was used as given. Deduplicated. */
  warnings: v.array(v.string()),
});
export type AlignReport = v.InferOutput<typeof AlignReportSchema>;
