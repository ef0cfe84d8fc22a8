// Generated media for the live tests: a static textured background and a looping clip in which a
// magenta subject is absent at first (the streamer has stepped out: capture the plate), then
// walks in slowly from the left. Known colours and motion let tests find the subject in any
// screenshot by colour alone.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';

export interface LiveMedia {
  readonly clip: string;
  readonly still: string;
  readonly width: number;
  readonly height: number;
  /** Seconds without the subject at the start of every loop. */
  readonly emptySeconds: number;
  readonly loopSeconds: number;
  /** The subject box's size in pixels. */
  readonly subject: { readonly width: number; readonly height: number };
}

export const SUBJECT_RGB = [224, 40, 160] as const;

/** Texture: smooth colour waves, far from the subject's magenta everywhere. */
const TEXTURE = "geq=r='70+40*sin(X/9)':g='120+30*cos(Y/7)':b='130+35*sin((X+Y)/11)'";

export async function makeLiveMedia(dir: string, width = 320, height = 180, loopSeconds = 14, emptySeconds = 3): Promise<LiveMedia> {
  const { ffmpeg } = await mediaTools();
  const run = (args: string[]): Promise<unknown> => promisify(execFile)(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const still = path.join(dir, 'plate.png');
  const clip = path.join(dir, 'subject.mkv');
  const subject = { width: Math.round(width / 4), height: Math.round(height * 0.55) };
  await run(['-f', 'lavfi', '-i', `color=c=black:s=${width}x${height}:d=1,format=rgb24,${TEXTURE}`, '-frames:v', '1', still]);
  // The subject walks ~width/2 over the loop: slow enough that a layer lagging a few hundred ms
  // still covers the middle of where the source shows it.
  const speed = (width / 2 - subject.width / 2) / (loopSeconds - emptySeconds);
  const x = `${Math.round(width / 8)}+(t-${emptySeconds})*${speed.toFixed(3)}`;
  const y = Math.round((height - subject.height) / 2);
  const [r, g, b] = SUBJECT_RGB;
  const hex = ((r << 16) | (g << 8) | b).toString(16).padStart(6, '0');
  // prettier-ignore
  await run([
    '-loop', '1', '-framerate', '30', '-i', still,
    '-f', 'lavfi', '-i', `color=c=0x${hex}:s=${subject.width}x${subject.height}:r=30`,
    '-filter_complex', `[0:v][1:v]overlay=x='${x}':y=${y}:enable='gte(t,${emptySeconds})':shortest=1,format=yuv444p`,
    '-t', String(loopSeconds), '-c:v', 'libx264', '-qp', '0', '-preset', 'ultrafast', '-g', '30', clip,
  ]);
  return { clip, still, width, height, emptySeconds, loopSeconds, subject };
}

/** Pixels whose colour is the subject's (loose: video coding shifts colours a little). */
export function isSubjectColour(r: number, g: number, b: number): boolean {
  return Math.abs(r - SUBJECT_RGB[0]) < 40 && Math.abs(g - SUBJECT_RGB[1]) < 40 && Math.abs(b - SUBJECT_RGB[2]) < 40;
}

export interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly count: number;
}

/** Bounding box of subject-coloured pixels in an RGB(A) image; count 0 when absent. */
export function findSubject(data: Uint8Array, width: number, height: number, channels: number): Box {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      if (isSubjectColour(data[i]!, data[i + 1]!, data[i + 2]!)) {
        count++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return { x0, y0, x1, y1, count };
}
