// OBS's screenshot ceiling per format for the live bench: shots/s with 1 and with 3 requests in
// flight (what the frame loop can get at most), the bytes of one shot, and what the engine then
// spends decoding it (sharp for jpg/png; ppm is raw rgb after a header: nothing to decode).
import type OBSWebSocket from 'obs-websocket-js';
import { decodeImage } from '../../src/engine/media/image.js';
import { dataUriBytes, type ScreenshotFormat } from '../../src/obs/frame-loop.js';
import { ppmPixels } from '../../src/obs/ppm.js';

/** The formats compared: the loop's three, plus bmp (OBS offers it; the engine does not read it). */
export type BenchFormat = ScreenshotFormat | 'bmp';

export interface FormatCase {
  readonly format: BenchFormat;
  /** imageCompressionQuality: jpg quality; for png Qt's 0-100 where 100 is the least compression (fastest). */
  readonly quality?: number;
}

export const caseName = (c: FormatCase): string => (c.quality === undefined ? c.format : `${c.format} q${c.quality}`);

export interface ShotRate {
  readonly perSecond: number;
  readonly medianMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? NaN;
}

function request(source: string, c: FormatCase, width: number, height: number): Record<string, string | number> {
  return { sourceName: source, imageFormat: c.format, imageWidth: width, imageHeight: height, ...(c.quality !== undefined ? { imageCompressionQuality: c.quality } : {}) };
}

/** Screenshots per second with `inFlight` requests outstanding for `ms`, and the median round trip. */
export async function shotRate(client: OBSWebSocket, source: string, c: FormatCase, width: number, height: number, inFlight: number, ms: number): Promise<ShotRate> {
  const times: number[] = [];
  const end = performance.now() + ms;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await client.call('GetSourceScreenshot', request(source, c, width, height) as never);
      times.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { perSecond: (times.length * 1000) / (performance.now() - started), medianMs: median(times) };
}

/** One shot's size and the engine-side decode time (median of `n`); NaN decode when the engine cannot read it. */
export async function decodeCost(client: OBSWebSocket, source: string, c: FormatCase, width: number, height: number, n = 5): Promise<{ bytes: number; decodeMs: number }> {
  const { imageData } = await client.call('GetSourceScreenshot', request(source, c, width, height) as never);
  const bytes = dataUriBytes(imageData as string);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if (c.format === 'ppm') ppmPixels(bytes);
    else if (c.format === 'bmp') return { bytes: bytes.byteLength, decodeMs: NaN };
    else await decodeImage(bytes);
    times.push(performance.now() - t0);
  }
  return { bytes: bytes.byteLength, decodeMs: median(times) };
}

/** The centre pixel of a ppm screenshot (the media-source probe reads colours with it). */
export async function centrePixel(client: OBSWebSocket, source: string): Promise<[number, number, number]> {
  const { imageData } = await client.call('GetSourceScreenshot', { sourceName: source, imageFormat: 'ppm', imageWidth: 16, imageHeight: 16 });
  const { pixels } = ppmPixels(dataUriBytes(imageData));
  const i = (8 * 16 + 8) * 3;
  return [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
}
