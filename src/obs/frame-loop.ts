// Frames from OBS to the engine: source screenshots, a few requests in flight (measured faster
// than one at a time: OBS encodes one while the next is being requested and the previous one
// travels), paced to the stream's frame rate so OBS does not encode frames nobody will use.
// Each frame carries the time its screenshot was requested, for end-to-end latency.
import type OBSWebSocket from 'obs-websocket-js';
import type { LiveConnection } from './engine-client.js';

export interface FrameLoopOptions {
  readonly sourceName: string;
  readonly sessionId: number;
  /** Size the screenshots are scaled to (= the live session's size). */
  readonly width: number;
  readonly height: number;
  /** Screenshot requests in flight (default 3). */
  readonly inFlight?: number;
  /** Request starts per second at most (default 30). */
  readonly maxFps?: number;
  /** jpg is the fastest OBS encodes; png is lossless (default jpg). */
  readonly format?: 'jpg' | 'png';
  /** Called when a screenshot request fails (source missing, OBS going away); the loop retries. */
  readonly onFailure?: (err: Error) => void;
}

/** Bytes of a data: URI's base64 payload (Buffer in Node, atob in browsers). */
export function dataUriBytes(uri: string): Uint8Array {
  const b64 = uri.slice(uri.indexOf(',') + 1);
  const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (NodeBuffer) return NodeBuffer.from(b64, 'base64');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const FAILURE_RETRY_MS = 1000;

/** Frames the engine connection may have queued before the loop waits instead of sending more. */
const MAX_QUEUED_FRAMES = 2;

export class FrameLoop {
  private running = false;
  private workers: Promise<void>[] = [];
  private seq = 0;
  private nextStart = 0;
  private lastFrameBytes = 0;
  /** Screenshots taken / frames sent / frames not sent because the engine link was backed up. */
  shots = 0;
  sent = 0;
  heldBack = 0;
  failures = 0;
  private startedAt = 0;

  constructor(
    private readonly obs: OBSWebSocket,
    private readonly live: LiveConnection,
    private readonly options: FrameLoopOptions,
  ) {}

  get active(): boolean {
    return this.running;
  }

  /** Screenshots per second since start. */
  get shotRate(): number {
    const s = (performance.now() - this.startedAt) / 1000;
    return s > 0 ? Math.round((this.shots / s) * 10) / 10 : 0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = performance.now();
    const n = Math.max(1, this.options.inFlight ?? 3);
    this.workers = Array.from({ length: n }, () => this.worker());
  }

  /** Stops requesting; resolves when the requests in flight have settled. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Waits for this worker's turn so all workers together start at most maxFps requests/s. */
  private async pace(): Promise<void> {
    const interval = 1000 / (this.options.maxFps ?? 30);
    const now = performance.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + interval;
    if (start > now) await new Promise((r) => setTimeout(r, start - now));
  }

  private async worker(): Promise<void> {
    const { sourceName, sessionId, width, height } = this.options;
    const format = this.options.format ?? 'jpg';
    while (this.running) {
      await this.pace();
      if (!this.running) return;
      const requested = Date.now();
      const seq = ++this.seq;
      let imageData: string;
      try {
        ({ imageData } = await this.obs.call('GetSourceScreenshot', {
          sourceName,
          imageFormat: format,
          imageWidth: width,
          imageHeight: height,
          ...(format === 'jpg' ? { imageCompressionQuality: 85 } : {}),
        }));
      } catch (err) {
        // A source that is briefly unavailable (reloading, renamed back) should not end the
        // matte: report, wait, retry. The controller stops the loop when OBS itself goes away.
        if (!this.running) return;
        this.failures++;
        this.options.onFailure?.(err instanceof Error ? err : new Error(String(err)));
        await new Promise((r) => setTimeout(r, FAILURE_RETRY_MS));
        continue;
      }
      this.shots++;
      if (!this.running || !this.live.open) return;
      const bytes = dataUriBytes(imageData);
      // The engine keeps the newest frame anyway; a backed-up link would only add latency.
      if (this.live.bufferedAmount > MAX_QUEUED_FRAMES * Math.max(bytes.byteLength, this.lastFrameBytes)) {
        this.heldBack++;
        continue;
      }
      this.lastFrameBytes = bytes.byteLength;
      this.live.sendFrame(sessionId, seq, requested, format === 'jpg' ? 'jpeg' : 'png', width, height, bytes);
      this.sent++;
    }
  }
}
