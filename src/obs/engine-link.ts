// The controller's link to the engine's live API: one WS /v1/live connection shared by every
// matte (concurrent callers share one connection attempt), and after it drops, reconnection with
// backoff, finding the engine again first (a restarted engine may have a new port and token).
import { LiveConnection, type FrameAck, type FrameErrorInfo, type WebSocketFactory } from './engine-client.js';
import { EngineError, type EngineEndpoint } from '../shared/engine-client.js';
import { messageOf } from '../shared/error-message.js';

export type EngineState = 'connected' | 'reconnecting' | 'idle';

export interface EngineLinkOptions {
  readonly engine: EngineEndpoint;
  readonly resolveEngine?: () => Promise<EngineEndpoint | undefined>;
  readonly webSocket: WebSocketFactory;
  readonly reconnectMs: () => { readonly first: number; readonly max: number };
  readonly onAck: (ack: FrameAck) => void;
  readonly onFrameError: (err: FrameErrorInfo) => void;
  /** The connection dropped; a reconnect is under way. */
  readonly onLost: (reason: string) => void;
  /**
   * A new connection is up after a loss: reopen the sessions on it. Rejecting with an
   * `engine_unreachable` EngineError means "gone again": the link keeps trying.
   */
  readonly onBack: (live: LiveConnection) => Promise<void>;
  readonly onStillAway: (message: string) => void;
}

export class EngineLink {
  private current: LiveConnection | undefined;
  private connecting: Promise<LiveConnection> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;
  endpoint: EngineEndpoint;
  state: EngineState = 'idle';
  /**
   * Date.now() since when the engine has not answered (undefined while it does). Cleared as soon as
   * a reconnect gets an answer, not once the sessions are back: reopening them on a loaded machine
   * can take seconds, and `obs run --engine-wait` must not give up on an engine that is back.
   */
  lostAt: number | undefined;

  constructor(private readonly options: EngineLinkOptions) {
    this.endpoint = options.engine;
  }

  /** The open connection, if any (no connection attempt). */
  get live(): LiveConnection | undefined {
    return this.current?.open ? this.current : undefined;
  }

  /** The one live connection; concurrent callers share one attempt. */
  connection(): Promise<LiveConnection> {
    if (this.current?.open) return Promise.resolve(this.current);
    this.connecting ??= LiveConnection.connect(this.endpoint, this.options.webSocket)
      .then((live) => {
        live.onClose = (reason) => this.lost(live, reason);
        live.onAck = this.options.onAck;
        live.onFrameError = this.options.onFrameError;
        this.current = live;
        if (this.state === 'idle') this.state = 'connected';
        return live;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private lost(live: LiveConnection, reason: string): void {
    if (this.closing || this.current !== live) return;
    this.current = undefined;
    this.state = 'reconnecting';
    this.lostAt = Date.now();
    this.options.onLost(reason);
    this.schedule(this.options.reconnectMs().first);
  }

  private schedule(delay: number): void {
    // One pending attempt at a time (a failed attempt and a dropped connection both ask for one).
    if (this.closing || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reconnect().catch((err: unknown) => {
        this.lostAt ??= Date.now();
        this.options.onStillAway(messageOf(err));
        this.schedule(Math.min(delay * 2, this.options.reconnectMs().max));
      });
    }, delay);
  }

  private async reconnect(): Promise<void> {
    this.endpoint = (await this.options.resolveEngine?.().catch(() => undefined)) ?? this.endpoint;
    const live = await this.connection();
    this.lostAt = undefined;
    await this.options.onBack(live);
    if (!live.open) throw new EngineError('engine_unreachable', 'the engine went away again');
    this.state = 'connected';
  }

  close(): void {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.current?.disconnect();
    this.current = undefined;
  }
}
