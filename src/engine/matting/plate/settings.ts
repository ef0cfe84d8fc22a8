// The `plate` model's settings (all optional in a manifest entry's `settings`) and the
// low-resolution factor they imply.

export interface PlateSettings {
  /** Low-resolution factor; 0 = pick from the frame width (coarse pass about 480 px wide). */
  readonly downsample: number;
  /** Coarse alpha ramps from 0 at `zLow` to 1 at `zHigh` noise standard deviations of difference. */
  readonly zLow: number;
  readonly zHigh: number;
  /** Below `zGate` sigmas a difference counts as noise (alpha 0). */
  readonly zGate: number;
  /** Window radius (low-resolution pixels) of the plate-texture regression for semi-transparency. */
  readonly textureRadius: number;
  /** The regression counts from R^2 = first to full weight at R^2 = second. */
  readonly textureR2: readonly [number, number];
  /** Regulariser of that regression (summed plate variance): little texture means "opaque". */
  readonly textureReg: number;
  /** Radius (low-resolution pixels) over which the subject's contrast against the plate is measured. */
  readonly contrastRadius: number;
  /** Reach (fraction of the frame width) within which subject on all four sides makes a patch that
   * matches the plate a hole in the subject (camouflage) rather than background. */
  readonly enclosedReach: number;
  /** ...and where the frame's pixels differ from the plate's by this many times (none at the
   * first, full at the second) the mean pixel difference on background. */
  readonly textureMismatch: readonly [number, number];
  /** Full-resolution pixels beyond which a subject's edge is assumed to end (wider soft edges are
   * still found where the difference itself says so). */
  readonly edgeWidth: number;
  /** Guide smoothing ramps in between these noise levels (8-bit levels per channel of frame - plate). */
  readonly guideNoise: readonly [number, number];
  /** Decide on the distance of the frame from the nearest of the plate's 3x3 low-resolution
   * neighbours (tolerates a plate off by about a low-resolution pixel). */
  readonly jitterTolerant: boolean;
  /** Treat darkening that keeps the plate's colour (a cast shadow) as background. */
  readonly shadows: boolean;
  /** Darkest shadow accepted, as a brightness factor of the plate. */
  readonly shadowDepth: number;
  /** Radius (low-resolution pixels) over which one brightness factor must explain a shadow. */
  readonly shadowWindow: number;
  /** Lower bound of the per-channel noise level (0..1 units) at low resolution. */
  readonly noiseFloor: number;
  /** Guided-filter window radius in low-resolution pixels, and its regulariser. */
  readonly radius: number;
  readonly eps: number;
  /** Morphological closing radius (low-resolution pixels) that fills small holes in the subject. */
  readonly closeRadius: number;
  /** Foreground is recovered where alpha >= this; below, (1-a)/a is capped (the colour is irrelevant). */
  readonly minAlphaForeground: number;
  /** Along the rim of the solid interior, raise alpha to the compositing equation's projection
   * of I - B onto F - B, F the solid interior's colour nearby (hard edges of textured subjects). */
  readonly hardEdges: boolean;
  /** Low-resolution pixels beyond the interior that the projection reaches. */
  readonly hardReach: number;
  /** The projection counts fully where the frame's distance from the line B-F (squared, over
   * |F - B|^2) is below the first, not at all above the second. */
  readonly hardFit: readonly [number, number];
  /** The projection counts from |F - B| of the first to fully the second noise standard deviations:
   * its per-pixel noise is about 1 / that many, and below ~8 it flickers from frame to frame. */
  readonly hardContrast: readonly [number, number];
}

/** The full-resolution difference carries the exposure gain in steps of 1/GAIN_SCALE (uint8 weights
 * around a zero point of 128 allow gains up to 128/GAIN_SCALE). */
export const GAIN_SCALE = 80;
export const GAIN_MAX = 128 / GAIN_SCALE;

export const defaultPlateSettings: PlateSettings = {
  downsample: 0,
  zGate: 2,
  zLow: 4,
  zHigh: 8,
  textureRadius: 8,
  textureR2: [0.3, 0.7],
  textureReg: 5e-5,
  contrastRadius: 4,
  enclosedReach: 0.04,
  textureMismatch: [1.5, 2.5],
  edgeWidth: 8,
  guideNoise: [3, 6],
  jitterTolerant: true,
  shadows: true,
  shadowDepth: 0.3,
  shadowWindow: 1,
  noiseFloor: 1.5 / 255,
  radius: 2,
  eps: 2e-4,
  closeRadius: 2,
  minAlphaForeground: 0.1,
  hardEdges: true,
  hardReach: 4,
  hardFit: [0.05, 0.2],
  hardContrast: [7, 12],
};

/** The low-resolution factor: a power of two that brings the width to at most 512. */
export function downsampleFactor(width: number, settings: PlateSettings = defaultPlateSettings): number {
  if (settings.downsample > 0) return settings.downsample;
  let k = 1;
  while (width / k > 512) k *= 2;
  return k;
}
