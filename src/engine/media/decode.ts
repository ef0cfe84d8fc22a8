// ffmpeg -> exactly the frames [first, first + count) of a clip as rgb24 Frames on a pipe.
// Input `-ss` seeking is frame-accurate when decoding (ffmpeg decodes from the keyframe before
// and drops frames whose timestamp is earlier); seeking a quarter frame before the first
// frame's start keeps timestamp rounding from dropping it. `-frames:v` stops after the last
// one, and the count actually delivered is checked: a short read is an error, never a result.
import type { Frame } from '../frame.js';
import { MediaInputError } from './errors.js';
import type { MediaTools } from './ffmpeg-locate.js';
import { frameStart, type FrameSpan } from './frame-range.js';
import { DEFAULT_STALL_MS, spawnTool, ToolTimeoutError } from './process.js';
import type { VideoInfo } from './probe.js';

export interface DecodeOptions {
  readonly signal?: AbortSignal;
  /** Stall deadline (default DEFAULT_STALL_MS): ffmpeg sending no bytes this long while the engine waits is killed. */
  readonly stallMs?: number;
}

/** The ffmpeg arguments that decode `span` of `info` as raw rgb24 on stdout. */
export function decodeArgs(info: VideoInfo, span: FrameSpan): string[] {
  const args = ['-hide_banner', '-nostdin', '-v', 'error'];
  if (span.first > 0) {
    const seek = info.startTime - info.formatStartTime + frameStart(span.first - 0.25, info.frameRate);
    args.push('-ss', Math.max(0, seek).toFixed(6));
  }
  args.push('-i', info.path, '-map', `0:${info.streamIndex}`, '-an', '-sn', '-dn');
  args.push('-frames:v', String(span.count), '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return args;
}

/**
 * Yields the span's frames in order. Stopping early (break, abort) kills ffmpeg. Ends with a
 * MediaInputError when the media holds fewer frames than promised (truncated or corrupt).
 */
export async function* decodeFrames(tools: MediaTools, info: VideoInfo, span: FrameSpan, options: DecodeOptions = {}): AsyncGenerator<Frame> {
  const { width, height } = info;
  const frameBytes = width * height * 3;
  const proc = spawnTool(tools.ffmpeg.path, decodeArgs(info, span), { signal: options.signal, stdout: 'pipe', stallMs: options.stallMs ?? DEFAULT_STALL_MS });
  let delivered = 0;
  let current = new Uint8Array(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of proc.child.stdout! as AsyncIterable<Buffer>) {
      proc.resume();
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        current.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          delivered++;
          // While the caller works on the frame, ffmpeg waits on us: not a stall.
          proc.pause();
          yield { data: current, width, height, channels: 3 };
          proc.resume();
          current = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    try {
      await proc.done;
    } catch (err) {
      if (options.signal?.aborted || err instanceof ToolTimeoutError) throw err;
      const why = proc.stderrTail().trim().split('\n').slice(-2).join(' | ');
      throw new MediaInputError('media_unreadable', `decoding ${info.path} failed after ${delivered} of ${span.count} frames (corrupt?): ${why}`);
    }
    if (delivered !== span.count) {
      throw new MediaInputError(
        'media_unreadable',
        `${info.path} ended after ${delivered} of ${span.count} frames from frame ${span.first} (truncated or corrupt, or fewer frames than its header says)`,
      );
    }
  } finally {
    proc.kill();
  }
}

/**
 * One frame as RGB: the frame of a video whose presentation interval contains `seconds`, or a
 * still image (any `seconds`). For plates taken from the media itself.
 */
export async function decodeFrameAt(tools: MediaTools, info: VideoInfo, first: number, signal?: AbortSignal): Promise<Frame> {
  for await (const frame of decodeFrames(tools, info, { first, count: 1 }, { signal })) return frame;
  throw new MediaInputError('media_unreadable', `${info.path}: frame ${first} could not be decoded`);
}
