// The benches' moving-subject clip: a red 420x640 block moved over a still plate by an ffmpeg
// overlay expression (and whatever filters follow it), encoded as h264 that decodes fast.
import { runTool } from '../src/engine/media/process.js';

export interface RedBlockClip {
  readonly plate: string;
  readonly out: string;
  /** Frame rate, as ffmpeg reads it ("30", "30000/1001"). */
  readonly rate: string;
  readonly seconds: number;
  /** The filter graph from the plate [0] and the block [1], e.g. an overlay with a moving x. */
  readonly filter: string;
}

export async function encodeRedBlockClip(ffmpegPath: string, clip: RedBlockClip): Promise<void> {
  // prettier-ignore
  await runTool(ffmpegPath, [
    '-v', 'error',
    '-loop', '1', '-framerate', clip.rate, '-i', clip.plate,
    '-f', 'lavfi', '-i', `color=c=0xd02030:s=420x640:r=${clip.rate}`,
    '-filter_complex', clip.filter,
    '-t', String(clip.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', '-pix_fmt', 'yuv420p',
    '-y', clip.out,
  ]);
}
