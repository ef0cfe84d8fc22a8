// Small generated test images (sharp), plus deliberately broken ones for the bad-input tests.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Frame } from '../../src/engine/frame.js';

/** A deterministic textured RGB plate: smooth gradients plus seeded noise, like a real scene. */
export function texturedPlate(width: number, height: number, seed = 1): Frame {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = (rand() - 0.5) * 12;
      data[i] = clamp(40 + (x / width) * 60 + n);
      data[i + 1] = clamp(70 + (y / height) * 50 + n);
      data[i + 2] = clamp(60 + ((x + y) / (width + height)) * 40 + n);
    }
  }
  return { data, width, height, channels: 3 };
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

export interface Square {
  readonly x: number;
  readonly y: number;
  readonly size: number;
  readonly color: readonly [number, number, number];
}

/** The plate with a flat square "subject" painted on it. */
export function withSquare(plate: Frame, sq: Square): Frame {
  const data = new Uint8Array(plate.data);
  for (let y = sq.y; y < sq.y + sq.size; y++) {
    for (let x = sq.x; x < sq.x + sq.size; x++) {
      const i = (y * plate.width + x) * plate.channels;
      data[i] = sq.color[0];
      data[i + 1] = sq.color[1];
      data[i + 2] = sq.color[2];
    }
  }
  return { ...plate, data };
}

export function toPng(frame: Frame): Promise<Buffer> {
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } })
    .png()
    .toBuffer();
}

export function toJpeg(frame: Frame): Promise<Buffer> {
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** Decodes a PNG (or any image) to raw pixels, keeping its channel count (1 for greyscale). */
export async function decodeRaw(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const meta = await sharp(bytes).metadata();
  const image = sharp(bytes);
  // sharp widens greyscale to sRGB on raw output unless told to keep it.
  if (meta.channels === 1) image.toColourspace('b-w');
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Largest absolute difference between two pixel arrays of the same length. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Mean of channel `c` over a rectangle of an interleaved image. */
export function meanIn(img: { data: Uint8Array; width: number; channels: number }, rect: { x: number; y: number; w: number; h: number }, c = 0): number {
  let sum = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) sum += img.data[(y * img.width + x) * img.channels + c]!;
  }
  return sum / (rect.w * rect.h);
}

// --- broken and odd inputs ---------------------------------------------------------------

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), payload]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A well-formed PNG header claiming an absurd size, with a token IDAT (a decompression bomb's shape). */
export function pngClaimingSize(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(256))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A valid 24-bit BMP (sharp/libvips cannot read BMP: an "unsupported format" that is a real image). */
export function bmp(width: number, height: number): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + rowBytes * height, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(rowBytes * height, 34);
  return Buffer.concat([header, Buffer.alloc(rowBytes * height, 0x80)]);
}

/** The first part of a valid PNG: header intact, pixel data cut off. */
export function truncate(bytes: Buffer, keepFraction = 0.5): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length * keepFraction));
}

/** A valid PNG signature and IHDR followed by garbage. */
export function corruptPng(valid: Buffer): Buffer {
  return Buffer.concat([valid.subarray(0, 33), Buffer.alloc(400, 0x5a)]);
}
