// One live matte while it runs: its session on the engine, its screenshot loop, its layer in OBS
// and whether its original is hidden. The original is hidden only once the layer shows matte
// frames, and shown again whenever the session stops, so the program is never empty. The
// controller (controller.ts) keeps the register of mattes and tells each one when OBS or the
// engine went away or came back.
import type { LiveSessionInfo, LiveStats } from '../shared/api.js';
import type { AddMatteOptions, MatteStatus } from './controller-types.js';
import type { FrameAck, LiveConnection } from './engine-client.js';
import { EngineError } from '../shared/engine-client.js';
import type { EngineLink } from './engine-link.js';
import { FrameLoop, type ScreenshotFormat } from './frame-loop.js';
import type { LiveSizeChoice } from './live-size.js';
import type { ObsConnection } from './obs-connection.js';
import { matteLayerName, type LayerSpec, type SceneLayers } from './scene-layers.js';
import { messageOf } from '../shared/error-message.js';

/** How often a matte asks whether its first matte frame is out (hide-original). */
const FIRST_FRAME_POLL_MS = 250;
/** After the engine served its first matte to the layer: OBS's media decode settles within this. */
const FIRST_FRAME_SETTLE_MS = 500;

/** What was decided when the matte was added: model, plate, size. */
export interface MatteSpec {
  readonly source: string;
  readonly options: AddMatteOptions;
  readonly model: string;
  readonly needsPlate: boolean;
  readonly backgroundId: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly autoSize: LiveSizeChoice | undefined;
}

/** What a matte uses of its controller. */
export interface MatteContext {
  readonly obs: ObsConnection;
  readonly scene: SceneLayers;
  readonly engine: EngineLink;
  /** Screenshot requests in flight per matte. */
  readonly inFlight: number;
  /** Screenshot format the frames travel in (FrameLoop's default when absent). */
  readonly screenshotFormat?: ScreenshotFormat;
  log(line: string): void;
  /** The matte is still the one registered for its source, and the controller is not closing. */
  registered(m: LiveMatte): boolean;
}

export class LiveMatte {
  readonly source: string;
  readonly layer: string;
  readonly options: AddMatteOptions;
  /** Undefined until the first open succeeded. */
  session: LiveSessionInfo | undefined;
  /** The session is open on the current engine connection. */
  live = false;
  /** Why this matte cannot continue (the engine refused to reopen it); it stays until removed. */
  failed: string | undefined;
  private backgroundId: string | undefined;
  private loop: FrameLoop | undefined;
  private originalHidden = false;
  /** A pending retry of putting the layer back after an OBS reconnect. */
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly spec: MatteSpec,
    private readonly ctx: MatteContext,
  ) {
    this.source = spec.source;
    this.layer = matteLayerName(spec.source);
    this.options = spec.options;
    this.backgroundId = spec.backgroundId;
  }

  /** Opens the session on `live`. A model that needs no plate goes on without one the engine does not know. */
  async open(live: LiveConnection): Promise<void> {
    try {
      await this.openOnce(live);
    } catch (err) {
      if (this.spec.needsPlate || !this.backgroundId || !(err instanceof EngineError) || err.code !== 'unknown_background') throw err;
      this.ctx.log(`the engine does not know the plate of "${this.source}"; model "${this.spec.model}" goes on without one`);
      this.backgroundId = undefined;
      await this.openOnce(live);
    }
  }

  private async openOnce(live: LiveConnection): Promise<void> {
    this.session = await live.openSession({
      ...(this.backgroundId ? { backgroundId: this.backgroundId } : {}),
      model: this.spec.model,
      acks: true,
      width: this.spec.width,
      height: this.spec.height,
      ...(this.options.fps ? { fps: this.options.fps } : {}),
    });
    this.live = true;
  }

  /** Puts the layer above the source in the current scene, showing the session's stream. */
  ensureLayer(): Promise<void> {
    const spec: LayerSpec = { source: this.source, layer: this.layer, kind: this.options.layer ?? 'media', session: this.session! };
    return this.ctx.scene.ensureLayer(spec);
  }

  /** Starts the frames on the current OBS connection (stopping any earlier loop: one per matte). */
  startLoop(): void {
    const { obs, engine } = this.ctx;
    const live = engine.live;
    if (!live || !this.live || !this.session) return;
    const previous = this.loop;
    void previous?.stop();
    this.loop = new FrameLoop(obs.screenshots(), live, {
      ...(previous ? { lastSeq: previous.lastSeq } : {}),
      sourceName: this.source,
      sessionId: this.session.sessionId,
      width: this.session.width,
      height: this.session.height,
      inFlight: this.ctx.inFlight,
      ...(this.ctx.screenshotFormat ? { format: this.ctx.screenshotFormat } : {}),
      maxFps: this.session.fps,
      onFailure: (err) => {
        // OBS going away is handled by the reconnect; anything else is worth saying (once).
        const message = `screenshots of "${this.source}" fail: ${err.message}`;
        if (obs.connected && obs.lastError !== message) {
          obs.lastError = message;
          this.ctx.log(message);
        }
      },
    });
    this.loop.start();
  }

  /** The engine's answer for a frame of this matte's session. */
  ack(a: FrameAck): void {
    if (this.live && this.session?.sessionId === a.sessionId) this.loop?.ack(a);
  }

  /** Still this matte's current session on a live engine connection (not removed, not replaced). */
  private current(session: LiveSessionInfo): boolean {
    return this.ctx.registered(this) && this.live && this.session === session;
  }

  /**
   * With hideOriginal: hides the original once the engine has served a matte to the layer's
   * player (and OBS had a moment to decode it): before that the layer is transparent, and hiding
   * would show only the backdrop.
   */
  async hideOnceShown(): Promise<void> {
    const session = this.session;
    if (!this.options.hideOriginal || !session) return;
    while (this.current(session)) {
      const stats = await this.ctx.engine.live?.stats(session.sessionId).catch(() => undefined);
      if (stats && stats.matted > 0 && stats.streamClients > 0) break;
      await new Promise((r) => setTimeout(r, FIRST_FRAME_POLL_MS));
    }
    await new Promise((r) => setTimeout(r, FIRST_FRAME_SETTLE_MS));
    if (!this.current(session) || !this.ctx.obs.connected) return;
    try {
      await this.ctx.scene.hideOriginal(this.source);
      if (!this.current(session)) {
        await this.ctx.scene.showOriginal(this.source); // stopped meanwhile: never leave it hidden
        return;
      }
      this.originalHidden = true;
      this.ctx.log(`the matte of "${this.source}" is on screen: original hidden`);
    } catch (err) {
      this.ctx.log(`could not hide "${this.source}": ${messageOf(err)}`);
    }
  }

  /** The session stopped (engine gone, matte failed): bring the original back so the program is never empty. */
  private async restoreOriginal(): Promise<void> {
    if (!this.options.hideOriginal || !this.ctx.obs.connected) return;
    try {
      if (await this.ctx.scene.showOriginal(this.source)) this.ctx.log(`the original "${this.source}" is shown again while its matte is stopped`);
      this.originalHidden = false;
    } catch (err) {
      this.ctx.log(`could not show "${this.source}" again: ${messageOf(err)}`);
    }
  }

  /** OBS went away: the screenshots stop until it is back. */
  pause(): void {
    void this.loop?.stop();
  }

  /** After an OBS reconnect (`link`): the frames again, and the layer put back (OBS may have lost it). */
  async resume(link: object): Promise<void> {
    if (!this.session || !this.live || !this.ctx.obs.isCurrent(link)) return;
    this.startLoop();
    if (!this.originalHidden) void this.hideOnceShown();
    await this.resumeLayer(link, this.ctx.obs.reconnectMs.first);
  }

  /** Puts the layer back; an OBS still loading (or busy) gets another try later, with backoff. */
  private async resumeLayer(link: object, retryDelay: number): Promise<void> {
    const { obs } = this.ctx;
    const resumable = (): boolean => obs.isCurrent(link) && this.ctx.registered(this);
    try {
      await this.ensureLayer();
      if (resumable()) this.ctx.log(`matte for "${this.source}" resumed`);
    } catch (err) {
      if (!resumable()) return;
      const message = `could not resume the matte for "${this.source}": ${messageOf(err)}`;
      if (obs.lastError !== message) this.ctx.log(`${message}; trying again (every ${obs.reconnectMs.max} ms at most)`);
      obs.lastError = message;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (resumable()) void this.resumeLayer(link, Math.min(retryDelay * 2, obs.reconnectMs.max));
      }, retryDelay);
    }
  }

  /** The engine connection ended: the frames stop and the original is shown while it is away. */
  engineLost(): void {
    this.live = false;
    void this.loop?.stop();
    this.loop = undefined;
    void this.restoreOriginal();
  }

  /**
   * The engine is back (`live`): the session reopened on it and the layer pointed at the new
   * stream. A refusal marks the matte failed; an engine gone again (engine_unreachable) is thrown.
   */
  async reopen(live: LiveConnection): Promise<void> {
    if (!this.session || this.live || this.failed) return;
    try {
      await this.open(live);
    } catch (err) {
      if (err instanceof EngineError && err.code === 'engine_unreachable') throw err;
      this.failed = `the engine could not reopen the matte of "${this.source}": ${messageOf(err)}`;
      this.ctx.log(this.failed);
      return;
    }
    if (this.ctx.obs.connected) {
      this.startLoop();
      await this.ensureLayer().catch((err: unknown) => this.ctx.log(`could not point "${this.layer}" at the new stream: ${messageOf(err)}`));
    }
    void this.hideOnceShown();
    this.ctx.log(`matte for "${this.source}" resumed on the restarted engine (stream port ${this.streamPort()})`);
  }

  /** The stream URL is a credential: logs name its port only. */
  streamPort(): string {
    return new URL(this.session!.streamUrl).port;
  }

  /** Stops the frames and any pending retry (the session stays open). */
  async stop(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.loop?.stop();
  }

  /** Closes the session on the engine if it is open there. */
  async closeSession(): Promise<void> {
    if (this.session && this.live) await this.ctx.engine.live?.closeSession(this.session.sessionId).catch(() => undefined);
  }

  /** Shows the original again if this matte hid it (or may have). */
  async showOriginal(): Promise<void> {
    if (this.options.hideOriginal) await this.ctx.scene.showOriginal(this.source).catch(() => false);
  }

  /** The status, with the engine's figures for the session (null when it cannot be asked). */
  async status(): Promise<MatteStatus> {
    const stats: LiveStats | null = this.live && this.session ? ((await this.ctx.engine.live?.stats(this.session.sessionId).catch(() => null)) ?? null) : null;
    return {
      source: this.source,
      layer: this.layer,
      session: this.session!,
      stats,
      shotRate: this.loop?.shotRate ?? 0,
      running: this.loop?.active ?? false,
      originalHidden: this.originalHidden,
      ...(this.failed ? { failed: this.failed } : {}),
      ...(this.spec.autoSize ? { autoSize: this.spec.autoSize } : {}),
    };
  }
}
