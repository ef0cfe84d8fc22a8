// One live session: frames in (latest wins), matted by the model, served as an RGBA stream.
// Frames wait in a one-place slot while the model is busy, so a slow model drops stale frames
// instead of building a queue; decoding happens after the slot, so dropped frames cost nothing.
import type { AlignMode, LiveAckStatus, LiveErrorCode, LiveSessionInfo, LiveStats, LatencySummary } from '../../shared/api.js';
import { PlateAligner } from '../align/aligner.js';
import type { LiveFrame } from '../../shared/live-frame.js';
import { MattingInputError } from '../matting/errors.js';
import type { SideWork } from '../matting/thread-policy.js';
import { FrameSequence } from '../matting/types.js';
import type { Frame } from '../frame.js';
import { decodeImage, ImageInputError } from '../media/image.js';
import type { MattingService } from '../services/matting-service.js';
import { LatestSlot } from './latest-slot.js';
import type { NutStreamServer } from './nut-stream.js';

/** A problem with a session's input or a client message, reported to its client. */
export class LiveError extends Error {
  constructor(
    readonly code: LiveErrorCode,
    message: string,
    readonly seq?: number,
  ) {
    super(message);
    this.name = 'LiveError';
  }
}

interface PendingFrame {
  readonly frame: LiveFrame;
  /** performance.now() at arrival. */
  readonly arrived: number;
}

/** The last N samples of a duration, for median / p95. */
class SampleWindow {
  private readonly samples: number[] = [];
  constructor(private readonly size = 300) {}
  add(v: number): void {
    this.samples.push(v);
    if (this.samples.length > this.size) this.samples.shift();
  }
  summary(): LatencySummary {
    if (this.samples.length === 0) return { median: null, p95: null };
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
    return { median: at(0.5), p95: at(0.95) };
  }
}

const FPS_WINDOW_MS = 3000;

export interface LiveSessionHooks {
  /** A frame could not be used (the session goes on). */
  onFrameError(err: LiveError): void;
  /** What became of each frame, for clients that pace themselves by it (`acks`). */
  onAck?(seq: number, status: LiveAckStatus, waitedMs?: number): void;
}

export interface LiveWatcher {
  /** A new matte: straight-alpha RGBA at the session's size. */
  onMatte(foreground: Frame, seq: number, timestamp: number): void;
  onEnd(): void;
}

/** Beside the model: screenshot decode, NUT mux (ffmpeg) and alignment when on; sets the model's threads. */
export function liveSideWork(align: AlignMode | undefined): SideWork {
  return { decode: true, encode: true, align: align !== undefined && align !== 'off' };
}

export class LiveSession {
  private readonly watchers = new Set<LiveWatcher>();
  private readonly slot = new LatestSlot<PendingFrame>();
  private readonly latency = new SampleWindow();
  private readonly engineLatency = new SampleWindow();
  private readonly servedAt: number[] = [];
  private readonly loopDone: Promise<void>;
  private closed = false;
  private convertedPlate: Frame | undefined;
  /** The stream's frames in order, for recurrent models (rvm); a new session starts afresh. */
  private readonly sequence = new FrameSequence();
  received = 0;
  matted = 0;
  dropped = 0;
  rejected = 0;

  constructor(
    readonly info: LiveSessionInfo,
    private readonly matting: MattingService,
    /** The session's plate; undefined for models that take none. */
    private readonly background: Frame | undefined,
    private readonly stream: NutStreamServer,
    private readonly hooks: LiveSessionHooks,
    /** Plate alignment mode; undefined for models that take no plate. */
    private readonly align?: AlignMode,
  ) {
    this.loopDone = this.loop();
  }

  get id(): number {
    return this.info.sessionId;
  }

  /** Takes a frame from the client; a frame still waiting for the model is dropped in its favour. */
  submit(frame: LiveFrame): void {
    if (this.closed) return;
    this.received++;
    if (frame.width !== this.info.width || frame.height !== this.info.height) {
      this.reject(new LiveError('frame_size_mismatch', `frame ${frame.seq} is ${frame.width}x${frame.height}, the session is ${this.info.width}x${this.info.height}`, frame.seq));
      this.hooks.onAck?.(frame.seq, 'rejected');
      return;
    }
    const displaced = this.slot.put({ frame, arrived: performance.now() });
    if (displaced) {
      this.dropped++;
      this.hooks.onAck?.(displaced.frame.seq, 'dropped');
    }
  }

  private reject(err: LiveError): void {
    this.rejected++;
    this.hooks.onFrameError(err);
  }

  private async loop(): Promise<void> {
    for (;;) {
      const pending = await this.slot.take();
      if (!pending || this.closed) return;
      this.hooks.onAck?.(pending.frame.seq, 'taken', Math.round(performance.now() - pending.arrived));
      try {
        const frame = await this.decode(pending.frame);
        const { result } = await this.matting.run(this.info.model, frame, await this.alignedPlate(frame), { foreground: true, sequence: this.sequence }, liveSideWork(this.align));
        if (this.closed) return;
        if (!result.foreground) throw new Error(`model ${this.info.model} returned no foreground`);
        this.stream.setFrame(result.foreground.data);
        this.served(pending);
        for (const w of this.watchers) w.onMatte(result.foreground, pending.frame.seq, pending.frame.timestamp);
      } catch (err) {
        if (this.closed) return;
        this.reject(asLiveError(err, pending.frame.seq));
      }
    }
  }

  /** The plate with the frame's channel count (models match them); converted once per session. */
  private aligner: PlateAligner | undefined;

  /** The plate for this frame, aligned to it when the session aligns (a hand-held webcam, auto-exposure). */
  private alignedPlate(frame: Frame): Promise<Frame | undefined> | Frame | undefined {
    if (!this.background) return undefined;
    const plate = this.plateFor(this.background, frame.channels);
    if (!this.align) return plate;
    if (this.aligner?.plate !== plate) this.aligner = new PlateAligner(plate, { mode: this.align, video: true });
    return this.aligner.plateFor(frame);
  }

  private plateFor(background: Frame, channels: 3 | 4): Frame {
    if (background.channels === channels) return background;
    if (this.convertedPlate?.channels === channels) return this.convertedPlate;
    const { data, width, height, channels: from } = background;
    const out = new Uint8Array(width * height * channels).fill(255);
    for (let i = 0, n = width * height; i < n; i++) {
      for (let c = 0; c < 3; c++) out[i * channels + c] = data[i * from + c]!;
    }
    this.convertedPlate = { data: out, width, height, channels };
    return this.convertedPlate;
  }

  private async decode(frame: LiveFrame): Promise<Frame> {
    if (frame.format === 'rgba') return { data: frame.payload, width: frame.width, height: frame.height, channels: 4 };
    const decoded = await decodeImage(frame.payload, `frame ${frame.seq} (${frame.format})`);
    if (decoded.width !== this.info.width || decoded.height !== this.info.height) {
      throw new LiveError('frame_size_mismatch', `frame ${frame.seq} decodes to ${decoded.width}x${decoded.height}, the session is ${this.info.width}x${this.info.height}`, frame.seq);
    }
    return decoded;
  }

  private served(pending: PendingFrame): void {
    const now = performance.now();
    this.matted++;
    this.latency.add(Date.now() - pending.frame.timestamp);
    this.engineLatency.add(now - pending.arrived);
    this.servedAt.push(now);
    while (this.servedAt.length > 0 && this.servedAt[0]! < now - FPS_WINDOW_MS) this.servedAt.shift();
  }

  stats(): LiveStats {
    const now = performance.now();
    const recent = this.servedAt.filter((t) => t >= now - FPS_WINDOW_MS);
    const span = recent.length > 1 ? (recent[recent.length - 1]! - recent[0]!) / 1000 : 0;
    return {
      sessionId: this.id,
      fps: span > 0 ? Math.round(((recent.length - 1) / span) * 10) / 10 : 0,
      received: this.received,
      matted: this.matted,
      dropped: this.dropped,
      rejected: this.rejected,
      dropRate: this.received > 0 ? Math.round((this.dropped / this.received) * 1000) / 1000 : 0,
      latencyMs: this.latency.summary(),
      engineMs: this.engineLatency.summary(),
      streamClients: this.stream.clientCount,
      ...(this.aligner ? { align: this.aligner.report() } : {}),
    };
  }

  /** Stops taking frames, waits for the frame in the model (if any), closes the stream. */
  /** Gets every matte as it is served (the browser-source page); returns the unsubscribe. */
  watch(watcher: LiveWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) w.onEnd();
    this.watchers.clear();
    this.slot.close();
    await this.loopDone;
    await this.stream.close();
  }
}

function asLiveError(err: unknown, seq: number): LiveError {
  if (err instanceof LiveError) return err;
  if (err instanceof ImageInputError) return new LiveError('bad_frame', err.message, seq);
  if (err instanceof MattingInputError) return new LiveError('bad_frame', `frame ${seq}: ${err.message}`, seq);
  return new LiveError('internal', `frame ${seq}: ${err instanceof Error ? err.message : String(err)}`, seq);
}
