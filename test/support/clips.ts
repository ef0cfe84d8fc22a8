// Generated test clips with the frame index in the pixels: a static textured background, a
// subject (red block) moving across it, and a strip of 10 black/white blocks at the top left
// encoding the frame number in binary. The plate is the background alone. Frames are made in
// JS and encoded by the real ffmpeg (H.264 with B-frames and short GOPs by default, so seeks
// land mid-GOP), so any decoded frame says which source frame it is.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Frame } from '../../src/engine/frame.js';

export const INDEX_BITS = 10;
const BLOCK = 12;
const STRIP_X = 6;
const STRIP_Y = 6;

export interface ClipSpec {
  readonly width?: number;
  readonly height?: number;
  /** ffmpeg rational, e.g. "30000/1001". */
  readonly rate?: string;
  readonly frames: number;
  /** h264 (8-bit, lossy), h264-10bit, ffv1 (lossless). */
  readonly codec?: 'h264' | 'h264-10bit' | 'ffv1';
  readonly extraArgs?: readonly string[];
  readonly container?: 'mp4' | 'mkv' | 'mov';
}

export interface GeneratedClip {
  readonly path: string;
  readonly platePath: string;
  readonly plate: Frame;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

/** The static background: smooth mid-tone texture, so black, white and red differ from it. */
export function makePlate(width: number, height: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 110 + Math.round(30 * Math.sin(x / 9) + 10 * Math.cos(y / 4));
      data[i + 1] = 120 + Math.round(25 * Math.cos(y / 7) + 10 * Math.sin((x + y) / 5));
      data[i + 2] = 115 + Math.round(20 * Math.sin((x - y) / 11));
    }
  }
  return { data, width, height, channels: 3 };
}

function fillRect(f: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, rgb: readonly [number, number, number]): void {
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const i = (y * width + x) * 3;
      f[i] = rgb[0];
      f[i + 1] = rgb[1];
      f[i + 2] = rgb[2];
    }
  }
}

/** Where the subject is in frame `index` (moves 3 px a frame, wrapping). */
export function subjectRect(index: number, width: number, height: number): { x: number; y: number; w: number; h: number } {
  const w = Math.round(width * 0.2);
  const h = Math.round(height * 0.45);
  const x = (index * 3) % (width - w);
  return { x, y: Math.round(height * 0.4), w, h };
}

export function makeFrame(plate: Frame, index: number): Uint8Array {
  const f = new Uint8Array(plate.data);
  const { width, height } = plate;
  const r = subjectRect(index, width, height);
  fillRect(f, width, r.x, r.y, r.w, r.h, [220, 30, 40]);
  for (let b = 0; b < INDEX_BITS; b++) {
    const on = (index >> (INDEX_BITS - 1 - b)) & 1;
    fillRect(f, width, STRIP_X + b * BLOCK, STRIP_Y, BLOCK, BLOCK, on ? [255, 255, 255] : [0, 0, 0]);
  }
  return f;
}

/** Reads the frame number back from an RGB or RGBA frame (block centres, threshold at mid-grey). */
export function readFrameIndex(data: Uint8Array, width: number, channels: number): number {
  let index = 0;
  for (let b = 0; b < INDEX_BITS; b++) {
    let sum = 0;
    let n = 0;
    for (let y = STRIP_Y + 3; y < STRIP_Y + BLOCK - 3; y++) {
      for (let x = STRIP_X + b * BLOCK + 3; x < STRIP_X + (b + 1) * BLOCK - 3; x++) {
        const i = (y * width + x) * channels;
        sum += (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
        n++;
      }
    }
    index = (index << 1) | (sum / n > 128 ? 1 : 0);
  }
  return index;
}

async function pipeToFfmpeg(args: string[], frames: Iterable<Uint8Array>): Promise<void> {
  const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = once(child, 'close');
  for (const f of frames) {
    if (!child.stdin.write(f)) await once(child.stdin, 'drain');
  }
  child.stdin.end();
  const [code] = (await closed) as [number];
  if (code !== 0) throw new Error(`ffmpeg failed making a test clip: ${err.slice(-500)}`);
}

function* frameSeq(plate: Frame, count: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield makeFrame(plate, i);
}

const CODEC_ARGS: Record<NonNullable<ClipSpec['codec']>, string[]> = {
  h264: ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-g', '12', '-bf', '2', '-pix_fmt', 'yuv420p'],
  'h264-10bit': ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-g', '12', '-pix_fmt', 'yuv420p10le'],
  ffv1: ['-c:v', 'ffv1', '-pix_fmt', 'bgr0'],
};

/** Writes `<dir>/<name>.<container>` and `<dir>/<name>-plate.png`. */
export async function makeClip(dir: string, name: string, spec: ClipSpec): Promise<GeneratedClip> {
  const width = spec.width ?? 320;
  const height = spec.height ?? 180;
  const plate = makePlate(width, height);
  const file = path.join(dir, `${name}.${spec.container ?? 'mp4'}`);
  const platePath = path.join(dir, `${name}-plate.png`);
  const raw = ['-hide_banner', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`];
  await pipeToFfmpeg([...raw, '-framerate', spec.rate ?? '25', '-i', 'pipe:0', ...CODEC_ARGS[spec.codec ?? 'h264'], ...(spec.extraArgs ?? []), '-y', file], frameSeq(plate, spec.frames));
  await pipeToFfmpeg([...raw, '-i', 'pipe:0', '-frames:v', '1', '-y', platePath], [plate.data]);
  return { path: file, platePath, plate, width, height, frames: spec.frames };
}

/** Runs ffmpeg/ffprobe and returns stdout (for checking outputs). */
export async function runCapture(cmd: 'ffmpeg' | 'ffprobe', args: string[]): Promise<Buffer> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${err.slice(-500)}`);
  return Buffer.concat(out);
}
