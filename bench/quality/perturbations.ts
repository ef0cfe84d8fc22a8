// The perturbation classes of the quality bench: one row group each. Every class starts from a
// clean composite (frame = alpha F + (1 - alpha) plate) and adds light sensor noise to frame and
// plate independently (real captures always have some), then its own disturbance. Disturbances of
// the capture conditions go on the plate (it was shot at another moment), so the true foreground
// colour in the frame stays the ground truth; the shadow is in the frame (the subject casts it).
import type { Frame } from '../../src/engine/frame.js';
import { castShadow, composite, exposureWhiteBalance, h264RoundTrip, jpegRoundTrip, sensorNoise, shiftRotate, type Composite } from '../../src/eval/perturb.js';

export interface PerturbationClass {
  readonly id: string;
  /** What it does, for the report. */
  readonly description: string;
  /** Frame and plate for a clean composite; `seed` makes the noise differ per image. */
  apply(scene: Composite, seed: number): Promise<{ frame: Frame; plate: Frame }>;
}

/** The noise every class has: about what a good camera leaves after its own denoising. */
const BASE_NOISE = { read: 1, shot: 0.01 };
const STRONG_NOISE = { read: 3, shot: 0.06 };
/** The plate shot 0.2 stop darker and cooler than the frame. */
const DRIFT = { stops: -0.2, whiteBalance: [0.96, 1, 1.05] as const };
/** A tripod nudged: about a pixel and a half of shift and 0.15 degrees of roll. */
const NUDGE = { dx: 1.4, dy: -0.8, degrees: 0.15 };
const JPEG_QUALITY = 75;
const H264 = { crf: 26 };

/** Shadow geometry scales with the image: offset down-right, soft penumbra. */
function shadowFor(c: Composite) {
  const s = Math.min(c.plate.width, c.plate.height);
  return { dx: 0.09 * s, dy: 0.03 * s, blur: 0.03 * s, strength: 0.35 };
}

const noisy = (f: Frame, seed: number, noise = BASE_NOISE) => sensorNoise(f, { ...noise, seed });

export const PERTURBATIONS: readonly PerturbationClass[] = [
  {
    id: 'noise',
    description: `strong sensor noise in frame and plate (read ${STRONG_NOISE.read} levels, shot ${STRONG_NOISE.shot}/level: ~4 levels at mid-grey)`,
    apply: async (c, seed) => ({ frame: noisy(composite(c), seed, STRONG_NOISE), plate: noisy(c.plate, seed + 1, STRONG_NOISE) }),
  },
  {
    id: 'exposure-wb',
    description: `plate ${DRIFT.stops} stop and white balance x(${DRIFT.whiteBalance.join(', ')}) against the frame (linear light)`,
    apply: async (c, seed) => ({ frame: noisy(composite(c), seed), plate: noisy(exposureWhiteBalance(c.plate, DRIFT), seed + 1) }),
  },
  {
    id: 'shift-rotate',
    description: `plate shifted (${NUDGE.dx}, ${NUDGE.dy}) px and rotated ${NUDGE.degrees} deg (bilinear)`,
    apply: async (c, seed) => ({ frame: noisy(composite(c), seed), plate: noisy(shiftRotate(c.plate, NUDGE), seed + 1) }),
  },
  {
    id: 'jpeg',
    description: `frame and plate JPEG quality ${JPEG_QUALITY} (4:2:0)`,
    apply: async (c, seed) => ({
      frame: await jpegRoundTrip(noisy(composite(c), seed), JPEG_QUALITY),
      plate: await jpegRoundTrip(noisy(c.plate, seed + 1), JPEG_QUALITY),
    }),
  },
  {
    id: 'h264',
    description: `frame and plate through ffmpeg libx264 crf ${H264.crf}, yuv420p`,
    apply: async (c, seed) => {
      const [frame, plate] = await h264RoundTrip([noisy(composite(c), seed), noisy(c.plate, seed + 1)], H264);
      return { frame: frame!, plate: plate! };
    },
  },
  {
    id: 'shadow',
    description: 'soft shadow of the subject on the background in the frame (offset 9%/3% of the short side, blur 3%, 35% darker)',
    apply: async (c, seed) => ({ frame: noisy(castShadow(c, shadowFor(c)), seed), plate: noisy(c.plate, seed + 1) }),
  },
  {
    id: 'combined',
    description: 'all of a real capture at once: shadow, exposure/white-balance drift, shift/rotation, strong noise, H.264',
    apply: async (c, seed) => {
      const [frame, plate] = await h264RoundTrip(
        [noisy(castShadow(c, shadowFor(c)), seed, STRONG_NOISE), noisy(shiftRotate(exposureWhiteBalance(c.plate, DRIFT), NUDGE), seed + 1, STRONG_NOISE)],
        H264,
      );
      return { frame: frame!, plate: plate! };
    },
  },
];
