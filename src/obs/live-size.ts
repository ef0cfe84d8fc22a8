// The default live matte size: the largest width (from the source's own down to 320) at which
// the model, as measured on this machine, keeps up with a target frame rate. A matte at the
// source's full size gave about 2 fps at 1080p; smaller widths are scaled up to cover the source.

/** Matted frames per second the default size aims for. */
export const DEFAULT_TARGET_FPS = 15;
const WIDTHS = [1920, 1280, 960, 640, 480, 320];
/** Where the model is measured first; other widths are estimated from it (cost ~ pixels). */
const PROBE_WIDTH = 640;
/** Measurements at most per choice (each is a few model runs). */
const MAX_MEASURES = 3;

export interface LiveSizeChoice {
  readonly width: number;
  readonly height: number;
  readonly targetFps: number;
  /** Measured model time per frame at the chosen size, ms. */
  readonly msPerFrame: number;
}

/**
 * Picks the size: measures at 640 (or the source width, if smaller), estimates the other widths
 * by their pixel count, then measures the chosen one and steps down while it is too slow.
 */
export async function chooseLiveSize(
  source: { readonly width: number; readonly height: number },
  measure: (width: number, height: number) => Promise<number>,
  targetFps = DEFAULT_TARGET_FPS,
): Promise<LiveSizeChoice> {
  const heightFor = (w: number): number => Math.max(16, Math.round((source.height * w) / source.width));
  const widths = [...new Set([source.width, ...WIDTHS.filter((w) => w < source.width)])];
  const budget = 1000 / targetFps;
  const probe = Math.min(PROBE_WIDTH, source.width);
  const probeMs = await measure(probe, heightFor(probe));
  const estimate = (w: number): number => probeMs * ((w * heightFor(w)) / (probe * heightFor(probe)));
  let i = widths.findIndex((w) => estimate(w) <= budget);
  if (i < 0) i = widths.length - 1;
  let ms = widths[i] === probe ? probeMs : await measure(widths[i]!, heightFor(widths[i]!));
  for (let n = 2; ms > budget && i < widths.length - 1 && n < MAX_MEASURES + 1; n++) {
    i++;
    ms = widths[i] === probe ? probeMs : await measure(widths[i]!, heightFor(widths[i]!));
  }
  return { width: widths[i]!, height: heightFor(widths[i]!), targetFps, msPerFrame: ms };
}
