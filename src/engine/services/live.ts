// Live sessions: open (model + stored plate when the model needs one + frame size) -> a LiveSession with its own loopback
// stream. The WS layer (http/live-ws.ts) owns the connections; this service owns sessions and
// their limits, and knows nothing about sockets.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import sharp from 'sharp';
import { checkWire, DEFAULT_ALIGN_MODE, LIVE_DEFAULT_FPS, LiveOpenSchema, type LiveOpenRequest, type LiveSessionInfo } from '../../shared/api.js';
import { MattingInputError } from '../matting/errors.js';
import type { Frame } from '../frame.js';
import { LiveError, LiveSession, liveSideWork, type LiveSessionHooks } from '../live/session.js';
import { NutStreamServer } from '../live/nut-stream.js';
import { mediaTools } from '../media/ffmpeg-locate.js';
import { UnknownBackgroundError, type BackgroundStore } from './backgrounds.js';
import type { MattingService } from './matting-service.js';

/** Each session holds a model run, a stream port and an ffmpeg per player: keep it bounded. */
export const LIVE_MAX_SESSIONS = 8;
/** The retry hint of a too_many_sessions refusal: sessions end when their clients close them. */
export const LIVE_RETRY_AFTER_MS = 2000;

export interface LiveServiceDeps {
  readonly matting: MattingService;
  readonly backgrounds: BackgroundStore;
  readonly log?: (line: string) => void;
}

/** Checks an `open` message against its schema; throws LiveError('bad_message') naming the bad field. */
export function validateOpen(msg: unknown): LiveOpenRequest {
  const checked = checkWire(LiveOpenSchema, msg, 'an open message must be a JSON object');
  if (!checked.ok) throw new LiveError('bad_message', `open: ${checked.error.message}`);
  return checked.value;
}

export class LiveService {
  private readonly sessions = new Map<number, LiveSession>();
  private nextId = 1;
  private opening = 0;

  constructor(private readonly deps: LiveServiceDeps) {}

  get count(): number {
    return this.sessions.size;
  }

  get(id: number): LiveSession | undefined {
    return this.sessions.get(id);
  }

  /** The open session whose watch key this is (constant-time compare), if any. */
  byWatchKey(key: string | undefined): LiveSession | undefined {
    if (!key || !/^[0-9a-f]{64}$/.test(key)) return undefined;
    const offered = Buffer.from(key, 'hex');
    return [...this.sessions.values()].find((s) => timingSafeEqual(offered, Buffer.from(s.info.watchKey, 'hex')));
  }

  async open(req: LiveOpenRequest, hooks: LiveSessionHooks): Promise<LiveSession> {
    if (this.sessions.size + this.opening >= LIVE_MAX_SESSIONS) {
      throw new LiveError('too_many_sessions', `the engine runs at most ${LIVE_MAX_SESSIONS} live sessions; close one first`, undefined, LIVE_RETRY_AFTER_MS);
    }
    this.opening++;
    try {
      const model = await this.deps.matting.session(req.model, liveSideWork(req.align ?? DEFAULT_ALIGN_MODE)).catch((err: unknown) => {
        if (err instanceof MattingInputError && (err.code === 'unknown_model' || err.code === 'model_unavailable')) throw new LiveError(err.code, err.message);
        throw err;
      });
      const modelId = model.modelId;
      // A model that needs no plate (needsPlate false) still gets one when given (rvm's plateAssist uses it).
      if (model.needsPlate && !req.backgroundId) {
        throw new LiveError('plate_required', `model "${modelId}" needs a clean plate: capture one (POST /v1/backgrounds) and give its "backgroundId"`);
      }
      const plate = req.backgroundId ? await this.plate(req.backgroundId, req.width, req.height) : undefined;
      const fps = req.fps ?? LIVE_DEFAULT_FPS;
      const { ffmpeg } = await mediaTools();
      const id = this.nextId++;
      const stream = await NutStreamServer.start({
        width: req.width,
        height: req.height,
        fps,
        ffmpegPath: ffmpeg.path,
        onEvent: (e) => this.deps.log?.(`live ${id}: ${e}`),
      });
      const info: LiveSessionInfo = {
        sessionId: id,
        model: modelId,
        provider: model.provider,
        width: req.width,
        height: req.height,
        fps,
        streamUrl: stream.url,
        streamFormat: 'nut',
        watchKey: randomBytes(32).toString('hex'),
      };
      const session = new LiveSession(info, this.deps.matting, plate, stream, hooks, model.needsPlate ? (req.align ?? DEFAULT_ALIGN_MODE) : undefined);
      this.sessions.set(id, session);
      this.deps.log?.(`live ${id}: opened ${req.width}x${req.height}@${fps} model ${modelId}, stream port ${stream.port}`); // the URL itself is a credential
      return session;
    } finally {
      this.opening--;
    }
  }

  /** The stored plate at the session's size (resized when captured at another size). */
  private async plate(id: string, width: number, height: number): Promise<Frame> {
    let frame: Frame;
    try {
      frame = await this.deps.backgrounds.frame(id);
    } catch (err) {
      if (err instanceof UnknownBackgroundError) throw new LiveError('unknown_background', `${err.message} (store one with POST /v1/backgrounds)`);
      throw err;
    }
    if (frame.width === width && frame.height === height) return frame;
    const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } })
      .resize(width, height, { fit: 'fill' })
      .raw()
      .toBuffer();
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: frame.channels };
  }

  async close(id: number): Promise<boolean> {
    const session = this.sessions.get(id);
    if (!session) return false;
    this.sessions.delete(id);
    await session.close();
    this.deps.log?.(`live ${id}: closed`);
    return true;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }
}
