// The binary frame message of WS /v1/live, shared by the engine and its clients (Node and
// browser: DataView only, no Buffer). Layout, little-endian, LIVE_FRAME_HEADER_BYTES long:
//   0  "CPLF" magic          4  version u8 (1)     5  format u8 (0 rgba, 1 jpeg, 2 png, 3 rgb)
//   6  captureMs u16         8  sessionId u32      12 seq u32
//   16 timestamp f64: client epoch ms when the frame was requested (for end-to-end latency)
//   24 width u32             28 height u32
// then the payload: width*height*4 bytes for rgba, *3 for rgb, the encoded file for jpeg/png.
// captureMs (ms from the timestamp to the frame being sent; 0 = not given) was a reserved 0 before:
// old clients send 0 and old engines never read it, so the version stays 1.
import { LIVE_FRAME_FORMATS, type LiveFrameFormat } from './api.js';

export const LIVE_FRAME_HEADER_BYTES = 32;
const MAGIC = [0x43, 0x50, 0x4c, 0x46]; // "CPLF"
const VERSION = 1;
const RAW_CHANNELS: Partial<Record<LiveFrameFormat, number>> = { rgba: 4, rgb: 3 };

export interface LiveFrameHeader {
  readonly sessionId: number;
  readonly seq: number;
  readonly timestamp: number;
  readonly format: LiveFrameFormat;
  readonly width: number;
  readonly height: number;
  /** Ms the client took from `timestamp` to sending the frame (the screenshot's capture); rounded, 1..65535. */
  readonly captureMs?: number;
}

export interface LiveFrame extends LiveFrameHeader {
  readonly payload: Uint8Array;
}

/** Header + payload in one buffer, ready for `ws.send`. */
export function encodeLiveFrame(header: LiveFrameHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(LIVE_FRAME_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, VERSION);
  view.setUint8(5, LIVE_FRAME_FORMATS.indexOf(header.format));
  if (header.captureMs !== undefined) view.setUint16(6, Math.min(65535, Math.max(1, Math.round(header.captureMs))), true);
  view.setUint32(8, header.sessionId, true);
  view.setUint32(12, header.seq >>> 0, true);
  view.setFloat64(16, header.timestamp, true);
  view.setUint32(24, header.width, true);
  view.setUint32(28, header.height, true);
  out.set(payload, LIVE_FRAME_HEADER_BYTES);
  return out;
}

/** Parses a binary message; a string says what is wrong with it (never throws). */
export function decodeLiveFrame(bytes: Uint8Array): LiveFrame | string {
  if (bytes.byteLength < LIVE_FRAME_HEADER_BYTES) {
    return `frame message is ${bytes.byteLength} bytes, shorter than the ${LIVE_FRAME_HEADER_BYTES}-byte header`;
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) return 'frame message does not start with the "CPLF" magic';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== VERSION) return `frame header version ${version} is not supported (expected ${VERSION})`;
  const format = LIVE_FRAME_FORMATS[view.getUint8(5)];
  if (!format) return `frame format code ${view.getUint8(5)} is unknown (0 rgba, 1 jpeg, 2 png, 3 rgb)`;
  const timestamp = view.getFloat64(16, true);
  if (!Number.isFinite(timestamp)) return 'frame timestamp is not a finite number';
  const captureMs = view.getUint16(6, true);
  const header = {
    ...(captureMs > 0 ? { captureMs } : {}),
    sessionId: view.getUint32(8, true),
    seq: view.getUint32(12, true),
    timestamp,
    format,
    width: view.getUint32(24, true),
    height: view.getUint32(28, true),
  };
  const payload = bytes.subarray(LIVE_FRAME_HEADER_BYTES);
  const channels = RAW_CHANNELS[format];
  if (channels !== undefined && payload.byteLength !== header.width * header.height * channels) {
    return `${format} frame of ${header.width}x${header.height} needs ${header.width * header.height * channels} payload bytes, got ${payload.byteLength}`;
  }
  if (payload.byteLength === 0) return 'frame payload is empty';
  return { ...header, payload };
}
