// The OBS controller's view of the engine: plates over HTTP and live sessions over WS /v1/live,
// typed by the shared wire types (src/shared), never engine internals. Runs in Node (the CLI;
// pass the `ws` package's WebSocket) and in the browser (the dock; the global WebSocket).
import {
  LIVE_PATH,
  LIVE_PROTOCOL,
  LIVE_TOKEN_PROTOCOL_PREFIX,
  LiveServerMessageSchema,
  type LiveFrameFormat,
  type LiveOpenRequest,
  type LiveClientMessage,
  type LiveServerMessage,
  type LiveSessionInfo,
  type LiveStats,
} from '../shared/api.js';
import { checkAnswer, EngineError, type EngineEndpoint } from '../shared/engine-client.js';
import { encodeLiveFrame } from '../shared/live-frame.js';

/** The part of the WebSocket API used here: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** A live `error` message about a frame or a session (the session goes on). */
export type FrameErrorInfo = Pick<Extract<LiveServerMessage, { type: 'error' }>, 'sessionId' | 'seq' | 'code' | 'message'>;

export type FrameAck = Omit<Extract<LiveServerMessage, { type: 'ack' }>, 'type'>;

/** One WS /v1/live connection; sessions opened on it end when it closes. */
export class LiveConnection {
  private readonly opens = new Map<string, Pending<LiveSessionInfo>>();
  private readonly statsWaiters = new Map<number, Pending<LiveStats>[]>();
  private readonly closeWaiters = new Map<number, Pending<void>[]>();
  private nextRequest = 1;
  private closedReason: string | undefined;
  /** Frame errors and pushed stats (the session goes on after either). */
  onFrameError: ((err: FrameErrorInfo) => void) | undefined;
  onStats: ((stats: LiveStats) => void) | undefined;
  /** Per-frame acks of sessions opened with `acks: true`. */
  onAck: ((ack: FrameAck) => void) | undefined;
  /** The connection ended (engine stopped, network error, or disconnect()). */
  onClose: ((reason: string) => void) | undefined;

  private constructor(private readonly ws: WebSocketLike) {
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.ended(`live connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    ws.onerror = () => undefined; // always followed by close
  }

  static connect(engine: EngineEndpoint, factory: WebSocketFactory, timeoutMs = 15_000): Promise<LiveConnection> {
    const url = engine.url.replace(/^http/, 'ws') + LIVE_PATH;
    const ws = factory(url, [LIVE_PROTOCOL, LIVE_TOKEN_PROTOCOL_PREFIX + engine.token]);
    ws.binaryType = 'arraybuffer';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close();
        reject(new EngineError('engine_unreachable', `no answer from ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new LiveConnection(ws));
      };
      ws.onerror = () => undefined;
      ws.onclose = (ev) => {
        clearTimeout(timer);
        reject(new EngineError('engine_unreachable', `could not open ${url} (${ev.code}${ev.reason ? `: ${ev.reason}` : ''}): is the engine running and the token current?`));
      };
    });
  }

  get open(): boolean {
    return this.closedReason === undefined;
  }

  /** Bytes queued for sending: the frame loop waits while this is high. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Opens a session; the first open of a model or size can take seconds (model load). */
  openSession(req: Omit<LiveOpenRequest, 'type' | 'requestId'>, timeoutMs = 120_000): Promise<LiveSessionInfo> {
    const requestId = String(this.nextRequest++);
    return new Promise((resolve, reject) => {
      if (!this.open) return reject(new EngineError('engine_unreachable', this.closedReason!));
      const timer = setTimeout(() => {
        this.opens.delete(requestId);
        reject(new EngineError('timeout', `the engine did not open the live session within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.opens.set(requestId, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.ws.send(JSON.stringify({ ...req, type: 'open', requestId } satisfies LiveOpenRequest));
    });
  }

  /** `captureMs`: ms from `timestamp` (the screenshot request) to now, for the engine's per-hop figures. */
  sendFrame(sessionId: number, seq: number, timestamp: number, format: LiveFrameFormat, width: number, height: number, payload: Uint8Array, captureMs?: number): void {
    if (!this.open) return;
    this.ws.send(encodeLiveFrame({ sessionId, seq, timestamp, format, width, height, ...(captureMs !== undefined ? { captureMs } : {}) }, payload));
  }

  stats(sessionId: number): Promise<LiveStats> {
    return this.request(this.statsWaiters, sessionId, { type: 'stats', sessionId });
  }

  closeSession(sessionId: number): Promise<void> {
    return this.request(this.closeWaiters, sessionId, { type: 'close', sessionId });
  }

  private request<T>(waiters: Map<number, Pending<T>[]>, sessionId: number, msg: LiveClientMessage): Promise<T> {
    return new Promise((resolve, reject) => {
      if (!this.open) return reject(new EngineError('engine_unreachable', this.closedReason!));
      const list = waiters.get(sessionId) ?? [];
      list.push({ resolve, reject });
      waiters.set(sessionId, list);
      this.ws.send(JSON.stringify(msg));
    });
  }

  disconnect(): void {
    this.ws.close(1000, 'client done');
    this.ended('disconnected');
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: LiveServerMessage;
    try {
      msg = checkAnswer(LiveServerMessageSchema, JSON.parse(data), 'a live message');
    } catch (err) {
      // Not the protocol this client speaks: nothing it says can be trusted to match a request.
      const reason = err instanceof EngineError ? err.message : `the engine sent a live message that is not JSON`;
      this.ws.close(1000, 'protocol error');
      return this.ended(reason);
    }
    switch (msg.type) {
      case 'opened': {
        const waiter = msg.requestId !== undefined ? this.opens.get(msg.requestId) : undefined;
        if (msg.requestId !== undefined) this.opens.delete(msg.requestId);
        const { type: _type, requestId: _requestId, ...info } = msg;
        waiter?.resolve(info);
        return;
      }
      case 'stats': {
        const { type: _type, ...stats } = msg;
        const waiter = this.statsWaiters.get(stats.sessionId)?.shift();
        if (waiter) waiter.resolve(stats);
        else this.onStats?.(stats);
        return;
      }
      case 'ack': {
        const { type: _type, ...ack } = msg;
        this.onAck?.(ack);
        return;
      }
      case 'closed':
        this.closeWaiters.get(msg.sessionId)?.shift()?.resolve();
        return;
      case 'error': {
        const err = new EngineError(msg.code, msg.message, undefined, msg.retryAfterMs);
        if (msg.requestId !== undefined && this.opens.has(msg.requestId)) {
          this.opens.get(msg.requestId)!.reject(err);
          this.opens.delete(msg.requestId);
          return;
        }
        if (msg.code === 'unknown_session' && msg.seq === undefined && msg.sessionId === undefined) {
          // A stats/close about a session the engine no longer has: fail the oldest such request.
          for (const waiters of [this.statsWaiters, this.closeWaiters] as Map<number, Pending<unknown>[]>[]) {
            for (const list of waiters.values()) {
              const w = list.shift();
              if (w) return w.reject(err);
            }
          }
        }
        this.onFrameError?.({ code: msg.code, message: msg.message, ...(msg.sessionId !== undefined ? { sessionId: msg.sessionId } : {}), ...(msg.seq !== undefined ? { seq: msg.seq } : {}) });
        return;
      }
    }
  }

  private ended(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const err = new EngineError('engine_unreachable', reason);
    for (const w of this.opens.values()) w.reject(err);
    this.opens.clear();
    for (const waiters of [this.statsWaiters, this.closeWaiters] as Map<number, Pending<unknown>[]>[]) {
      for (const list of waiters.values()) for (const w of list) w.reject(err);
      waiters.clear();
    }
    this.onClose?.(reason);
  }
}
