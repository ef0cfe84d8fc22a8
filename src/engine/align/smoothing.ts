// Temporal smoothing of per-frame warps. Estimates of a still camera wobble by a few tenths of a
// pixel from frame to frame, which would make the plate (and the matte's edges) shimmer; a
// moving hand-held camera really moves by many pixels. So: where every corner of the new warp
// lies within `jitterPx` of the smoothed one, blend towards it; otherwise follow at once (a
// blend there would lag the camera and misalign the plate).
import { apply, fromCorrespondences, imageCorners, type Homography } from './homography.js';

export class WarpSmoother {
  private corners: [number, number][] | undefined;
  private readonly source: [number, number][];

  constructor(
    width: number,
    height: number,
    private readonly jitterPx = 1,
    private readonly blend = 0.5,
  ) {
    this.source = imageCorners(width, height);
  }

  next(warp: Homography): Homography {
    const seen = this.source.map(([x, y]) => apply(warp, x, y));
    const prev = this.corners;
    if (!prev || seen.some(([x, y], i) => Math.hypot(x - prev[i]![0], y - prev[i]![1]) > this.jitterPx)) {
      this.corners = seen;
      return warp;
    }
    const smoothed = seen.map(([x, y], i): [number, number] => [prev[i]![0] + this.blend * (x - prev[i]![0]), prev[i]![1] + this.blend * (y - prev[i]![1])]);
    const h = fromCorrespondences(this.source, smoothed);
    if (!h) {
      this.corners = seen;
      return warp;
    }
    this.corners = smoothed;
    return h;
  }

  /** Forget the history (after a failed estimate: the next warp starts afresh). */
  reset(): void {
    this.corners = undefined;
  }
}
