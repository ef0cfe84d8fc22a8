// Renders the aligned plate: exposure-matched (per-channel table) and warped onto the frame's
// pixel grid. Where the warp has no plate data (the plate did not see that strip of the scene),
// the frame's own pixels are copied in: frame and plate then agree there, so the model reads the
// uncovered border as background (alpha 0) instead of as a subject. The cost of that choice: a
// subject who walks into the uncovered border is not matted there; the share is reported.
import type { Frame } from '../frame.js';
import type { Homography } from './homography.js';
import { openCv, withMats } from './opencv.js';
import { photometricTable, type Photometric } from './photometric.js';

/**
 * The plate as the frame's camera would have seen it. `warp` maps plate pixels to frame pixels
 * (omit for no geometric change); `photometric` is applied before warping (both are linear, so
 * the order only matters where values clip).
 */
export async function renderAlignedPlate(plate: Frame, frame: Frame, warp: Homography | undefined, photometric: Photometric | undefined): Promise<Frame> {
  if (plate.width !== frame.width || plate.height !== frame.height || plate.channels !== frame.channels) {
    throw new Error('plate and frame must have the same size and channels');
  }
  const cv = await openCv();
  const { width, height, channels } = frame;
  const type = channels === 4 ? cv.CV_8UC4 : cv.CV_8UC3;
  return withMats(cv, 'plate warp', (keep) => {
    let src = keep(new cv.Mat(height, width, type));
    src.data.set(plate.data);
    if (photometric) {
      const lut = keep(new cv.Mat(1, 256, type));
      lut.data.set(photometricTable(photometric, channels));
      const matched = keep(new cv.Mat());
      cv.LUT(src, lut, matched);
      src = matched;
    }
    let out = src;
    if (warp) {
      // BORDER_TRANSPARENT leaves destination pixels without plate data untouched: start from the frame.
      out = keep(new cv.Mat(height, width, type));
      out.data.set(frame.data);
      const m = keep(cv.matFromArray(3, 3, cv.CV_64FC1, warp));
      cv.warpPerspective(src, out, m, new cv.Size(width, height), cv.INTER_LINEAR, cv.BORDER_TRANSPARENT);
    }
    return { data: out.data.slice(), width, height, channels };
  });
}
