// Source time <-> frame indices with the stream's real (rational) frame rate. Frame i of a
// constant-rate stream is presented during [i * den/num, (i+1) * den/num) seconds after the
// first frame; a time belongs to the frame whose interval contains it. Ranges are half-open,
// like Premiere's in/out points: `out` is the end of the last frame shown.
import type { JobRange } from '../../shared/api.js';
import { MediaInputError } from './errors.js';

export interface Rational {
  readonly num: number;
  readonly den: number;
}

/**
 * Float noise allowance, in frames: Premiere sends times computed from ticks, so a frame start
 * like 374 * 1001/30000 may arrive as 12.47846666666 and must still select frame 374.
 */
const EPSILON_FRAMES = 1e-6;

/** "30000/1001" or "25" -> {num, den}; undefined for 0/0, negatives and junk. */
export function parseRational(text: string | undefined): Rational | undefined {
  if (!text) return undefined;
  const m = /^\s*(\d+)(?:\s*\/\s*(\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (!(num > 0) || !(den > 0)) return undefined;
  return { num, den };
}

export function formatRational(r: Rational): string {
  return `${r.num}/${r.den}`;
}

export function rationalValue(r: Rational): number {
  return r.num / r.den;
}

/** Index of the frame whose presentation interval contains `seconds` (>= 0). */
export function frameAt(seconds: number, rate: Rational): number {
  return Math.max(0, Math.floor((seconds * rate.num) / rate.den + EPSILON_FRAMES));
}

/** Presentation start of frame `index`, seconds after the first frame. */
export function frameStart(index: number, rate: Rational): number {
  return (index * rate.den) / rate.num;
}

/** Number of frames that start before `seconds`: the exclusive end index for an out point. */
export function framesBefore(seconds: number, rate: Rational): number {
  return Math.max(0, Math.ceil((seconds * rate.num) / rate.den - EPSILON_FRAMES));
}

/** Frames [first, first + count) of the stream. */
export interface FrameSpan {
  readonly first: number;
  readonly count: number;
}

/**
 * The frames a range selects, checked against the media's frame count. No range = every frame.
 * Errors say what the media holds so the caller can correct the request.
 */
export function resolveRange(range: JobRange | undefined, rate: Rational, frameCount: number): FrameSpan {
  const duration = frameStart(frameCount, rate);
  const holds = `the media has ${frameCount} frames (0-${frameCount - 1}, ${duration.toFixed(3)} s at ${formatRational(rate)} fps)`;
  if (!range) return { first: 0, count: frameCount };
  const unit = range.unit ?? 'seconds';
  if (!Number.isFinite(range.in) || !Number.isFinite(range.out)) throw new MediaInputError('bad_range', 'range in/out must be finite numbers');
  if (range.in < 0) throw new MediaInputError('bad_range', `range in (${range.in}) must not be negative`);
  if (range.out <= range.in) throw new MediaInputError('bad_range', `range out (${range.out}) must be after in (${range.in})`);
  let first: number;
  let end: number;
  if (unit === 'frames') {
    if (!Number.isInteger(range.in) || !Number.isInteger(range.out)) {
      throw new MediaInputError('bad_range', 'a range in frames needs whole frame numbers (out is exclusive)');
    }
    first = range.in;
    end = range.out;
  } else {
    first = frameAt(range.in, rate);
    end = framesBefore(range.out, rate);
  }
  if (first >= frameCount || end > frameCount) {
    const asked = unit === 'frames' ? `frames ${range.in}-${range.out - 1}` : `${range.in}-${range.out} s (frames ${first}-${end - 1})`;
    throw new MediaInputError('range_outside_media', `range ${asked} is outside the media: ${holds}`);
  }
  if (end <= first) throw new MediaInputError('bad_range', `range ${range.in}-${range.out} ${unit} selects no frame`);
  return { first, count: end - first };
}
