// Serves one live session's matted frames as an RGBA video stream on a loopback TCP port, for an
// OBS Media Source (or any ffmpeg-based player): `-f nut -i tcp://127.0.0.1:PORT`.
//
// Every connected player gets its own ffmpeg that reads raw RGBA frames on stdin and writes NUT
// (rawvideo rgba, alpha intact) to the socket. A ticker feeds the newest frame to every player at
// the stream's constant frame rate, repeating the last one while no new frame arrives, so a
// player never starves and timestamps never run ahead of the wall clock. A player that cannot
// keep up skips ticks instead of queueing frames.
import net from 'node:net';
import { spawnTool, type ToolProcess } from '../media/process.js';

export interface NutStreamOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly ffmpegPath: string;
  /** Called when a player connects or leaves, or its ffmpeg fails (for logs). */
  readonly onEvent?: (event: string) => void;
}

interface Player {
  readonly socket: net.Socket;
  readonly ffmpeg: ToolProcess;
  closed: boolean;
}

export class NutStreamServer {
  private readonly players = new Set<Player>();
  private readonly frameBytes: number;
  private frame: Uint8Array;
  private ticker: NodeJS.Timeout | undefined;
  private closing = false;
  /** Frames written to players / ticks a player skipped because its pipe was still full. */
  written = 0;
  skipped = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly options: NutStreamOptions,
  ) {
    this.frameBytes = options.width * options.height * 4;
    // Fully transparent until the first matte: the layer shows nothing rather than the raw frame.
    this.frame = new Uint8Array(this.frameBytes);
  }

  /** Listens on 127.0.0.1 (a free port unless one is given). */
  static async start(options: NutStreamOptions, port = 0): Promise<NutStreamServer> {
    const server = net.createServer();
    const stream = new NutStreamServer(server, options);
    server.on('connection', (socket) => stream.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    stream.ticker = setInterval(() => stream.tick(), 1000 / options.fps);
    return stream;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
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
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const { width, height, fps, ffmpegPath } = this.options;
    // prettier-ignore
    const ffmpeg = spawnTool(ffmpegPath, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'rawvideo', '-pix_fmt', 'rgba', '-video_size', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
      '-c:v', 'rawvideo', '-pix_fmt', 'rgba', '-f', 'nut', '-flush_packets', '1', 'pipe:1',
    ], { stdin: 'pipe', stdout: 'pipe' });
    const player: Player = { socket, ffmpeg, closed: false };
    this.players.add(player);
    this.options.onEvent?.(`player connected (${this.players.size} now)`);
    const drop = (why: string): void => {
      if (player.closed) return;
      player.closed = true;
      this.players.delete(player);
      ffmpeg.kill();
      socket.destroy();
      this.options.onEvent?.(`player left: ${why}`);
    };
    ffmpeg.child.stdout?.pipe(socket);
    // A player hanging up surfaces as EPIPE on ffmpeg's pipes or a socket error: both end it.
    ffmpeg.child.stdin?.on('error', () => drop('ffmpeg input closed'));
    ffmpeg.child.stdout?.on('error', () => drop('ffmpeg output closed'));
    socket.on('error', () => drop('socket error'));
    socket.on('close', () => drop('socket closed'));
    ffmpeg.done.then(
      () => drop('ffmpeg ended'),
      (err: unknown) => drop(`ffmpeg failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    this.feed(player); // the first frame right away: players show something ~one tick sooner
  }

  private tick(): void {
    for (const player of this.players) this.feed(player);
  }

  private feed(player: Player): void {
    const stdin = player.ffmpeg.child.stdin;
    if (player.closed || !stdin || stdin.destroyed) return;
    // Up to two frames may wait in the pipe; beyond that this player is behind: skip, never queue.
    if (stdin.writableLength >= 2 * this.frameBytes) {
      this.skipped++;
      return;
    }
    stdin.write(this.frame);
    this.written++;
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
    await Promise.all([...exits, new Promise<void>((resolve) => this.server.close(() => resolve()))]);
  }
}
