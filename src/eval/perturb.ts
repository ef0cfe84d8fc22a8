// The ways a real frame and its plate differ beyond the subject, applied to clean composites so
// the quality benchmark can score each one separately: sensor noise, exposure and white-balance
// drift, a slight camera shift/rotation, JPEG and H.264 compression, a shadow cast by the subject.
// Pure functions: new Frames out, inputs untouched, seeded randomness.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mediaTools } from '../engine/media/ffmpeg-locate.js';
import { runTool } from '../engine/media/process.js';
import type { Frame } from '../engine/frame.js';
import { gaussianBlur } from './filters.js';
import { gaussian, rng } from './synthetic.js';

const toByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** What a frame is made of: I = alpha F + (1 - alpha) B (alpha, F in 0..1; F RGB interleaved). */
export interface Composite {
  readonly plate: Frame;
  readonly alpha: Float32Array;
  readonly foreground: Float32Array;
}

/** The frame of a composite; `shade` (0..1 per pixel, 1 = unlit) darkens the background only. */
export function composite(c: Composite, shade?: Float32Array): Frame {
  const { width, height, channels } = c.plate;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = c.alpha[i]!;
    const s = shade ? shade[i]! : 1;
    for (let k = 0; k < 3; k++) {
      out[3 * i + k] = toByte(255 * a * c.foreground[3 * i + k]! + (1 - a) * s * c.plate.data[i * channels + k]!);
    }
  }
  return { data: out, width, height, channels: 3 };
}

export interface ShadowOptions {
  /** Where the shadow falls relative to the subject, in pixels. */
  readonly dx: number;
  readonly dy: number;
  /** Penumbra: Gaussian blur of the silhouette, in pixels. */
  readonly blur: number;
  /** Fraction of the light the full shadow takes away (0..1). */
  readonly strength: number;
}

/**
 * The frame with a soft shadow of the subject on the background: the silhouette (alpha) offset and
 * blurred darkens what lies behind the subject. The plate has no shadow, so the difference
 * signal sees a dark patch that is background all the same (ground-truth alpha unchanged).
 */
export function castShadow(c: Composite, o: ShadowOptions): Frame {
  const { width: W, height: H } = c.plate;
  const moved = new Float32Array(W * H);
  const dx = Math.round(o.dx);
  const dy = Math.round(o.dy);
  for (let y = 0; y < H; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= H) continue;
    for (let x = 0; x < W; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < W) moved[y * W + x] = c.alpha[sy * W + sx]!;
    }
  }
  const soft = gaussianBlur({ data: moved, width: W, height: H }, o.blur).data;
  const shade = soft.map((s) => 1 - o.strength * s);
  return composite(c, shade);
}

export interface NoiseOptions {
  /** Signal-independent (read) noise, standard deviation in 8-bit levels. */
  readonly read: number;
  /** Photon (shot) noise: variance grows by `shot` per level of signal. */
  readonly shot?: number;
  readonly seed: number;
}

/** Sensor noise, independent per pixel and channel: variance read^2 + shot * level. */
export function sensorNoise(frame: Frame, o: NoiseOptions): Frame {
  const rand = rng(o.seed);
  const shot = o.shot ?? 0;
  const out = new Uint8Array(frame.data.length);
  const C = frame.channels;
  for (let i = 0; i < frame.data.length; i++) {
    const v = frame.data[i]!;
    if (C === 4 && i % 4 === 3) {
      out[i] = v; // alpha channel of an RGBA frame: not a sensor value
      continue;
    }
    out[i] = toByte(v + Math.sqrt(o.read * o.read + shot * v) * gaussian(rand));
  }
  return { ...frame, data: out };
}

const srgbToLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const linearToSrgb = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);

export interface ExposureOptions {
  /** Exposure change in stops (+1 = twice the light). */
  readonly stops: number;
  /** Per-channel gains of the white balance (R, G, B). */
  readonly whiteBalance: readonly [number, number, number];
}

/** Exposure and white-balance drift, applied in linear light as the camera does, then back to sRGB. */
export function exposureWhiteBalance(frame: Frame, o: ExposureOptions): Frame {
  const luts = o.whiteBalance.map((wb) => {
    const gain = 2 ** o.stops * wb;
    return Uint8Array.from({ length: 256 }, (_, v) => toByte(255 * linearToSrgb(Math.min(1, srgbToLinear(v / 255) * gain))));
  });
  const out = new Uint8Array(frame.data);
  const C = frame.channels;
  for (let i = 0; i < frame.width * frame.height; i++) {
    for (let k = 0; k < 3; k++) out[i * C + k] = luts[k]![frame.data[i * C + k]!]!;
  }
  return { ...frame, data: out };
}

export interface ShiftOptions {
  /** Translation of the image content, in pixels (sub-pixel allowed). */
  readonly dx: number;
  readonly dy: number;
  /** Rotation of the content about the image centre, in degrees (clockwise on screen, y down). */
  readonly degrees: number;
}

/** The content moved by a small camera shift and roll: bilinear resampling, edges replicated. */
export function shiftRotate(frame: Frame, o: ShiftOptions): Frame {
  const { width: W, height: H, channels: C } = frame;
  const out = new Uint8Array(frame.data.length);
  const th = (o.degrees * Math.PI) / 180;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Inverse map: where in the source this output pixel came from.
      const ux = x - cx - o.dx;
      const uy = y - cy - o.dy;
      const sx = Math.min(W - 1, Math.max(0, cos * ux + sin * uy + cx));
      const sy = Math.min(H - 1, Math.max(0, -sin * ux + cos * uy + cy));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(W - 1, x0 + 1);
      const y1 = Math.min(H - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let k = 0; k < C; k++) {
        const p = (yy: number, xx: number) => frame.data[(yy * W + xx) * C + k]!;
        const top = p(y0, x0) * (1 - fx) + p(y0, x1) * fx;
        const bottom = p(y1, x0) * (1 - fx) + p(y1, x1) * fx;
        out[(y * W + x) * C + k] = toByte(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { ...frame, data: out };
}

/** A JPEG encode/decode round trip (sharp, 4:2:0 chroma as cameras and browsers write it). */
export async function jpegRoundTrip(frame: Frame, quality: number): Promise<Frame> {
  const { width, height, channels } = frame;
  const jpeg = await sharp(frame.data, { raw: { width, height, channels } }).removeAlpha().jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) throw new Error(`JPEG round trip returned ${info.width}x${info.height}x${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 3 };
}

export interface H264Options {
  /** x264 constant rate factor (23 = its default; higher = smaller and worse). */
  readonly crf: number;
  readonly preset?: string;
}

// Explicit, accurately rounded colour conversion both ways: ffmpeg's implicit one shifts levels by
// about -1 even without compression, which would pass for a codec effect.
const RGB_YUV = 'scale=flags=bicubic+accurate_rnd+full_chroma_int';

/**
 * An H.264 round trip through the real ffmpeg (libx264, yuv420p as delivered video is), via a
 * temporary file. Frames of one size go through one encode as a clip of key frames only: none is
 * predicted from another (a plate is far from the frame in a real clip), one ffmpeg start for all.
 * Odd sizes are padded for 4:2:0 and cropped back.
 */
export async function h264RoundTrip(frames: readonly Frame[], o: H264Options): Promise<Frame[]> {
  const first = frames[0];
  if (!first) return [];
  const { width: W, height: H } = first;
  if (frames.some((f) => f.width !== W || f.height !== H)) throw new Error('h264RoundTrip: frames must share one size');
  const bytes = W * H * 3;
  const rgb = new Uint8Array(bytes * frames.length);
  frames.forEach((f, n) => {
    if (f.channels === 3) rgb.set(f.data, n * bytes);
    else for (let i = 0; i < W * H; i++) rgb.set(f.data.subarray(4 * i, 4 * i + 3), n * bytes + 3 * i);
  });
  const { ffmpeg } = await mediaTools();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-h264-'));
  try {
    const raw = path.join(dir, 'in.rgb');
    const mp4 = path.join(dir, 'out.mp4');
    await writeFile(raw, rgb);
    await runTool(ffmpeg.path, [
      ...['-v', 'error', '-nostdin', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-r', '25', '-i', raw],
      ...['-vf', `pad=ceil(iw/2)*2:ceil(ih/2)*2,${RGB_YUV},format=yuv420p`, '-c:v', 'libx264', '-preset', o.preset ?? 'veryfast', '-crf', String(o.crf)],
      ...['-g', '1', '-bf', '0', '-pix_fmt', 'yuv420p', mp4],
    ]);
    const out = await runTool(ffmpeg.path, ['-v', 'error', '-nostdin', '-i', mp4, '-vf', `${RGB_YUV},format=rgb24,crop=${W}:${H}:0:0`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    if (out.length !== rgb.length) throw new Error(`H.264 round trip returned ${out.length} bytes, expected ${rgb.length}`);
    return frames.map((_, n) => ({ data: new Uint8Array(out.buffer, out.byteOffset + n * bytes, bytes), width: W, height: H, channels: 3 as const }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
