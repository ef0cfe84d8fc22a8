// Still images in and out, with sharp: decode untrusted bytes into a Frame (with explicit size
// caps and EXIF orientation applied), encode alpha / foreground / composite as PNG. Bad input
// becomes an ImageInputError whose code the http layer and the CLI turn into a clear message.
import sharp, { type Metadata, type PngOptions, type Sharp } from 'sharp';
import { MAX_FRAME_SIDE, MIN_FRAME_SIDE, type Frame, type Plane } from '../frame.js';
import { messageOf } from '../../shared/error-message.js';

/** Raster formats the engine accepts (sharp's names; heif covers HEIC and AVIF). SVG is not a photo. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'jp2', 'jxl']);

export type ImageErrorCode = 'bad_image' | 'unsupported_format' | 'image_too_large' | 'image_too_small';

export class ImageInputError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImageInputError';
  }
}

const SIZE_RULE = `images must be ${MIN_FRAME_SIDE}x${MIN_FRAME_SIDE} to ${MAX_FRAME_SIDE}x${MAX_FRAME_SIDE} pixels`;

/**
 * The size an image will decode to, from its header only (no pixels decoded), with the format and
 * size rules checked: what admission control needs before it lets a decode start.
 */
export async function imageSize(bytes: Uint8Array, what = 'image'): Promise<{ width: number; height: number }> {
  if (bytes.byteLength === 0) throw new ImageInputError('bad_image', `${what} is empty (0 bytes)`);
  // Header first, without a pixel limit (nothing is decoded yet), so the size error can say
  // what the size is instead of sharp's generic "exceeds pixel limit".
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    const reason = messageOf(err);
    if (/unsupported image format/i.test(reason)) {
      throw new ImageInputError('unsupported_format', `${what} is not in a supported image format (PNG, JPEG, WebP, TIFF, GIF, HEIF/AVIF)`);
    }
    throw new ImageInputError('bad_image', `${what} could not be read: ${reason.replace(/:\s*$/, '')}`);
  }
  if (!ACCEPTED_FORMATS.has(meta.format)) {
    throw new ImageInputError('unsupported_format', `${what} is ${meta.format.toUpperCase()}, not a supported raster format (PNG, JPEG, WebP, TIFF, GIF, HEIF/AVIF)`);
  }
  const { width, height } = meta.autoOrient ?? meta;
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) {
    throw new ImageInputError('image_too_large', `${what} is ${width}x${height}: ${SIZE_RULE}`);
  }
  if (width < MIN_FRAME_SIDE || height < MIN_FRAME_SIDE) {
    throw new ImageInputError('image_too_small', `${what} is ${width}x${height}: ${SIZE_RULE}`);
  }
  return { width, height };
}

/**
 * Decodes an image into an 8-bit RGB frame (alpha dropped: the models match colour only).
 * `what` names the input in error messages ("image", "background", a file name).
 */
export async function decodeImage(bytes: Uint8Array, what = 'image'): Promise<Frame> {
  await imageSize(bytes, what);
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_FRAME_SIDE * MAX_FRAME_SIDE, failOn: 'error', pages: 1 })
      .rotate() // EXIF orientation, so pixels match what viewers show
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
  } catch (err) {
    const reason = messageOf(err);
    throw new ImageInputError('bad_image', `${what} is corrupt or truncated: ${reason.replace(/:\s*$/, '')}`);
  }
}

/** A Buffer view of the same bytes (no copy): some sharp inputs take Buffers only. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function rawInput(frame: Frame | Plane): Sharp {
  const channels = 'channels' in frame ? frame.channels : 1;
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels } });
}

/** PNG encoding tuned for speed: these files are intermediates, size matters less than latency. */
const PNG_OPTIONS: PngOptions = { compressionLevel: 3, adaptiveFiltering: false };

/** Any frame or plane as PNG (1 channel = greyscale, 3 = RGB, 4 = RGBA straight alpha). */
export function encodePng(frame: Frame | Plane): Promise<Buffer> {
  const image = rawInput(frame);
  // sharp would widen a single raw channel to RGB on output; keep mattes 1-channel greyscale.
  if (!('channels' in frame)) image.toColourspace('b-w');
  return image.png(PNG_OPTIONS).toBuffer();
}

/** Parses #rrggbb; undefined for anything else. */
export function parseHexColor(text: string): { r: number; g: number; b: number } | undefined {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) return undefined;
  return { r: parseInt(m[1]!, 16), g: parseInt(m[2]!, 16), b: parseInt(m[3]!, 16) };
}

/** The RGBA foreground alpha-blended over a flat colour, as an RGB PNG. */
/** The foreground over an image (encoded bytes), which covers the frame: scaled and centre-cropped. */
export async function encodeCompositeOverPng(foreground: Frame, backdrop: Uint8Array): Promise<Buffer> {
  if (foreground.channels !== 4) throw new Error('composite needs an RGBA foreground');
  const { width, height } = foreground;
  const behind = await sharp(backdrop).rotate().resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer();
  return sharp(behind, { raw: { width, height, channels: 3 } })
    .composite([{ input: asBuffer(foreground.data), raw: { width, height, channels: 4 } }])
    .removeAlpha()
    .png(PNG_OPTIONS)
    .toBuffer();
}

export function encodeCompositePng(foreground: Frame, color: { r: number; g: number; b: number }): Promise<Buffer> {
  if (foreground.channels !== 4) throw new Error('composite needs an RGBA foreground');
  return sharp({ create: { width: foreground.width, height: foreground.height, channels: 3, background: color } })
    .composite([{ input: asBuffer(foreground.data), raw: { width: foreground.width, height: foreground.height, channels: 4 } }])
    .removeAlpha()
    .png(PNG_OPTIONS)
    .toBuffer();
}
