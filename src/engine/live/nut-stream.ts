// Serves one live session's matted frames as an RGBA video stream on a loopback HTTP port, for an
// OBS Media Source (or any ffmpeg-based player): `-f nut -i http://127.0.0.1:PORT/<secret>.nut`.
// The secret path is the stream's credential (any local process can reach the port; only holders
// of the session's URL get the matte): a wrong path is refused before any ffmpeg starts, and at
// most LIVE_MAX_PLAYERS players run per session (503 + Retry-After beyond).
//
// Every connected player gets its own ffmpeg that reads raw RGBA frames on stdin and writes NUT
// (rawvideo rgba, alpha intact) to the socket. A ticker feeds the newest frame to every player at
// the stream's constant frame rate, repeating the last one while no new frame arrives, so a
// player never starves and timestamps never run ahead of the wall clock. A new frame that comes
// when a tick is overdue (the JavaScript thread was busy, e.g. with inference) goes out at once
// and restarts the ticker from there, rather than waiting for the late tick. A player that
// cannot keep up skips ticks instead of queueing frames; one that takes no frame at all for
// PLAYER_STALL_MS (it stopped reading: its ffmpeg's pipes are full) is dropped, so a connection
// that never reads cannot hold a player place and an ffmpeg for ever. Sockets beyond MAX_SOCKETS
// get a canned 503 at once and are closed (never left unanswered: a fetch() would wait for ever).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sameSecret } from '../auth/credentials.js';
import { isLoopbackHost } from '../http/security.js';
import { spawnTool, type ToolProcess } from '../media/process.js';
import { SampleWindow } from './sample-window.js';
import { messageOf } from '../../shared/error-message.js';

/** Players (each an ffmpeg) one session serves at once. */
export const LIVE_MAX_PLAYERS = 4;
/** A player whose pipe stays full this long is dropped (its ffmpeg stopped). */
export const PLAYER_STALL_MS = 10_000;
/** Open sockets per stream port, players or not: a flood of idle connections stays bounded. */
export const MAX_SOCKETS = 16;
/** The Retry-After (seconds) of a refused player or socket: players come and go as OBS reconnects. */
export const STREAM_RETRY_AFTER_SECONDS = 2;
/** Written raw to a socket over MAX_SOCKETS before its request is read: it costs no parser work. */
const BUSY_BODY = JSON.stringify({ error: { code: 'too_many_connections', message: `the stream port holds at most ${MAX_SOCKETS} connections; retry shortly` } });
const BUSY_RESPONSE = [
  'HTTP/1.1 503 Service Unavailable',
  'Content-Type: application/json',
  `Content-Length: ${Buffer.byteLength(BUSY_BODY)}`,
  `Retry-After: ${STREAM_RETRY_AFTER_SECONDS}`,
  'Connection: close',
  '',
  BUSY_BODY,
].join('\r\n');

export interface NutStreamOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly ffmpegPath: string;
  /** How long a player may take no frame before it is dropped (PLAYER_STALL_MS unless given). */
  readonly playerStallMs?: number;
  /** Called when a player connects or leaves, or its ffmpeg fails (for logs). */
  readonly onEvent?: (event: string) => void;
}

interface Player {
  readonly socket: Socket;
  readonly ffmpeg: ToolProcess;
  closed: boolean;
  /** performance.now() of the first tick this player could not take, while it takes none. */
  fullSince: number | undefined;
  drop(why: string): void;
}

export class NutStreamServer {
  private readonly players = new Set<Player>();
  private readonly frameBytes: number;
  private frame: Uint8Array;
  private ticker: NodeJS.Timeout | undefined;
  /** performance.now() of the last tick. */
  private lastTick = 0;
  private closing = false;
  /** Frames written to players / ticks a player skipped because its pipe was still full. */
  written = 0;
  skipped = 0;
  /** Ms from setFrame() to that frame's first write into a player's ffmpeg (the ticker's wait). */
  readonly muxMs = new SampleWindow();
  /** performance.now() of the last setFrame() while that frame is not yet written to any player. */
  private frameSetAt: number | undefined;

  private readonly secretPath = `/${randomBytes(24).toString('hex')}.nut`;
  /** Sockets open now, and those over the cap that got BUSY_RESPONSE (their requests are ignored). */
  private openSockets = 0;
  private readonly turnedAway = new WeakSet<Socket>();

  private constructor(
    private readonly server: http.Server,
    private readonly options: NutStreamOptions,
  ) {
    this.frameBytes = options.width * options.height * 4;
    // Fully transparent until the first matte: the layer shows nothing rather than the raw frame.
    this.frame = new Uint8Array(this.frameBytes);
  }

  /** Listens on 127.0.0.1 (a free port unless one is given). */
  static async start(options: NutStreamOptions, port = 0): Promise<NutStreamServer> {
    const server = http.createServer();
    // A client gets 5 s to send its request line and headers; the stream itself has no deadline.
    server.headersTimeout = 5000;
    server.requestTimeout = 10_000;
    const stream = new NutStreamServer(server, options);
    server.on('connection', (socket: Socket) => stream.admit(socket));
    server.on('request', (req, res) => stream.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    stream.startTicker();
    return stream;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The stream's URL; its path is the secret, so hand it only to the session's client. */
  get url(): string {
    return `http://127.0.0.1:${this.port}${this.secretPath}`;
  }

  get clientCount(): number {
    return this.players.size;
  }

  /** The frame players get from the next tick on: width*height*4 bytes of straight-alpha RGBA. */
  setFrame(rgba: Uint8Array): void {
    if (rgba.byteLength !== this.frameBytes) {
      throw new Error(`stream frame must be ${this.frameBytes} bytes (${this.options.width}x${this.options.height} RGBA), got ${rgba.byteLength}`);
    }
    this.frame = rgba;
    this.frameSetAt = performance.now();
    if (!this.closing && this.frameSetAt - this.lastTick >= 1000 / this.options.fps) {
      clearInterval(this.ticker);
      this.startTicker();
      this.tick();
    }
  }

  private startTicker(): void {
    this.lastTick = performance.now();
    this.ticker = setInterval(() => this.tick(), 1000 / this.options.fps);
  }

  private admit(socket: Socket): void {
    this.openSockets++;
    socket.once('close', () => this.openSockets--);
    if (this.openSockets <= MAX_SOCKETS) return;
    this.turnedAway.add(socket);
    socket.end(BUSY_RESPONSE);
    // A client that never reads cannot keep it open: end() waits for the write to drain.
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.turnedAway.has(req.socket)) return; // answered 503 on connect
    const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}): void => {
      const body = JSON.stringify({ error: { code, message } });
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...headers }).end(body);
    };
    if (this.closing) return refuse(503, 'session_closed', 'the live session is closing');
    if (!isLoopbackHost(req.headers.host)) return refuse(403, 'forbidden_host', 'streams answer only requests addressed to 127.0.0.1 or localhost');
    const path = (req.url ?? '').split('?')[0]!;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !sameSecret(path, this.secretPath)) {
      return refuse(404, 'not_found', 'no stream here: use the streamUrl the live session gave');
    }
    if (this.players.size >= LIVE_MAX_PLAYERS) {
      return refuse(503, 'too_many_players', `a live session serves at most ${LIVE_MAX_PLAYERS} players at once`, { 'Retry-After': String(STREAM_RETRY_AFTER_SECONDS) });
    }
    res.writeHead(200, { 'Content-Type': 'video/x-nut', 'Cache-Control': 'no-store', Connection: 'close' });
    if (req.method === 'HEAD') return void res.end();
    this.accept(req.socket, res);
  }

  private accept(socket: Socket, out: http.ServerResponse): void {
    socket.setNoDelay(true);
    const { width, height, fps, ffmpegPath } = this.options;
    // prettier-ignore
    const ffmpeg = spawnTool(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'rawvideo', '-pix_fmt', 'rgba', '-video_size', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
      '-c:v', 'rawvideo', '-pix_fmt', 'rgba', '-f', 'nut', '-flush_packets', '1', 'pipe:1',
    ], { stdin: 'pipe', stdout: 'pipe' });
    const drop = (why: string): void => {
      if (player.closed) return;
      player.closed = true;
      this.players.delete(player);
      ffmpeg.kill();
      socket.destroy();
      this.options.onEvent?.(`player left: ${why}`);
    };
    const player: Player = { socket, ffmpeg, closed: false, fullSince: undefined, drop };
    this.players.add(player);
    this.options.onEvent?.(`player connected (${this.players.size} now)`);
    ffmpeg.child.stdout?.pipe(out);
    // A player hanging up surfaces as EPIPE on ffmpeg's pipes or a socket error: both end it.
    ffmpeg.child.stdin?.on('error', () => drop('ffmpeg input closed'));
    ffmpeg.child.stdout?.on('error', () => drop('ffmpeg output closed'));
    out.on('error', () => drop('socket error'));
    out.on('close', () => drop('socket closed'));
    ffmpeg.done.then(
      () => drop('ffmpeg ended'),
      (err: unknown) => drop(`ffmpeg failed: ${messageOf(err)}`),
    );
    this.feed(player); // the first frame right away: players show something ~one tick sooner
  }

  private tick(): void {
    this.lastTick = performance.now();
    for (const player of this.players) this.feed(player);
  }

  private feed(player: Player): void {
    const stdin = player.ffmpeg.child.stdin;
    if (player.closed || !stdin || stdin.destroyed) return;
    // Up to two frames may wait in the pipe; beyond that this player is behind: skip, never queue.
    if (stdin.writableLength >= 2 * this.frameBytes) {
      this.skipped++;
      const now = performance.now();
      player.fullSince ??= now;
      if (now - player.fullSince >= (this.options.playerStallMs ?? PLAYER_STALL_MS)) player.drop('stalled: took no frame');
      return;
    }
    player.fullSince = undefined;
    stdin.write(this.frame);
    this.written++;
    if (this.frameSetAt !== undefined) {
      this.muxMs.add(performance.now() - this.frameSetAt);
      this.frameSetAt = undefined;
    }
  }

  /** Stops listening, disconnects every player and waits for their ffmpeg processes to exit. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.ticker) clearInterval(this.ticker);
    const exits = [...this.players].map((p) => p.ffmpeg.done.catch(() => undefined));
    for (const p of this.players) {
      p.closed = true;
      p.ffmpeg.kill();
      p.socket.destroy();
    }
    this.players.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await Promise.all([...exits, closed]);
  }
}
