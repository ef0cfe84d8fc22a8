// The OBS controller: capture a source's clean plate, add / remove a live matte layer above the
// source, report status, and keep mattes going through OBS restarts and engine restarts. The
// same class runs in the CLI (`cleanplate obs`) and in the dock page. It talks to OBS over
// obs-websocket (obs-connection.ts, scene-layers.ts) and to the engine over HTTP/WS only.
//
// This file owns the mattes (one per source, registered before any await so two quick adds cannot
// open two sessions), their engine sessions and frame loops, and when the original is hidden:
// only once the layer shows matte frames, and back whenever the session stops.
import type { Background, LiveSessionInfo, LiveStats, ModelInfo } from '../shared/api.js';
import { listModels, measureModelSpeed } from '../shared/engine-client.js';
import { ControllerError } from './controller-error.js';
import { EngineError, uploadBackground, type LiveConnection } from './engine-client.js';
import { EngineLink } from './engine-link.js';
import { dataUriBytes, FrameLoop } from './frame-loop.js';
import { chooseLiveSize, type LiveSizeChoice } from './live-size.js';
import { ObsConnection } from './obs-connection.js';
import type { AddMatteOptions, ControllerOptions, ControllerStatus, MatteStatus } from './controller-types.js';
import { matteLayerName, SceneLayers, type Leftover, type VideoSource } from './scene-layers.js';

export { ControllerError } from './controller-error.js';
export type { AddMatteOptions, ControllerOptions, ControllerStatus, MatteStatus } from './controller-types.js';
export { matteLayerName, type Leftover, type VideoSource } from './scene-layers.js';

/** How often the controller asks whether the first matte frame is out (hide-original). */
const FIRST_FRAME_POLL_MS = 250;
/** After the engine served its first matte to the layer: OBS's media decode settles within this. */
const FIRST_FRAME_SETTLE_MS = 500;

interface Matte {
  readonly source: string;
  readonly layer: string;
  readonly options: AddMatteOptions;
  readonly model: string;
  readonly needsPlate: boolean;
  /** Dropped when a model that needs no plate finds it unknown (an engine with another plate store). */
  backgroundId: string | undefined;
  readonly width: number;
  readonly height: number;
  /** Undefined only while the first open is under way. */
  session: LiveSessionInfo | undefined;
  /** The session is open on the current engine connection. */
  live: boolean;
  loop: FrameLoop | undefined;
  originalHidden: boolean;
  failed: string | undefined;
  autoSize: LiveSizeChoice | undefined;
}

export class ObsController {
  private readonly obs: ObsConnection;
  private readonly scene: SceneLayers;
  private readonly engine: EngineLink;
  private readonly mattes = new Map<string, Matte>();
  private closing = false;
  /** Pending retries of mattes whose layer could not be put back after a reconnect. */
  private readonly resumeRetries = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly options: ControllerOptions) {
    this.engine = new EngineLink({
      engine: options.engine,
      ...(options.resolveEngine ? { resolveEngine: options.resolveEngine } : {}),
      webSocket: options.webSocket,
      reconnectMs: () => this.obs.reconnectMs,
      onAck: (a) => {
        for (const m of this.mattes.values()) if (m.live && m.session?.sessionId === a.sessionId) m.loop?.ack(a);
      },
      onFrameError: (e) => this.log(`engine refused a frame${e.seq !== undefined ? ` (${e.seq})` : ''}: ${e.code}: ${e.message}`),
      onLost: (reason) => this.onEngineLost(reason),
      onBack: (live) => this.reopenAll(live),
      onStillAway: (message) => (this.lastError = `the engine is still away: ${message}`),
    });
    this.obs = new ObsConnection({
      url: options.obsUrl,
      ...(options.obsPassword !== undefined ? { password: options.obsPassword } : {}),
      ...(options.reconnectMs ? { reconnectMs: options.reconnectMs } : {}),
      log: (l) => this.log(l),
      onLost: () => {
        for (const m of this.mattes.values()) void m.loop?.stop();
      },
      onBack: (link) => void this.resumeAll(link),
    });
    this.scene = new SceneLayers(this.obs.call, () => this.engine.endpoint);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private set lastError(message: string | undefined) {
    this.obs.lastError = message;
  }

  private get lastError(): string | undefined {
    return this.obs.lastError;
  }

  /** First connection: fails with a clear ControllerError (no retry) so the user can fix it. */
  async connect(): Promise<void> {
    this.closing = false;
    await this.obs.connect();
  }

  whenConnected(): Promise<void> {
    return this.obs.whenConnected();
  }

  get connected(): boolean {
    return this.obs.connected;
  }

  listVideoSources(): Promise<VideoSource[]> {
    return this.scene.listVideoSources();
  }

  /**
   * Layers and hidden originals in OBS that no matte of this controller accounts for: what a
   * controller that was killed leaves behind. `removeLiveMatte(source)` repairs one.
   */
  async leftovers(): Promise<Leftover[]> {
    return (await this.scene.leftovers()).filter((l) => !this.mattes.has(l.source));
  }

  /**
   * Screenshot of the source at its own size (PNG, lossless) -> the engine's plate store. The
   * user steps out of the picture first. The plate id is remembered in OBS's profile data.
   */
  async captureBackground(sourceName: string): Promise<Background> {
    const { imageData, width, height } = await this.scene.sourcePng(sourceName);
    const background = await uploadBackground(this.engine.endpoint, dataUriBytes(imageData), 'image/png');
    await this.scene.rememberPlate(sourceName, background.id);
    this.log(`captured the background of "${sourceName}" (${width}x${height}) as ${background.id}`);
    return background;
  }

  /** The plate id captured for a source (in this OBS profile), if any. */
  backgroundOf(sourceName: string): Promise<string | undefined> {
    return this.scene.plateOf(sourceName);
  }

  /** The engine's model (or its default) for a live matte, with whether it needs a plate. */
  private async liveModel(id: string | undefined): Promise<ModelInfo> {
    const { models } = await listModels(this.engine.endpoint);
    const model = id === undefined ? models.find((m) => m.default) : models.find((m) => m.id === id);
    if (!model) throw new ControllerError('unknown_model', `the engine has no model "${id ?? '(default)'}"; it has: ${models.map((m) => m.id).join(', ')}`);
    if (!model.available) throw new ControllerError('unknown_model', `model "${model.id}" is not available: ${model.unavailableReason ?? 'unknown reason'}`);
    return model;
  }

  /**
   * Opens a live session on the source (with its plate when the model needs one), starts the
   * screenshot loop and puts the matte layer above the source in the current scene with the same
   * transform. With hideOriginal, the original is moved away once the layer shows mattes.
   */
  async addLiveMatte(sourceName: string, options: AddMatteOptions = {}): Promise<MatteStatus> {
    if (this.mattes.has(sourceName)) throw new ControllerError('already_live', `"${sourceName}" already has a live matte`);
    // Registered before the first await: a second add for this source is refused, not a second session.
    const reserved = { source: sourceName } as Matte;
    this.mattes.set(sourceName, reserved);
    let matte: Matte | undefined;
    try {
      const item = await this.scene.sourceItem(sourceName);
      const model = await this.liveModel(options.model);
      // Models that matte from the frame alone (rvm) need no captured plate, but get one if there is.
      const backgroundId = await this.backgroundOf(sourceName);
      if (model.needsPlate && !backgroundId) {
        throw new ControllerError('no_background', `model "${model.id}" needs a clean plate and none was captured for "${sourceName}" yet: step out of the picture and capture it first`);
      }
      if (options.layer === 'browser') await this.scene.requireBrowserSource();
      const size = await this.scene.sourceSize(item);
      const autoSize =
        options.width === undefined
          ? await chooseLiveSize(size, async (width, height) => (await measureModelSpeed(this.engine.endpoint, model.id, { width, height })).msPerFrame, options.targetFps)
          : undefined;
      const width = autoSize?.width ?? Math.min(size.width, options.width!);
      const height = autoSize?.height ?? Math.round((size.height * width) / size.width);
      matte = {
        source: sourceName,
        layer: matteLayerName(sourceName),
        options,
        model: model.id,
        needsPlate: model.needsPlate,
        backgroundId,
        width,
        height,
        session: undefined,
        live: false,
        loop: undefined,
        originalHidden: false,
        failed: undefined,
        autoSize,
      };
      await this.openSession(matte, await this.engine.connection());
      if (this.mattes.get(sourceName) !== reserved) throw new ControllerError('not_live', `the live matte of "${sourceName}" was removed while it was being added`);
      this.mattes.set(sourceName, matte);
      this.startLoop(matte);
      await this.scene.ensureLayer(this.layerSpec(matte));
    } catch (err) {
      if (this.mattes.get(sourceName) === reserved || this.mattes.get(sourceName) === matte) this.mattes.delete(sourceName);
      await matte?.loop?.stop();
      if (matte?.session && matte.live) await this.engine.live?.closeSession(matte.session.sessionId).catch(() => undefined);
      throw err;
    }
    if (options.hideOriginal) void this.hideOnceShown(matte, matte.session!);
    // The stream URL is a credential: name its port only.
    this.log(`live matte for "${sourceName}": ${matte.width}x${matte.height} (${matte.model}), stream port ${new URL(matte.session!.streamUrl).port}, layer "${matte.layer}"`);
    return this.matteStatus(matte, null);
  }

  private async openSession(m: Matte, live: LiveConnection): Promise<void> {
    try {
      await this.openSessionOnce(m, live);
    } catch (err) {
      if (m.needsPlate || !m.backgroundId || !(err instanceof EngineError) || err.code !== 'unknown_background') throw err;
      this.log(`the engine does not know the plate of "${m.source}"; model "${m.model}" goes on without one`);
      m.backgroundId = undefined;
      await this.openSessionOnce(m, live);
    }
  }

  private async openSessionOnce(m: Matte, live: LiveConnection): Promise<void> {
    m.session = await live.openSession({
      ...(m.backgroundId ? { backgroundId: m.backgroundId } : {}),
      model: m.model,
      acks: true,
      width: m.width,
      height: m.height,
      ...(m.options.fps ? { fps: m.options.fps } : {}),
    });
    m.live = true;
  }

  private layerSpec(m: Matte): { source: string; layer: string; kind: 'media' | 'browser'; session: LiveSessionInfo } {
    return { source: m.source, layer: m.layer, kind: m.options.layer ?? 'media', session: m.session! };
  }

  /** Still the matte's current session on a live engine connection (not removed, not replaced). */
  private current(m: Matte, session: LiveSessionInfo): boolean {
    return !this.closing && this.mattes.get(m.source) === m && m.live && m.session === session;
  }

  /**
   * Hides the original once the engine has served a matte to the layer's player (and OBS had a
   * moment to decode it): before that the layer is transparent, and hiding would show only the
   * backdrop.
   */
  private async hideOnceShown(m: Matte, session: LiveSessionInfo): Promise<void> {
    while (this.current(m, session)) {
      const stats = await this.engine.live?.stats(session.sessionId).catch(() => undefined);
      if (stats && stats.matted > 0 && stats.streamClients > 0) break;
      await new Promise((r) => setTimeout(r, FIRST_FRAME_POLL_MS));
    }
    await new Promise((r) => setTimeout(r, FIRST_FRAME_SETTLE_MS));
    if (!this.current(m, session) || !this.obs.connected) return;
    try {
      await this.scene.hideOriginal(m.source);
      if (!this.current(m, session)) {
        await this.scene.showOriginal(m.source); // stopped meanwhile: never leave it hidden
        return;
      }
      m.originalHidden = true;
      this.log(`the matte of "${m.source}" is on screen: original hidden`);
    } catch (err) {
      this.log(`could not hide "${m.source}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The session stopped (engine gone, matte failed): bring the original back so the program is never empty. */
  private async restoreOriginal(m: Matte): Promise<void> {
    if (!m.options.hideOriginal || !this.obs.connected) return;
    try {
      if (await this.scene.showOriginal(m.source)) this.log(`the original "${m.source}" is shown again while its matte is stopped`);
      m.originalHidden = false;
    } catch (err) {
      this.log(`could not show "${m.source}" again: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Starts the matte's frames on the current OBS connection (stopping any earlier loop: one per matte). */
  private startLoop(m: Matte): void {
    const live = this.engine.live;
    if (!live || !m.live || !m.session) return;
    const previous = m.loop;
    void previous?.stop();
    m.loop = new FrameLoop(this.obs.screenshots(), live, {
      ...(previous ? { lastSeq: previous.lastSeq } : {}),
      sourceName: m.source,
      sessionId: m.session.sessionId,
      width: m.session.width,
      height: m.session.height,
      inFlight: this.options.inFlight ?? 3,
      maxFps: m.session.fps,
      onFailure: (err) => {
        // OBS going away is handled by the reconnect; anything else is worth saying (once).
        const message = `screenshots of "${m.source}" fail: ${err.message}`;
        if (this.obs.connected && this.lastError !== message) {
          this.lastError = message;
          this.log(message);
        }
      },
    });
    m.loop.start();
  }

  /** After an OBS reconnect: restart the frames and put every matte layer back (OBS may have lost it). */
  private async resumeAll(link: object): Promise<void> {
    await Promise.all(
      [...this.mattes.values()].map((m) => {
        if (!m.session || !m.live || !this.obs.isCurrent(link)) return undefined;
        this.startLoop(m);
        if (m.options.hideOriginal && !m.originalHidden) void this.hideOnceShown(m, m.session);
        return this.resumeLayer(link, m, this.obs.reconnectMs.first);
      }),
    );
  }

  /** Puts the layer back; an OBS still loading (or busy) gets another try later, with backoff. */
  private async resumeLayer(link: object, m: Matte, retryDelay: number): Promise<void> {
    const resumable = (): boolean => this.obs.isCurrent(link) && this.mattes.get(m.source) === m && !this.closing;
    try {
      await this.scene.ensureLayer(this.layerSpec(m));
      if (resumable()) this.log(`matte for "${m.source}" resumed`);
    } catch (err) {
      if (!resumable()) return;
      const message = `could not resume the matte for "${m.source}": ${err instanceof Error ? err.message : String(err)}`;
      if (this.lastError !== message) this.log(`${message}; trying again (every ${this.obs.reconnectMs.max} ms at most)`);
      this.lastError = message;
      const timer = setTimeout(() => {
        this.resumeRetries.delete(timer);
        if (resumable()) void this.resumeLayer(link, m, Math.min(retryDelay * 2, this.obs.reconnectMs.max));
      }, retryDelay);
      this.resumeRetries.add(timer);
    }
  }

  /** The engine connection ended: stop the frames and show the originals while it is away. */
  private onEngineLost(reason: string): void {
    if (this.closing) return;
    this.lastError = `engine ${reason}`;
    const mattes = [...this.mattes.values()].filter((m) => m.session);
    this.log(`${this.lastError}: ${mattes.length ? 'live mattes stopped, originals shown; ' : ''}reconnecting to the engine`);
    for (const m of mattes) {
      m.live = false;
      void m.loop?.stop();
      m.loop = undefined;
      void this.restoreOriginal(m);
    }
  }

  /** The engine is back: reopen every matte's session on it and point its layer at the new stream. */
  private async reopenAll(live: LiveConnection): Promise<void> {
    for (const m of [...this.mattes.values()]) {
      if (!m.session || m.live || m.failed) continue;
      try {
        await this.openSession(m, live);
      } catch (err) {
        if (err instanceof EngineError && err.code === 'engine_unreachable') throw err;
        m.failed = `the engine could not reopen the matte of "${m.source}": ${err instanceof Error ? err.message : String(err)}`;
        this.log(m.failed);
        continue;
      }
      if (this.obs.connected) {
        this.startLoop(m);
        await this.scene.ensureLayer(this.layerSpec(m)).catch((err: unknown) => this.log(`could not point "${m.layer}" at the new stream: ${err instanceof Error ? err.message : String(err)}`));
      }
      if (m.options.hideOriginal) void this.hideOnceShown(m, m.session);
      this.log(`matte for "${m.source}" resumed on the restarted engine (stream port ${new URL(m.session.streamUrl).port})`);
    }
    this.lastError = undefined;
  }

  /** Stops the frames, closes the session and removes the layer (and shows the original again). */
  async removeLiveMatte(sourceName: string): Promise<void> {
    const m = this.mattes.get(sourceName);
    this.mattes.delete(sourceName);
    await m?.loop?.stop();
    if (m?.session && m.live && this.engine.live?.open) await this.engine.live.closeSession(m.session.sessionId).catch(() => undefined);
    const removed = await this.scene.removeLayer(matteLayerName(sourceName));
    const shown = await this.scene.showOriginal(sourceName);
    if (!m && !removed && !shown) throw new ControllerError('not_live', `"${sourceName}" has no live matte`);
  }

  private matteStatus(m: Matte, stats: LiveStats | null): MatteStatus {
    return {
      source: m.source,
      layer: m.layer,
      session: m.session!,
      stats,
      shotRate: m.loop?.shotRate ?? 0,
      running: m.loop?.active ?? false,
      originalHidden: m.originalHidden,
      ...(m.failed ? { failed: m.failed } : {}),
      ...(m.autoSize ? { autoSize: m.autoSize } : {}),
    };
  }

  async status(): Promise<ControllerStatus> {
    const mattes = await Promise.all(
      [...this.mattes.values()].filter((m) => m.session).map(async (m) => this.matteStatus(m, m.live ? ((await this.engine.live?.stats(m.session!.sessionId).catch(() => null)) ?? null) : null)),
    );
    return {
      obs: this.obs.state,
      ...(this.obs.version ? { obsVersion: this.obs.version } : {}),
      engine: this.engine.state,
      ...(this.engine.lostAt !== undefined ? { engineLostAt: this.engine.lostAt } : {}),
      mattes,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * Stops every frame loop and live session and disconnects. Layers stay unless removed first;
   * a hidden original is shown again (its layer's session ends here: the program is never empty).
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.resumeRetries) clearTimeout(timer);
    this.resumeRetries.clear();
    const mattes = [...this.mattes.values()];
    this.mattes.clear();
    await Promise.all(mattes.map((m) => m.loop?.stop()));
    if (this.obs.connected) await Promise.all(mattes.filter((m) => m.session && m.options.hideOriginal).map((m) => this.scene.showOriginal(m.source).catch(() => false)));
    this.engine.close();
    await this.obs.close();
  }
}
