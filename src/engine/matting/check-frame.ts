// Checks shared by every model: a frame's buffer must match its declared size.
import { MattingInputError } from './errors.js';
import { MAX_FRAME_SIDE, MIN_FRAME_SIDE, type Frame } from '../frame.js';

export function checkFrame(frame: Frame, what: string): void {
  const { width, height, channels, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < MIN_FRAME_SIDE || height < MIN_FRAME_SIDE) {
    throw new MattingInputError('bad_frame', `${what} is ${width}x${height}; the smallest accepted size is ${MIN_FRAME_SIDE}x${MIN_FRAME_SIDE}`);
  }
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) {
    throw new MattingInputError('frame_too_large', `${what} is ${width}x${height}; the largest accepted side is ${MAX_FRAME_SIDE} pixels`);
  }
  if (channels !== 3 && channels !== 4) throw new MattingInputError('bad_frame', `${what} has ${String(channels)} channels; expected 3 (RGB) or 4 (RGBA)`);
  if (data.length !== width * height * channels) {
    throw new MattingInputError('bad_frame', `${what} buffer has ${data.length} bytes; ${width}x${height}x${channels} needs ${width * height * channels}`);
  }
}
