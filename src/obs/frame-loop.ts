// Frames from OBS to the engine: source screenshots with a few requests in flight (measured
// faster than one at a time: OBS encodes one while the next is requested and the previous one
// travels), each frame stamped with the time its screenshot was requested (end-to-end latency).
//
// Flow control: the session sends an ack per frame (taken by the model / dropped for a newer
// one). The loop keeps at most `window` frames requested but not yet taken, and adapts the
// window: a drop means frames arrive faster than the model takes them (shrink: fewer wasted
// screenshots, less waiting, lower latency); a frame taken without waiting means the model sat
// idle (grow, up to `inFlight`, to hide OBS's screenshot time). Never more than `maxFps` requests/s.
//
// Pacing: when the model is slower than a screenshot (the ack's readyInMs, the model's time less
// the next frame's decode, exceeds the loop's recent capture time), one frame at a time is
// requested, timed to arrive when the model wants it: a frame that arrives early only waits,
// which is latency. Then latency is about capture + model instead of up to twice the model.
//
// A screenshot request holds its place until OBS answers: a busy or frozen OBS gets no more than
// `inFlight` requests, not a growing pile. Only a request unanswered for `requestTimeoutMs` is
// given up (reported as a failure), and stop() gives up every request at once, so it returns
// even when OBS never answers (the answers that still come are ignored).
import type { LiveFrameFormat } from '../shared/api.js';
import type { FrameAck, LiveConnection } from './engine-client.js';
import { ppmPixels } from './ppm.js';

/** OBS screenshot formats the loop can send: ppm travels as raw rgb (nothing to decode). */
export type ScreenshotFormat = 'jpg' | 'png' | 'ppm';

export interface ScreenshotRequest {
  readonly sourceName: string;
  readonly format: ScreenshotFormat;
  readonly width: number;
  readonly height: number;
}

/** Where the loop's screenshots come from (OBS in the controller; tests may pass a fake). */
export interface ScreenshotSource {
  /** The screenshot as a data: URI; rejects when it fails. May never settle: the loop bounds it. */
  screenshot(request: ScreenshotRequest): Promise<string>;
}

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
  /** Screenshot format (default jpg): see ScreenshotFormat and docs/performance.md for their costs. */
  readonly format?: ScreenshotFormat;
  /** Called when a screenshot request fails or times out (source missing, OBS busy or going away); the loop retries. */
  readonly onFailure?: (err: Error) => void;
  /** A screenshot request unanswered this long is given up (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** A sent frame whose ack has not come this long stops counting against the window (default 3 s). */
  readonly ackTimeoutMs?: number;
  /** Frame numbers continue after this one (a loop replacing another on the same session: late acks of its frames match none of these). */
  readonly lastSeq?: number;
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
const REQUEST_TIMEOUT_MS = 10_000;
/** A frame whose ack never came (engine hiccup, frame refused before parsing) stops counting. */
const ACK_TIMEOUT_MS = 3000;
/** A taken frame that waited less than this found the model idle. */
const IDLE_WAIT_MS = 5;
/** Frames the engine connection may have queued before the loop holds frames back. */
const MAX_QUEUED_FRAMES = 2;
/** A paced request starts this much earlier than needed: the transfer and the timers' jitter. */
const PACE_MARGIN_MS = 8;
/** Recent capture times (request -> sent) the pacing goes by. */
const CAPTURE_SAMPLES = 9;

type Settled<T> = { readonly value: T } | { readonly error: unknown } | { readonly timedOut: true } | { readonly stopped: true };

export class FrameLoop {
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private readonly requests = new Set<Promise<void>>();
  /** Frames requested or sent but not yet acked, by seq. Only sent frames time out here. */
  private readonly outstanding = new Map<number, { at: number; sent: boolean }>();
  private wake: (() => void) | undefined;
  /** Resolves when stop() is called: every wait of the loop ends with it. */
  private stopped: Promise<void> = Promise.resolve();
  private signalStop: () => void = () => undefined;
  private seq: number;
  private lastFrameBytes = 0;
  private startedAt = 0;
  /** Recent capture times, ms (newest last). */
  private readonly captureMs: number[] = [];
  /** performance.now() before which no request starts (pacing; 0 = none). */
  private notBefore = 0;
  /** Current flow-control window (1..inFlight). */
  window: number;
  /** Requests are paced to the model (it is slower than a screenshot): one frame in flight. */
  paced = false;
  /** Screenshots taken / frames sent / held back (engine link backed up) / failed or timed-out requests. */
  shots = 0;
  sent = 0;
  heldBack = 0;
  failures = 0;

  constructor(
    private readonly source: ScreenshotSource,
    private readonly live: LiveConnection,
    private readonly options: FrameLoopOptions,
  ) {
    this.window = this.maxWindow;
    this.seq = options.lastSeq ?? 0;
  }

  private get maxWindow(): number {
    return Math.max(1, this.options.inFlight ?? 3);
  }

  get active(): boolean {
    return this.running;
  }

  /** Screenshot requests still waited for (a failed one during its retry pause too; given-up ones not). */
  get pending(): number {
    return this.requests.size;
  }

  /** The last frame number used. */
  get lastSeq(): number {
    return this.seq;
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
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
    this.done = this.dispatch();
  }

  /** Stops requesting and gives up the requests in flight; resolves once no frame can be sent any more. */
  async stop(): Promise<void> {
    this.running = false;
    this.signalStop();
    this.notify();
    await this.done;
    await Promise.all(this.requests);
  }

  /** The session's ack for one of this loop's frames. */
  ack(a: FrameAck): void {
    if (!this.outstanding.delete(a.seq)) return;
    if (a.status === 'dropped') this.window = Math.max(1, this.window - 1);
    else if (a.status === 'taken' && (a.waitedMs ?? 0) < IDLE_WAIT_MS) this.window = Math.min(this.maxWindow, this.window + 1);
    if (a.status === 'taken') this.pace(a.readyInMs);
    this.notify();
  }

  /** The model wants the next frame in `readyInMs`: start its request so that it arrives then. */
  private pace(readyInMs: number | undefined): void {
    const sorted = [...this.captureMs].sort((x, y) => x - y);
    const capture = sorted[sorted.length >> 1];
    this.paced = readyInMs !== undefined && capture !== undefined && readyInMs > capture + PACE_MARGIN_MS;
    this.notBefore = this.paced ? performance.now() + readyInMs! - capture! - PACE_MARGIN_MS : 0;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits `ms`, or less when stop() is called. */
  private sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), this.stopped]).finally(() => clearTimeout(timer));
  }

  /** The request's outcome, or its timeout, or stop(), whichever comes first. */
  private settle<T>(request: Promise<T>, timeoutMs: number): Promise<Settled<T>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race<Settled<T>>([
      request.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      new Promise((r) => (timer = setTimeout(() => r({ timedOut: true }), timeoutMs))),
      this.stopped.then(() => ({ stopped: true }) as const),
    ]).finally(() => clearTimeout(timer));
  }

  private async dispatch(): Promise<void> {
    const interval = 1000 / (this.options.maxFps ?? 30);
    const ackTimeout = this.options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
    let nextStart = performance.now();
    while (this.running) {
      const now = performance.now();
      for (const [seq, f] of this.outstanding) if (f.sent && now - f.at > ackTimeout) this.outstanding.delete(seq);
      if (this.outstanding.size >= (this.paced ? 1 : this.window)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => done(), ackTimeout);
          const done = (): void => {
            clearTimeout(timer);
            resolve();
          };
          this.wake = done;
        });
        continue;
      }
      const startAt = Math.max(nextStart, this.notBefore);
      if (startAt > now) await this.sleep(startAt - now);
      if (!this.running) return;
      nextStart = Math.max(performance.now(), nextStart) + interval;
      const seq = ++this.seq;
      this.outstanding.set(seq, { at: performance.now(), sent: false });
      const request = this.capture(seq).finally(() => this.requests.delete(request));
      this.requests.add(request);
    }
  }

  private async capture(seq: number): Promise<void> {
    const { sourceName, sessionId, width, height } = this.options;
    const format = this.options.format ?? 'jpg';
    const requested = Date.now();
    const timeoutMs = this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    let request: Promise<string>;
    try {
      request = this.source.screenshot({ sourceName, format, width, height });
    } catch (err) {
      request = Promise.reject(err);
    }
    const outcome = await this.settle(request, timeoutMs);
    if ('stopped' in outcome || !this.running) return this.release(seq);
    if ('timedOut' in outcome) {
      // Given up, not cancelled: OBS may still answer (ignored). Its place goes to a new request.
      this.fail(new Error(`OBS did not answer a screenshot of "${sourceName}" within ${timeoutMs / 1000} s (busy or frozen?)`));
      return this.release(seq);
    }
    if ('error' in outcome) {
      // A source that is briefly unavailable (reloading) should not end the matte: report,
      // wait, retry. The controller stops the loop when OBS itself goes away.
      const { error } = outcome;
      this.fail(error instanceof Error ? error : new Error(String(error)));
      await this.sleep(FAILURE_RETRY_MS);
      return this.release(seq);
    }
    this.shots++;
    if (!this.live.open) return this.release(seq);
    const bytes = dataUriBytes(outcome.value);
    // The engine keeps only the newest frame anyway: a backed-up link would only add latency.
    if (this.live.bufferedAmount > MAX_QUEUED_FRAMES * Math.max(bytes.byteLength, this.lastFrameBytes)) {
      this.heldBack++;
      return this.release(seq);
    }
    let payload: { format: LiveFrameFormat; bytes: Uint8Array };
    try {
      payload = format === 'ppm' ? { format: 'rgb', bytes: ppmPixels(bytes).pixels } : { format: format === 'jpg' ? 'jpeg' : 'png', bytes };
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return this.release(seq);
    }
    this.lastFrameBytes = bytes.byteLength;
    const captureMs = Date.now() - requested;
    this.captureMs.push(captureMs);
    if (this.captureMs.length > CAPTURE_SAMPLES) this.captureMs.shift();
    this.live.sendFrame(sessionId, seq, requested, payload.format, width, height, payload.bytes, captureMs);
    this.sent++;
    const f = this.outstanding.get(seq);
    if (f) {
      f.sent = true;
      f.at = performance.now();
    }
  }

  private fail(err: Error): void {
    this.failures++;
    this.options.onFailure?.(err);
  }

  private release(seq: number): void {
    this.outstanding.delete(seq);
    this.notify();
  }
}
