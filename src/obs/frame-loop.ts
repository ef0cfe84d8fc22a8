// Frames from OBS to the engine: source screenshots with a few requests in flight (measured
// faster than one at a time: OBS encodes one while the next is requested and the previous one
// travels), each frame stamped with the time its screenshot was requested (end-to-end latency).
//
// Flow control: the session sends an ack per frame (taken by the model / dropped for a newer
// one). The loop keeps at most `window` frames requested but not yet taken, and adapts the
// window: a drop means frames arrive faster than the model takes them (shrink: fewer wasted
// screenshots, less waiting, lower latency); a frame taken without waiting means the model sat
// idle (grow, up to `inFlight`, to hide OBS's screenshot time). Never more than `maxFps` requests/s.
import type OBSWebSocket from 'obs-websocket-js';
import type { FrameAck, LiveConnection } from './engine-client.js';

/** Needs a session opened with `acks: true`, its acks passed to `ack()`. */
export interface FrameLoopOptions {
  readonly sourceName: string;
  readonly sessionId: number;
  /** Size the screenshots are scaled to (= the live session's size). */
  readonly width: number;
  readonly height: number;
  /** Most screenshot requests in flight (default 3). */
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
/** A frame whose ack never came (engine hiccup, frame refused before parsing) stops counting. */
const ACK_TIMEOUT_MS = 3000;
/** A taken frame that waited less than this found the model idle. */
const IDLE_WAIT_MS = 5;
/** Frames the engine connection may have queued before the loop holds frames back. */
const MAX_QUEUED_FRAMES = 2;

export class FrameLoop {
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private readonly requests = new Set<Promise<void>>();
  /** Frames requested or sent but not yet acked, by seq -> request time. */
  private readonly outstanding = new Map<number, number>();
  private wake: (() => void) | undefined;
  private seq = 0;
  private lastFrameBytes = 0;
  private startedAt = 0;
  /** Current flow-control window (1..inFlight). */
  window: number;
  /** Screenshots taken / frames sent / held back (engine link backed up) / failed requests. */
  shots = 0;
  sent = 0;
  heldBack = 0;
  failures = 0;

  constructor(
    private readonly obs: OBSWebSocket,
    private readonly live: LiveConnection,
    private readonly options: FrameLoopOptions,
  ) {
    this.window = this.maxWindow;
  }

  private get maxWindow(): number {
    return Math.max(1, this.options.inFlight ?? 3);
  }

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
    this.done = this.dispatch();
  }

  /** Stops requesting; resolves when the requests in flight have settled. */
  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.done;
    await Promise.all(this.requests);
  }

  /** The session's ack for one of this loop's frames. */
  ack(a: FrameAck): void {
    if (!this.outstanding.delete(a.seq)) return;
    if (a.status === 'dropped') this.window = Math.max(1, this.window - 1);
    else if (a.status === 'taken' && (a.waitedMs ?? 0) < IDLE_WAIT_MS) this.window = Math.min(this.maxWindow, this.window + 1);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async dispatch(): Promise<void> {
    const interval = 1000 / (this.options.maxFps ?? 30);
    let nextStart = performance.now();
    while (this.running) {
      const now = performance.now();
      for (const [seq, at] of this.outstanding) if (now - at > ACK_TIMEOUT_MS) this.outstanding.delete(seq);
      if (this.outstanding.size >= this.window) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => done(), ACK_TIMEOUT_MS);
          const done = (): void => {
            clearTimeout(timer);
            resolve();
          };
          this.wake = done;
        });
        continue;
      }
      if (nextStart > now) await new Promise((r) => setTimeout(r, nextStart - now));
      if (!this.running) return;
      nextStart = Math.max(performance.now(), nextStart) + interval;
      const seq = ++this.seq;
      this.outstanding.set(seq, performance.now());
      const request = this.capture(seq).finally(() => this.requests.delete(request));
      this.requests.add(request);
    }
  }

  private async capture(seq: number): Promise<void> {
    const { sourceName, sessionId, width, height } = this.options;
    const format = this.options.format ?? 'jpg';
    const requested = Date.now();
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
      if (!this.running) return;
      // A source that is briefly unavailable (reloading) should not end the matte: report,
      // wait, retry. The controller stops the loop when OBS itself goes away.
      this.failures++;
      this.options.onFailure?.(err instanceof Error ? err : new Error(String(err)));
      await new Promise((r) => setTimeout(r, FAILURE_RETRY_MS));
      this.release(seq);
      return;
    }
    this.shots++;
    if (!this.running || !this.live.open) return this.release(seq);
    const bytes = dataUriBytes(imageData);
    // The engine keeps only the newest frame anyway: a backed-up link would only add latency.
    if (this.live.bufferedAmount > MAX_QUEUED_FRAMES * Math.max(bytes.byteLength, this.lastFrameBytes)) {
      this.heldBack++;
      return this.release(seq);
    }
    this.lastFrameBytes = bytes.byteLength;
    this.live.sendFrame(sessionId, seq, requested, format === 'jpg' ? 'jpeg' : 'png', width, height, bytes);
    this.sent++;
  }

  private release(seq: number): void {
    this.outstanding.delete(seq);
    this.notify();
  }
}
