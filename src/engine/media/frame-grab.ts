// One frame from a file on disk, for plates: the frame of a video whose presentation interval
// contains `timeSeconds` (source time, 0 = the first frame), or a still image as it displays.
import { readFile } from 'node:fs/promises';
import type { Frame } from '../frame.js';
import { decodeFrameAt } from './decode.js';
import { MediaInputError } from './errors.js';
import type { MediaTools } from './ffmpeg-locate.js';
import { formatRational, frameAt } from './frame-range.js';
import { decodeImage } from './image.js';
import { probeMedia } from './probe.js';

export interface GrabbedFrame {
  readonly frame: Frame;
  /** Index of the frame taken (0 for a still image). */
  readonly frameIndex: number;
  readonly isStillImage: boolean;
}

export async function grabFrame(tools: MediaTools, file: string, timeSeconds = 0, signal?: AbortSignal): Promise<GrabbedFrame> {
  if (!Number.isFinite(timeSeconds) || timeSeconds < 0) throw new MediaInputError('bad_range', `timeSeconds must be a number >= 0, got ${timeSeconds}`);
  const info = await probeMedia(tools, file, signal);
  if (info.isStillImage) {
    // Stills go through the same decoder as uploaded plates (EXIF orientation, size caps).
    return { frame: await decodeImage(await readFile(file), file), frameIndex: 0, isStillImage: true };
  }
  const index = frameAt(timeSeconds, info.frameRate);
  if (index >= info.frameCount) {
    throw new MediaInputError(
      'range_outside_media',
      `time ${timeSeconds} s is past the end of ${file} (${info.frameCount} frames at ${formatRational(info.frameRate)} fps, last frame starts at ${(((info.frameCount - 1) * info.frameRate.den) / info.frameRate.num).toFixed(3)} s)`,
    );
  }
  return { frame: await decodeFrameAt(tools, info, index, signal), frameIndex: index, isStillImage: false };
}
