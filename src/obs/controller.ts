// The OBS controller: capture a source's clean plate, add / remove a live matte layer above the
// source, report status, and keep mattes going through OBS restarts and engine restarts. The
// same class runs in the CLI (`cleanplate obs`) and in the dock page. It talks to OBS over
// obs-websocket (obs-connection.ts, scene-layers.ts) and to the engine over HTTP/WS only
// (engine-link.ts).
//
// This file owns the register of mattes (one per source, reserved before any await so two quick
// adds cannot open two sessions), decides each new matte's model, plate and size, and tells every
// matte (live-matte.ts: its session, frames, layer and original) when OBS or the engine went away
// or came back.
import type { Background, ModelInfo } from '../shared/api.js';
import { listModels, measureModelSpeed, uploadBackground } from '../shared/engine-client.js';
import { ControllerError } from './controller-error.js';
import type { LiveConnection } from './engine-client.js';
import { EngineLink } from './engine-link.js';
import { dataUriBytes } from './frame-loop.js';
import { chooseLiveSize } from './live-size.js';
import { LiveMatte, type MatteContext } from './live-matte.js';
import { ObsConnection } from './obs-connection.js';
import type { AddMatteOptions, ControllerOptions, ControllerStatus, MatteStatus } from './controller-types.js';
import { matteLayerName, SceneLayers, type Leftover, type VideoSource } from './scene-layers.js';

export class ObsController {
  private readonly obs: ObsConnection;
  private readonly scene: SceneLayers;
  private readonly engine: EngineLink;
  private readonly mattes = new Map<string, LiveMatte>();
  /** Sources whose matte is being added (the token tells one add from a later one). */
  private readonly adding = new Map<string, object>();
  private readonly context: MatteContext;
  private closing = false;

  constructor(private readonly options: ControllerOptions) {
    this.engine = new EngineLink({
      engine: options.engine,
      ...(options.resolveEngine ? { resolveEngine: options.resolveEngine } : {}),
      webSocket: options.webSocket,
      reconnectMs: () => this.obs.reconnectMs,
      onAck: (a) => {
        for (const m of this.mattes.values()) m.ack(a);
      },
      onFrameError: (e) => this.log(`engine refused a frame${e.seq !== undefined ? ` (${e.seq})` : ''}: ${e.code}: ${e.message}`),
      onLost: (reason) => this.onEngineLost(reason),
      onBack: (live) => this.reopenAll(live),
      onStillAway: (message) => (this.obs.lastError = `the engine is still away: ${message}`),
    });
    this.obs = new ObsConnection({
      url: options.obsUrl,
      ...(options.obsPassword !== undefined ? { password: options.obsPassword } : {}),
      ...(options.reconnectMs ? { reconnectMs: options.reconnectMs } : {}),
      log: (l) => this.log(l),
      onLost: () => {
        for (const m of this.mattes.values()) m.pause();
      },
      onBack: (link) => void Promise.all([...this.mattes.values()].map((m) => m.resume(link))),
    });
    this.scene = new SceneLayers(this.obs.call, () => this.engine.endpoint);
    this.context = {
      obs: this.obs,
      scene: this.scene,
      engine: this.engine,
      inFlight: options.inFlight ?? 3,
      ...(options.screenshotFormat ? { screenshotFormat: options.screenshotFormat } : {}),
      log: (line) => this.log(line),
      registered: (m) => !this.closing && this.mattes.get(m.source) === m,
    };
  }

  private log(line: string): void {
    this.options.log?.(line);
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
    return (await this.scene.leftovers()).filter((l) => !this.mattes.has(l.source) && !this.adding.has(l.source));
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
    if (this.mattes.has(sourceName) || this.adding.has(sourceName)) throw new ControllerError('already_live', `"${sourceName}" already has a live matte`);
    // Reserved before the first await: a second add for this source is refused, not a second session.
    const reserved = {};
    this.adding.set(sourceName, reserved);
    let matte: LiveMatte | undefined;
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
      matte = new LiveMatte({ source: sourceName, options, model: model.id, needsPlate: model.needsPlate, backgroundId, width, height, autoSize }, this.context);
      await matte.open(await this.engine.connection());
      if (this.adding.get(sourceName) !== reserved) throw new ControllerError('not_live', `the live matte of "${sourceName}" was removed while it was being added`);
      this.adding.delete(sourceName);
      this.mattes.set(sourceName, matte);
      matte.startLoop();
      await matte.ensureLayer();
    } catch (err) {
      if (this.adding.get(sourceName) === reserved) this.adding.delete(sourceName);
      if (matte && this.mattes.get(sourceName) === matte) this.mattes.delete(sourceName);
      await matte?.stop();
      await matte?.closeSession();
      throw err;
    }
    void matte.hideOnceShown();
    this.log(`live matte for "${sourceName}": ${matte.spec.width}x${matte.spec.height} (${matte.spec.model}), stream port ${matte.streamPort()}, layer "${matte.layer}"`);
    return matte.status();
  }

  /** The engine connection ended: stop the frames and show the originals while it is away. */
  private onEngineLost(reason: string): void {
    if (this.closing) return;
    this.obs.lastError = `engine ${reason}`;
    const mattes = [...this.mattes.values()];
    this.log(`${this.obs.lastError}: ${mattes.length ? 'live mattes stopped, originals shown; ' : ''}reconnecting to the engine`);
    for (const m of mattes) m.engineLost();
  }

  /** The engine is back: reopen every matte's session on it and point its layer at the new stream. */
  private async reopenAll(live: LiveConnection): Promise<void> {
    for (const m of [...this.mattes.values()]) await m.reopen(live);
    this.obs.lastError = undefined;
  }

  /** Stops the frames, closes the session and removes the layer (and shows the original again). */
  async removeLiveMatte(sourceName: string): Promise<void> {
    const m = this.mattes.get(sourceName);
    const wasAdding = this.adding.delete(sourceName);
    this.mattes.delete(sourceName);
    await m?.stop();
    await m?.closeSession();
    const removed = await this.scene.removeLayer(matteLayerName(sourceName));
    const shown = await this.scene.showOriginal(sourceName);
    if (!m && !wasAdding && !removed && !shown) throw new ControllerError('not_live', `"${sourceName}" has no live matte`);
  }

  async status(): Promise<ControllerStatus> {
    const mattes = await Promise.all([...this.mattes.values()].map((m) => m.status()));
    return {
      obs: this.obs.state,
      ...(this.obs.version ? { obsVersion: this.obs.version } : {}),
      engine: this.engine.state,
      ...(this.engine.lostAt !== undefined ? { engineLostAt: this.engine.lostAt } : {}),
      mattes,
      ...(this.obs.lastError ? { lastError: this.obs.lastError } : {}),
    };
  }

  /**
   * Stops every frame loop and live session and disconnects. Layers stay unless removed first;
   * a hidden original is shown again (its layer's session ends here: the program is never empty).
   */
  async close(): Promise<void> {
    this.closing = true;
    const mattes = [...this.mattes.values()];
    this.mattes.clear();
    this.adding.clear();
    await Promise.all(mattes.map((m) => m.stop()));
    if (this.obs.connected) await Promise.all(mattes.map((m) => m.showOriginal()));
    this.engine.close();
    await this.obs.close();
  }
}
