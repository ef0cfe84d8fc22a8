// WS /v1/live: the live-session protocol (types in src/shared/api.ts, frame header in
// src/shared/live-frame.ts) on the engine's HTTP server. Same guards as the HTTP routes: a
// loopback Host, an Origin that is absent (not a browser) or the engine's own, and the bearer
// credential (browsers cannot set headers on a WebSocket, so it comes as `?token=` or as a
// `cleanplate-token.<token>` subprotocol entry), or a session's watch key
// (`cleanplate-watch.<key>`), which lets that connection watch that one session only (the layer
// page). A bad message gets an
// `error` reply about that message only; the connection, its other sessions and every other
// client go on. Messages over LIVE_MAX_MESSAGE_BYTES close only the connection that sent them
// (close code 1009).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  checkWire,
  LIVE_MAX_SIDE,
  LIVE_PATH,
  LIVE_PROTOCOL,
  LIVE_TOKEN_PROTOCOL_PREFIX,
  LIVE_WATCH_PROTOCOL_PREFIX,
  LiveSessionMessageSchema,
  type LiveOpenRequest,
  type LiveServerMessage,
} from '../../shared/api.js';
import { decodeLiveFrame, encodeLiveFrame, LIVE_FRAME_HEADER_BYTES } from '../../shared/live-frame.js';
import { LiveError, type LiveSession } from '../live/session.js';
import { ToolNotFoundError } from '../media/ffmpeg-locate.js';
import { WorkerCrashError } from '../workers/client.js';
import { validateOpen, type LiveService } from '../services/live.js';
import type { Credentials } from '../auth/credentials.js';
import { isLoopbackHost, isOwnOrigin } from './security.js';
import { messageOf } from '../../shared/error-message.js';

/** The largest frame message: an RGBA frame at the largest session size plus the header. */
export const LIVE_MAX_MESSAGE_BYTES = LIVE_MAX_SIDE * LIVE_MAX_SIDE * 4 + LIVE_FRAME_HEADER_BYTES;

export interface LiveWsOptions {
  readonly credentials: Credentials;
  /** The engine's port, for the Origin check. */
  readonly port: () => number;
  readonly live: LiveService;
  readonly log?: (line: string) => void;
}

/** The subprotocol entry after `prefix`, if the client offered one. */
function offeredProtocol(req: IncomingMessage, prefix: string): string | undefined {
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return protocols.find((p) => p.startsWith(prefix))?.slice(prefix.length);
}

/** The token a client offered, from the query string or a subprotocol entry. */
function offeredToken(req: IncomingMessage, url: URL): string | undefined {
  return url.searchParams.get('token') || offeredProtocol(req, LIVE_TOKEN_PROTOCOL_PREFIX);
}

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ error: { code: reason, message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Any failure as the live protocol's error, with the same codes HTTP uses (ffmpeg_missing, busy). */
export function toLiveError(err: unknown): LiveError {
  if (err instanceof LiveError) return err;
  if (err instanceof ToolNotFoundError) return new LiveError('ffmpeg_missing', err.message);
  if (err instanceof WorkerCrashError) return new LiveError('worker_crashed', err.message, undefined, err.retryAfterSeconds * 1000);
  return new LiveError('internal', messageOf(err));
}

/** Serves WS /v1/live on `server`. Returns a function that closes every live connection. */
export function attachLiveWebSocket(server: Server, options: LiveWsOptions): () => Promise<void> {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIVE_MAX_MESSAGE_BYTES,
    // Answer with the protocol name only: echoing the token entry would put it in responses.
    handleProtocols: (protocols) => (protocols.has(LIVE_PROTOCOL) ? LIVE_PROTOCOL : false),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== LIVE_PATH) return refuse(socket, 404, 'not_found', `no WebSocket at ${url.pathname}; live sessions are at ${LIVE_PATH}`);
    if (!isLoopbackHost(req.headers.host)) return refuse(socket, 403, 'forbidden_host', 'the engine only answers requests addressed to 127.0.0.1, localhost or [::1]');
    // Browsers always send Origin on a WebSocket and pages cannot forge it: only the engine's own
    // pages may connect (a sandboxed iframe sends "null", the CEP panel does not use the socket).
    const origin = req.headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, options.port())) {
      return refuse(socket, 403, 'forbidden_origin', `origin ${origin} may not open live sessions`);
    }
    const token = offeredToken(req, url);
    // A watch key scopes the connection to watching one session; the token grants everything.
    const watchOnly = token ? undefined : options.live.byWatchKey(offeredProtocol(req, LIVE_WATCH_PROTOCOL_PREFIX))?.id;
    if (watchOnly === undefined && !options.credentials.accepts(token)) {
      return refuse(
        socket,
        401,
        'unauthorized',
        token ? 'wrong token' : `missing token: add ?token=<token> or a "${LIVE_TOKEN_PROTOCOL_PREFIX}<token>" subprotocol (or a session's "${LIVE_WATCH_PROTOCOL_PREFIX}<watchKey>")`,
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, options, watchOnly));
  });

  return async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

/** `watchOnly`: the one session a watch-key connection may watch; it may do nothing else. */
function serveConnection(ws: WebSocket, { live, log }: LiveWsOptions, watchOnly?: number): void {
  /** Sessions this connection opened: only they accept its frames, and they end with it. */
  const mine = new Map<number, { session: LiveSession; timer?: NodeJS.Timeout }>();
  /** Sessions this connection watches (gets the mattes of), with their unsubscribe. */
  const watching = new Map<number, () => void>();
  const send = (msg: LiveServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const sendError = (err: unknown, extra: { requestId?: string; sessionId?: number } = {}): void => {
    const e = toLiveError(err);
    if (e.code === 'internal') log?.(`live: internal error: ${e.message}`);
    send({ type: 'error', code: e.code, message: e.message, ...extra, ...(e.seq !== undefined ? { seq: e.seq } : {}), ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) });
  };
  const own = (sessionId: unknown): LiveSession => {
    const entry = typeof sessionId === 'number' ? mine.get(sessionId) : undefined;
    if (!entry) throw new LiveError('unknown_session', `no open session ${JSON.stringify(sessionId)} on this connection`);
    return entry.session;
  };
  const closeSession = async (id: number): Promise<void> => {
    const entry = mine.get(id);
    if (!entry) return;
    mine.delete(id);
    if (entry.timer) clearInterval(entry.timer);
    await live.close(id);
  };

  const onText = async (text: string): Promise<void> => {
    let msg: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      msg = parsed as Record<string, unknown>;
    } catch {
      throw new LiveError('bad_message', 'text messages must be JSON objects with a "type" ("open", "stats", "close" or "watch")');
    }
    if (watchOnly !== undefined && !(msg.type === 'watch' && msg.sessionId === watchOnly)) {
      throw new LiveError('watch_only', `this connection holds a watch key: it may only watch session ${watchOnly}`);
    }
    if (msg.type === 'stats' || msg.type === 'close' || msg.type === 'watch') {
      const checked = checkWire(LiveSessionMessageSchema, msg);
      if (!checked.ok) throw new LiveError('bad_message', checked.error.message);
    }
    switch (msg.type) {
      case 'open': {
        const requestId = typeof msg.requestId === 'string' ? msg.requestId : undefined;
        let req: LiveOpenRequest;
        try {
          req = validateOpen(msg);
        } catch (err) {
          sendError(err, requestId !== undefined ? { requestId } : {});
          return;
        }
        try {
          const session = await live.open(req, {
            onFrameError: (err) => sendError(err, { sessionId: session.id }),
            ...(req.acks ? { onAck: (seq, status, timing) => send({ type: 'ack', sessionId: session.id, seq, status, ...timing }) } : {}),
          });
          if (ws.readyState !== ws.OPEN) {
            await live.close(session.id); // the client left while the model was loading
            return;
          }
          const timer = req.statsIntervalMs ? setInterval(() => send({ type: 'stats', ...session.stats() }), req.statsIntervalMs) : undefined;
          mine.set(session.id, { session, ...(timer ? { timer } : {}) });
          send({ type: 'opened', ...(req.requestId !== undefined ? { requestId: req.requestId } : {}), ...session.info });
        } catch (err) {
          sendError(err, req.requestId !== undefined ? { requestId: req.requestId } : {});
        }
        return;
      }
      case 'stats':
        send({ type: 'stats', ...own(msg.sessionId).stats() });
        return;
      case 'close': {
        const id = own(msg.sessionId).id;
        await closeSession(id);
        send({ type: 'closed', sessionId: id });
        return;
      }
      case 'watch': {
        const session = typeof msg.sessionId === 'number' ? live.get(msg.sessionId) : undefined;
        if (!session) throw new LiveError('unknown_session', `no open session ${JSON.stringify(msg.sessionId)} to watch`);
        if (watching.has(session.id)) return;
        const { width, height } = session.info;
        const unwatch = session.watch({
          onMatte: (fg, seq, timestamp) => {
            // A viewer that cannot keep up skips mattes rather than queueing them.
            if (ws.readyState !== ws.OPEN || ws.bufferedAmount > 2 * fg.data.byteLength) return;
            ws.send(encodeLiveFrame({ sessionId: session.id, seq, timestamp, format: 'rgba', width, height }, fg.data));
          },
          onEnd: () => {
            watching.delete(session.id);
            send({ type: 'closed', sessionId: session.id });
          },
        });
        watching.set(session.id, unwatch);
        send({ type: 'watching', sessionId: session.id, width, height });
        return;
      }
      default:
        throw new LiveError('bad_message', `unknown message type ${JSON.stringify(msg.type)} (expected "open", "stats", "close" or "watch")`);
    }
  };

  const onBinary = (bytes: Uint8Array): void => {
    if (watchOnly !== undefined) throw new LiveError('watch_only', `this connection holds a watch key: it may only watch session ${watchOnly}`);
    const frame = decodeLiveFrame(bytes);
    if (typeof frame === 'string') throw new LiveError('bad_frame', frame);
    const entry = mine.get(frame.sessionId);
    if (!entry) throw new LiveError('unknown_session', `frame ${frame.seq} names session ${frame.sessionId}, which is not open on this connection`, frame.seq);
    entry.session.submit(frame);
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      try {
        onBinary(bytes);
      } catch (err) {
        sendError(err);
      }
    } else {
      onText(bytes.toString('utf8')).catch((err: unknown) => sendError(err));
    }
  });
  ws.on('error', (err) => log?.(`live: connection error: ${err.message}`));
  ws.on('close', () => {
    for (const unwatch of watching.values()) unwatch();
    watching.clear();
    for (const id of [...mine.keys()]) void closeSession(id);
  });
}
