// A clip job's frames cut into frame-exact segments for the farm. Every segment after the first
// of a recurrent model also decodes a few frames before its start to warm the model's state;
// those are run and discarded, so the seam does not start from an empty memory. The first
// segment starts cold, exactly as a local render does.
import type { FrameSpan } from '../media/frame-range.js';

export interface Segment {
  readonly index: number;
  /** Source frame index of the first frame written. */
  readonly first: number;
  readonly count: number;
  /** Frames before `first` run through the model but not written. */
  readonly warmUp: number;
}

export function planSegments(span: FrameSpan, segmentFrames: number, warmUpFrames: number): Segment[] {
  if (!Number.isInteger(segmentFrames) || segmentFrames < 1) throw new Error(`segment length must be a whole number of frames >= 1, got ${segmentFrames}`);
  if (!Number.isInteger(warmUpFrames) || warmUpFrames < 0) throw new Error(`warm-up must be a whole number of frames >= 0, got ${warmUpFrames}`);
  const n = Math.ceil(span.count / segmentFrames);
  // Even lengths (differing by at most one frame), so no tiny last segment waits on its own.
  const base = Math.floor(span.count / n);
  const extra = span.count % n;
  const segments: Segment[] = [];
  let first = span.first;
  for (let index = 0; index < n; index++) {
    const count = base + (index < extra ? 1 : 0);
    segments.push({ index, first, count, warmUp: Math.min(warmUpFrames, first - span.first) });
    first += count;
  }
  return segments;
}
