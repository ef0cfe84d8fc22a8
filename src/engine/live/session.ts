// One live session: frames in (latest wins), matted by the model, served as an RGBA stream.
// Two stages, each behind a one-place slot (a newer frame replaces the waiting one, so a slow
// model drops stale frames instead of building a queue): prepare (decode, plate alignment) and
// model (inference, then the stream). Frame N+1 is prepared while the model works on frame N;
// decoding happens after the first slot, so frames dropped there cost nothing. Every hop's time
// is kept (stats().hops).
import type { AlignMode, LiveAckStatus, LiveErrorCode, LiveSessionInfo, LiveStats } from '../../shared/api.js';
import { createAligner, type Aligner } from '../align/remote-aligner.js';
import type { LiveFrame } from '../../shared/live-frame.js';
import { MattingInputError } from '../matting/errors.js';
import type { SideWork } from '../matting/thread-policy.js';
import { FrameSequence } from '../matting/types.js';
import type { Frame } from '../frame.js';
import { decodeImage, ImageInputError } from '../media/image.js';
import type { MattingService } from '../services/matting-service.js';
import { LatestSlot } from './latest-slot.js';
import type { NutStreamServer } from './nut-stream.js';
import { HopTimes, SampleWindow } from './sample-window.js';
import { messageOf } from '../../shared/error-message.js';

/** A problem with a session's input or a client message, reported to its client. */
export class LiveError extends Error {
  constructor(
    readonly code: LiveErrorCode,
    message: string,
    readonly seq?: number,
    /** Capacity refusals: when trying again may succeed (sent as the message's retryAfterMs). */
    readonly retryAfterMs?: number,
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

/** A frame decoded, with its plate, waiting for the model. */
interface PreparedFrame extends PendingFrame {
  readonly image: Frame;
  readonly plate: Frame | undefined;
  /** performance.now() when it was ready. */
  readonly ready: number;
  /** Ms it waited in the first slot. */
  readonly waited: number;
}

const FPS_WINDOW_MS = 3000;

/** What a `taken` ack says about timing (see the ack message in src/shared/api/live.ts). */
export interface AckTiming {
  readonly waitedMs: number;
  readonly readyInMs?: number;
}

export interface LiveSessionHooks {
  /** A frame could not be used (the session goes on). */
  onFrameError(err: LiveError): void;
  /** What became of each frame, for clients that pace themselves by it (`acks`). */
  onAck?(seq: number, status: LiveAckStatus, timing?: AckTiming): void;
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
  private readonly prepared = new LatestSlot<PreparedFrame>();
  private readonly latency = new SampleWindow();
  private readonly engineLatency = new SampleWindow();
  private readonly hops = new HopTimes();
  private readonly servedAt: number[] = [];
  private readonly loopDone: Promise<unknown>;
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
    this.loopDone = Promise.all([this.prepareLoop(), this.modelLoop()]);
  }

  get id(): number {
    return this.info.sessionId;
  }

  /** Takes a frame from the client; a frame still waiting (to be prepared) is dropped in its favour. */
  submit(frame: LiveFrame): void {
    if (this.closed) return;
    this.received++;
    if (frame.width !== this.info.width || frame.height !== this.info.height) {
      this.reject(new LiveError('frame_size_mismatch', `frame ${frame.seq} is ${frame.width}x${frame.height}, the session is ${this.info.width}x${this.info.height}`, frame.seq));
      this.hooks.onAck?.(frame.seq, 'rejected');
      return;
    }
    if (frame.captureMs !== undefined) {
      this.hops.add('capture', frame.captureMs);
      // Same machine, same clock: the client's send time is timestamp + captureMs.
      this.hops.add('transfer', Math.max(0, Date.now() - frame.timestamp - frame.captureMs));
    }
    this.drop(this.slot.put({ frame, arrived: performance.now() }));
  }

  private drop(displaced: PendingFrame | undefined): void {
    if (!displaced) return;
    this.dropped++;
    this.hooks.onAck?.(displaced.frame.seq, 'dropped');
  }

  private reject(err: LiveError): void {
    this.rejected++;
    this.hooks.onFrameError(err);
  }

  /** Stage 1: decode and align the newest frame while the model works on the previous one. */
  private async prepareLoop(): Promise<void> {
    for (;;) {
      const pending = await this.slot.take();
      if (!pending || this.closed) return;
      const taken = performance.now();
      const waited = taken - pending.arrived;
      try {
        const image = await this.decode(pending.frame);
        const decoded = performance.now();
        this.hops.add('decode', decoded - taken);
        const plate = await this.alignedPlate(image);
        const ready = performance.now();
        if (this.background) this.hops.add('align', ready - decoded);
        if (this.closed) return;
        this.drop(this.prepared.put({ ...pending, image, plate, ready, waited }));
      } catch (err) {
        if (this.closed) return;
        this.reject(asLiveError(err, pending.frame.seq));
        this.hooks.onAck?.(pending.frame.seq, 'rejected');
      }
    }
  }

  /** Stage 2: the model, then the stream and the watchers. */
  private async modelLoop(): Promise<void> {
    for (;;) {
      const ready = await this.prepared.take();
      if (!ready || this.closed) return;
      const { frame } = ready;
      // Time in both slots, not its preparation: about 0 means the model sat idle.
      const waited = ready.waited + performance.now() - ready.ready;
      this.hooks.onAck?.(frame.seq, 'taken', { waitedMs: Math.round(waited), ...this.readyIn() });
      try {
        const started = performance.now();
        const { result, ms } = await this.matting.run(this.info.model, ready.image, ready.plate, { foreground: true, sequence: this.sequence }, liveSideWork(this.align));
        if (this.closed) return;
        // Plus the model's queue when another session holds it.
        this.hops.add('wait', waited + performance.now() - started - ms);
        this.hops.add('model', ms);
        if (!result.foreground) throw new Error(`model ${this.info.model} returned no foreground`);
        this.stream.setFrame(result.foreground.data);
        this.served(ready);
        for (const w of this.watchers) w.onMatte(result.foreground, frame.seq, frame.timestamp);
      } catch (err) {
        if (this.closed) return;
        this.reject(asLiveError(err, frame.seq));
      }
    }
  }

  /** When the model should want the next frame: its median time less the next one's preparation. */
  private readyIn(): { readyInMs?: number } {
    const model = this.hops.median('model');
    if (model === 0) return {};
    return { readyInMs: Math.max(0, Math.round(model - this.hops.median('decode') - this.hops.median('align'))) };
  }

  /** The plate with the frame's channel count (models match them); converted once per session. */
  private aligner: Aligner | undefined;

  /** The plate for this frame, aligned to it when the session aligns (a hand-held webcam, auto-exposure). */
  private alignedPlate(frame: Frame): Promise<Frame | undefined> | Frame | undefined {
    if (!this.background) return undefined;
    const plate = this.plateFor(this.background, frame.channels);
    if (!this.align) return plate;
    if (this.aligner?.plate !== plate) {
      this.aligner?.close();
      // In the align worker: the model of the previous frame runs meanwhile.
      this.aligner = createAligner(plate, { mode: this.align, video: true });
    }
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
    if (frame.format === 'rgba' || frame.format === 'rgb') {
      return { data: frame.payload, width: frame.width, height: frame.height, channels: frame.format === 'rgba' ? 4 : 3 };
    }
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
      hops: this.hops.summary({ mux: this.stream.muxMs }),
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
    this.prepared.close();
    await this.loopDone;
    this.aligner?.close();
    await this.stream.close();
  }
}

function asLiveError(err: unknown, seq: number): LiveError {
  if (err instanceof LiveError) return err;
  if (err instanceof ImageInputError) return new LiveError('bad_frame', err.message, seq);
  if (err instanceof MattingInputError) return new LiveError('bad_frame', `frame ${seq}: ${err.message}`, seq);
  return new LiveError('internal', `frame ${seq}: ${messageOf(err)}`, seq);
}
