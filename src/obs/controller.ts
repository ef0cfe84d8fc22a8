// The OBS controller (obs-websocket v5): list video sources, capture a source's clean plate,
// add / remove a live matte layer above the source, report status, and survive OBS restarts.
// The same class runs in the CLI (`cleanplate obs`) and in the dock page. It talks to OBS over
// obs-websocket and to the engine over HTTP/WS only.
//
// The matte layer is a Media Source (`ffmpeg_source`) reading the engine's NUT stream over
// loopback TCP: it carries alpha and works in every OBS build (no browser source needed).
import OBSWebSocket, { EventSubscription, OBSWebSocketError, type OBSRequestTypes, type OBSResponseTypes } from 'obs-websocket-js';
import type { Background, LiveSessionInfo, LiveStats, ModelInfo } from '../shared/api.js';
import { listModels } from '../shared/engine-client.js';
import { LiveConnection, uploadBackground, type EngineEndpoint, type WebSocketFactory } from './engine-client.js';
import { dataUriBytes, FrameLoop, type ScreenshotSource } from './frame-loop.js';
import { ObsRequestError, settledCall } from './obs-request.js';

export const MATTE_SUFFIX = ' (CleanPlate matte)';
/** Where the controller remembers each source's plate id (the dock and the CLI share it). */
const PLATE_SLOT_PREFIX = 'cleanplate.background.';
const PROFILE_REALM = 'OBS_WEBSOCKET_DATA_REALM_PROFILE';
/** Where a hidden original's position is kept until the matte is removed (survives restarts). */
const HIDDEN_SLOT_PREFIX = 'cleanplate.hidden.';
/** The controller's own requests (not screenshots) give up after this: a clear error, never a hang. */
const OBS_REQUEST_TIMEOUT_MS = 30_000;

export function matteLayerName(sourceName: string): string {
  return sourceName + MATTE_SUFFIX;
}

export type ControllerErrorCode =
  | 'obs_unreachable' // OBS not running, websocket server off, or wrong URL
  | 'obs_auth_failed' // wrong or missing password
  | 'obs_disconnected' // a request while OBS is away (reconnecting)
  | 'unknown_source'
  | 'not_in_scene' // the source is not in the current scene
  | 'no_background' // add before capture, with a model that needs a plate
  | 'unknown_model' // the engine has no such model, or it is not available
  | 'already_live'
  | 'not_live'
  | 'unsupported' // this OBS lacks what was asked for (a Browser Source in Debian's build)
  | 'obs_request_failed';

export class ControllerError extends Error {
  constructor(
    readonly code: ControllerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControllerError';
  }
}

export interface VideoSource {
  readonly name: string;
  readonly kind: string;
  /** In the current program scene (only those can get a matte layer). */
  readonly inCurrentScene: boolean;
  readonly hasMatte: boolean;
}

export interface MatteStatus {
  readonly source: string;
  readonly layer: string;
  readonly session: LiveSessionInfo;
  /** Engine-side figures (fps, latency, drops); null when the engine could not be asked. */
  readonly stats: LiveStats | null;
  /** Screenshots per second the controller gets from OBS. */
  readonly shotRate: number;
  readonly running: boolean;
}

export interface ControllerStatus {
  readonly obs: 'connected' | 'reconnecting' | 'disconnected';
  readonly obsVersion?: string;
  readonly mattes: MatteStatus[];
  readonly lastError?: string;
}

export interface ControllerOptions {
  readonly obsUrl: string;
  readonly obsPassword?: string;
  readonly engine: EngineEndpoint;
  readonly webSocket: WebSocketFactory;
  /** Screenshot requests in flight per matte (default 3). */
  readonly inFlight?: number;
  /** Reconnect backoff: first delay and ceiling, ms (default 500 and 5000). */
  readonly reconnectMs?: { readonly first: number; readonly max: number };
  readonly log?: (line: string) => void;
}

export interface AddMatteOptions {
  /**
   * Hide the original source in the scene (the layer carries the subject). It is moved off the
   * canvas rather than disabled: OBS stops updating sources that are not shown, which would
   * freeze the screenshots the matte is made from. Removing the matte moves it back.
   */
  readonly hideOriginal?: boolean;
  readonly model?: string;
  /**
   * media (default): a Media Source playing the engine's NUT stream, in every OBS build.
   * browser: a Browser Source showing the engine's layer page (official builds only).
   */
  readonly layer?: 'media' | 'browser';
  /** Matte at this width (height follows the source's aspect) instead of the source's own size. */
  readonly width?: number;
  readonly fps?: number;
}

interface Matte {
  readonly source: string;
  readonly layer: string;
  readonly session: LiveSessionInfo;
  readonly options: AddMatteOptions;
  loop: FrameLoop | undefined;
}

interface SceneItemRef {
  readonly name: string;
  readonly scene: string;
  readonly id: number;
  readonly index: number;
}

/** obs-websocket-js close codes -> what the user should do. */
function describeConnectError(url: string, err: unknown): ControllerError {
  const code = err instanceof OBSWebSocketError ? err.code : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  if (code === 4009 || code === 4008 || /auth/i.test(reason)) {
    return new ControllerError('obs_auth_failed', `OBS at ${url} refused the password (${reason || `code ${code}`}): check Tools > WebSocket Server Settings > Server Password`);
  }
  return new ControllerError(
    'obs_unreachable',
    `cannot reach OBS at ${url} (${reason || `code ${code}`}): is OBS running with its WebSocket server enabled (Tools > WebSocket Server Settings) on that port?`,
  );
}

/** Screenshots from one OBS connection; a request in flight rejects when that connection closes. */
function obsScreenshots(obs: OBSWebSocket): ScreenshotSource {
  return {
    screenshot: async ({ sourceName, format, width, height }) =>
      (
        await settledCall(obs, 'GetSourceScreenshot', {
          sourceName,
          imageFormat: format,
          imageWidth: width,
          imageHeight: height,
          ...(format === 'jpg' ? { imageCompressionQuality: 85 } : {}),
        })
      ).imageData,
  };
}

export class ObsController {
  private obs = new OBSWebSocket();
  private state: ControllerStatus['obs'] = 'disconnected';
  private version: string | undefined;
  private live: LiveConnection | undefined;
  private readonly mattes = new Map<string, Matte>();
  private closing = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastError: string | undefined;
  /** Resolvers waiting for the next successful (re)connection. */
  private connectedWaiters: (() => void)[] = [];
  /** Pending retries of mattes whose layer could not be put back after a reconnect. */
  private readonly resumeRetries = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly options: ControllerOptions) {}

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** First connection: fails with a clear ControllerError (no retry) so the user can fix it. */
  async connect(): Promise<void> {
    this.closing = false;
    await this.connectOnce();
  }

  private async connectOnce(): Promise<void> {
    const obs = new OBSWebSocket();
    // An OBS that accepts the socket but never answers (frozen) would hold a reconnect forever.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void obs.disconnect().catch(() => undefined);
    }, OBS_REQUEST_TIMEOUT_MS);
    try {
      // No event subscriptions: high-volume ones slow OBS down, and the controller needs none.
      await obs.connect(this.options.obsUrl, this.options.obsPassword, { rpcVersion: 1, eventSubscriptions: EventSubscription.None });
      this.version = (await settledCall(obs, 'GetVersion')).obsVersion;
    } catch (err) {
      await obs.disconnect().catch(() => undefined);
      if (timedOut) throw new ControllerError('obs_unreachable', `OBS at ${this.options.obsUrl} did not complete the connection within ${OBS_REQUEST_TIMEOUT_MS / 1000} s: is it frozen?`);
      throw describeConnectError(this.options.obsUrl, err);
    } finally {
      clearTimeout(timer);
    }
    this.obs = obs;
    this.state = 'connected';
    obs.on('ConnectionClosed', (err) => this.onObsClosed(obs, err));
    this.log(`connected to OBS ${this.version} at ${this.options.obsUrl}`);
  }

  private onObsClosed(which: OBSWebSocket, err: OBSWebSocketError): void {
    if (which !== this.obs || this.closing) return;
    this.state = 'reconnecting';
    this.lastError = `OBS connection closed (${err.code}${err.message ? `: ${err.message}` : ''})`;
    this.log(`${this.lastError}; reconnecting`);
    for (const m of this.mattes.values()) void m.loop?.stop();
    this.scheduleReconnect(this.options.reconnectMs?.first ?? 500);
  }

  private scheduleReconnect(delay: number): void {
    if (this.closing) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectOnce().then(
        () => this.resume(this.obs),
        (err: unknown) => {
          this.lastError = err instanceof Error ? err.message : String(err);
          this.scheduleReconnect(Math.min(delay * 2, this.options.reconnectMs?.max ?? 5000));
        },
      );
    }, delay);
  }

  /** After a reconnect: restart the frames and put every matte layer back (OBS may have lost it). */
  private async resume(obs: OBSWebSocket): Promise<void> {
    await Promise.all(
      [...this.mattes.values()].map((m) => {
        if (!this.resumable(obs, m)) return undefined;
        this.startLoop(m);
        return this.resumeLayer(obs, m, this.options.reconnectMs?.first ?? 500);
      }),
    );
    for (const wake of this.connectedWaiters.splice(0)) wake();
  }

  /** Still worth resuming: the connection is the current one and the matte was not removed meanwhile. */
  private resumable(obs: OBSWebSocket, m: Matte): boolean {
    return !this.closing && this.obs === obs && this.state === 'connected' && this.mattes.get(m.source) === m;
  }

  /** Puts the layer back; an OBS still loading (or busy) gets another try later, with backoff. */
  private async resumeLayer(obs: OBSWebSocket, m: Matte, retryDelay: number): Promise<void> {
    try {
      await this.ensureLayer(m);
      if (this.resumable(obs, m)) this.log(`matte for "${m.source}" resumed`);
    } catch (err) {
      if (!this.resumable(obs, m)) return;
      const message = `could not resume the matte for "${m.source}": ${err instanceof Error ? err.message : String(err)}`;
      if (this.lastError !== message) this.log(`${message}; trying again (every ${this.options.reconnectMs?.max ?? 5000} ms at most)`);
      this.lastError = message;
      const timer = setTimeout(() => {
        this.resumeRetries.delete(timer);
        if (this.resumable(obs, m)) void this.resumeLayer(obs, m, Math.min(retryDelay * 2, this.options.reconnectMs?.max ?? 5000));
      }, retryDelay);
      this.resumeRetries.add(timer);
    }
  }

  /** Resolves once connected (immediately if connected now). */
  whenConnected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  private async call<K extends keyof OBSRequestTypes>(request: K, data?: OBSRequestTypes[K]): Promise<OBSResponseTypes[K]> {
    if (this.state !== 'connected') throw new ControllerError('obs_disconnected', `OBS is ${this.state} (${this.lastError ?? 'not connected'})`);
    try {
      return await settledCall(this.obs, request, data, OBS_REQUEST_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof ObsRequestError && err.reason === 'closed') throw new ControllerError('obs_disconnected', `OBS went away during ${request} (${this.lastError ?? 'connection closed'})`);
      if (err instanceof ObsRequestError) throw new ControllerError('obs_request_failed', err.message);
      const message = err instanceof Error ? err.message : String(err);
      throw new ControllerError('obs_request_failed', `OBS ${request} failed: ${message}`);
    }
  }

  private async currentScene(): Promise<string> {
    return (await this.call('GetCurrentProgramScene')).currentProgramSceneName;
  }

  private async findItem(scene: string, sourceName: string): Promise<SceneItemRef | undefined> {
    const sceneItems = (await this.call('GetSceneItemList', { sceneName: scene })).sceneItems as { sourceName: string; sceneItemId: number; sceneItemIndex: number }[];
    const item = sceneItems.find((i) => i.sourceName === sourceName);
    return item ? { name: sourceName, scene, id: item.sceneItemId, index: item.sceneItemIndex } : undefined;
  }

  /** The source's item in the current scene; a clear error when it is not there. */
  private async sourceItem(sourceName: string): Promise<SceneItemRef> {
    const inputs = await this.inputs();
    if (!inputs.some((i) => i.inputName === sourceName)) {
      throw new ControllerError('unknown_source', `OBS has no source named "${sourceName}"; video sources: ${(await this.listVideoSources()).map((s) => `"${s.name}"`).join(', ') || 'none'}`);
    }
    const scene = await this.currentScene();
    const item = await this.findItem(scene, sourceName);
    if (!item) throw new ControllerError('not_in_scene', `"${sourceName}" is not in the current scene "${scene}": switch to the scene that shows it`);
    return item;
  }

  private async inputs(): Promise<{ inputName: string; inputKind: string }[]> {
    return (await this.call('GetInputList')).inputs as { inputName: string; inputKind: string }[];
  }

  /** Inputs that draw video (audio-only kinds left out), except CleanPlate's own layers. */
  async listVideoSources(): Promise<VideoSource[]> {
    const scene = await this.currentScene();
    const sceneItems = (await this.call('GetSceneItemList', { sceneName: scene })).sceneItems as { sourceName: string }[];
    const inScene = new Set(sceneItems.map((i) => i.sourceName));
    const all = await this.inputs();
    const names = new Set(all.map((i) => i.inputName));
    return all
      .filter((i) => !isAudioOnlyKind(i.inputKind) && !i.inputName.endsWith(MATTE_SUFFIX))
      .map((i) => ({ name: i.inputName, kind: i.inputKind, inCurrentScene: inScene.has(i.inputName), hasMatte: names.has(matteLayerName(i.inputName)) }));
  }

  /** The source's own pixel size (its scene item's source size). */
  private async sourceSize(item: SceneItemRef): Promise<{ width: number; height: number; transform: Record<string, unknown> }> {
    const sceneItemTransform = (await this.call('GetSceneItemTransform', { sceneName: item.scene, sceneItemId: item.id })).sceneItemTransform as Record<string, unknown>;
    const width = Number(sceneItemTransform.sourceWidth);
    const height = Number(sceneItemTransform.sourceHeight);
    if (!(width >= 16 && height >= 16)) throw new ControllerError('obs_request_failed', `the source reports a size of ${width}x${height}: is it showing anything yet?`);
    return { width, height, transform: sceneItemTransform };
  }

  /**
   * Screenshot of the source at its own size (PNG, lossless) -> the engine's plate store. The
   * user steps out of the picture first. The plate id is remembered in OBS's profile data.
   */
  async captureBackground(sourceName: string): Promise<Background> {
    const item = await this.sourceItem(sourceName);
    const { width, height } = await this.sourceSize(item);
    const { imageData } = await this.call('GetSourceScreenshot', { sourceName, imageFormat: 'png', imageWidth: width, imageHeight: height });
    const background = await uploadBackground(this.options.engine, dataUriBytes(imageData), 'image/png');
    await this.call('SetPersistentData', { realm: PROFILE_REALM, slotName: PLATE_SLOT_PREFIX + sourceName, slotValue: background.id });
    this.log(`captured the background of "${sourceName}" (${width}x${height}) as ${background.id}`);
    return background;
  }

  /** The plate id captured for a source (in this OBS profile), if any. */
  async backgroundOf(sourceName: string): Promise<string | undefined> {
    const { slotValue } = await this.call('GetPersistentData', { realm: PROFILE_REALM, slotName: PLATE_SLOT_PREFIX + sourceName });
    return typeof slotValue === 'string' && slotValue !== '' ? slotValue : undefined;
  }

  /** The engine's model (or its default) for a live matte, with whether it needs a plate. */
  private async liveModel(id: string | undefined): Promise<ModelInfo> {
    const { models } = await listModels(this.options.engine);
    const model = id === undefined ? models.find((m) => m.default) : models.find((m) => m.id === id);
    if (!model) throw new ControllerError('unknown_model', `the engine has no model "${id ?? '(default)'}"; it has: ${models.map((m) => m.id).join(', ')}`);
    if (!model.available) throw new ControllerError('unknown_model', `model "${model.id}" is not available: ${model.unavailableReason ?? 'unknown reason'}`);
    return model;
  }

  private async liveConnection(): Promise<LiveConnection> {
    if (this.live?.open) return this.live;
    const live = await LiveConnection.connect(this.options.engine, this.options.webSocket);
    live.onClose = (reason) => {
      if (this.closing) return;
      this.lastError = `engine ${reason}`;
      this.log(`${this.lastError}: live mattes stop (restart the engine, then add them again)`);
      for (const m of this.mattes.values()) void m.loop?.stop();
      this.mattes.clear();
    };
    live.onAck = (a) => {
      for (const m of this.mattes.values()) if (m.session.sessionId === a.sessionId) m.loop?.ack(a);
    };
    live.onFrameError = (e) => this.log(`engine refused a frame${e.seq !== undefined ? ` (${e.seq})` : ''}: ${e.code}: ${e.message}`);
    this.live = live;
    return live;
  }

  /**
   * Opens a live session on the source's plate, starts the screenshot loop and puts the matte
   * layer above the source in the current scene with the same transform.
   */
  async addLiveMatte(sourceName: string, options: AddMatteOptions = {}): Promise<MatteStatus> {
    if (this.mattes.has(sourceName)) throw new ControllerError('already_live', `"${sourceName}" already has a live matte`);
    const item = await this.sourceItem(sourceName);
    const model = await this.liveModel(options.model);
    // Models that matte from the frame alone (rvm) need no captured plate, but get one if there is.
    const backgroundId = await this.backgroundOf(sourceName);
    if (model.needsPlate && !backgroundId) {
      throw new ControllerError('no_background', `model "${model.id}" needs a clean plate and none was captured for "${sourceName}" yet: step out of the picture and capture it first`);
    }
    if (options.layer === 'browser') {
      const { inputKinds } = await this.call('GetInputKindList', { unversioned: true });
      if (!inputKinds.includes('browser_source')) {
        throw new ControllerError('unsupported', 'this OBS has no Browser Source (builds without CEF, e.g. Debian\'s, lack it): use the media layer, which works everywhere');
      }
    }
    const size = await this.sourceSize(item);
    const width = Math.min(size.width, options.width ?? size.width);
    const height = Math.round((size.height * width) / size.width);
    const live = await this.liveConnection();
    const session = await live.openSession({
      ...(backgroundId ? { backgroundId } : {}),
      acks: true,
      width,
      height,
      ...(options.model ? { model: options.model } : {}),
      ...(options.fps ? { fps: options.fps } : {}),
    });
    const matte: Matte = { source: sourceName, layer: matteLayerName(sourceName), session, options, loop: undefined };
    this.mattes.set(sourceName, matte);
    try {
      this.startLoop(matte);
      await this.ensureLayer(matte);
    } catch (err) {
      this.mattes.delete(sourceName);
      await matte.loop?.stop();
      await live.closeSession(session.sessionId).catch(() => undefined);
      throw err;
    }
    this.log(`live matte for "${sourceName}": ${width}x${height}, stream port ${new URL(session.streamUrl).port}, layer "${matte.layer}"`);
    return this.matteStatus(matte, null);
  }

  /** Starts the matte's frames on the current OBS connection (stopping any earlier loop: one per matte). */
  private startLoop(m: Matte): void {
    const live = this.live;
    if (!live) return;
    const previous = m.loop;
    void previous?.stop();
    m.loop = new FrameLoop(obsScreenshots(this.obs), live, {
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
        if (this.state === 'connected' && this.lastError !== message) {
          this.lastError = message;
          this.log(message);
        }
      },
    });
    m.loop.start();
  }

  /** Creates the layer (or points an existing one at the stream) and places it above the source. */
  private async ensureLayer(m: Matte): Promise<void> {
    const source = await this.sourceItem(m.source);
    const kind = m.options.layer === 'browser' ? 'browser_source' : 'ffmpeg_source';
    const settings = kind === 'browser_source' ? this.browserLayerSettings(m) : this.mediaLayerSettings(m);
    const exists = (await this.inputs()).some((i) => i.inputName === m.layer);
    // Only a layer showing something else (an earlier session's stream) is pointed at this one.
    // A layer that already plays it (OBS restarted with it in the scene) is left alone: updating
    // or restarting a Media Source while it reads a live stream can block OBS's video thread for
    // tens of seconds in OBS 29 (the update waits for the reading thread), freezing every source.
    if (exists && !(await this.layerPlays(m.layer, settings))) {
      await this.call('SetInputSettings', { inputName: m.layer, inputSettings: settings, overlay: true });
      // The stream URL is new (a new session): reopen the media.
      if (kind === 'ffmpeg_source') await this.call('TriggerMediaInputAction', { inputName: m.layer, mediaAction: 'OBS_WEBSOCKET_MEDIA_INPUT_ACTION_RESTART' }).catch(() => undefined);
    }
    let layer = await this.findItem(source.scene, m.layer);
    if (!layer) {
      if (exists) await this.call('CreateSceneItem', { sceneName: source.scene, sourceName: m.layer, sceneItemEnabled: true });
      else await this.call('CreateInput', { sceneName: source.scene, inputName: m.layer, inputKind: kind, inputSettings: settings, sceneItemEnabled: true });
      layer = await this.findItem(source.scene, m.layer);
      if (!layer) throw new ControllerError('obs_request_failed', `OBS did not add "${m.layer}" to "${source.scene}"`);
    }
    const hiddenAt = await this.hiddenPosition(m.source);
    await this.call('SetSceneItemTransform', { sceneName: source.scene, sceneItemId: layer.id, sceneItemTransform: await this.layerTransform(source, m, hiddenAt) });
    // Indices count from the bottom; the source's may have moved when the layer was added.
    const fresh = (await this.findItem(source.scene, m.source))!;
    if (layer.index !== fresh.index + 1) {
      await this.call('SetSceneItemIndex', { sceneName: source.scene, sceneItemId: layer.id, sceneItemIndex: layer.index > fresh.index ? fresh.index + 1 : fresh.index });
    }
    if (m.options.hideOriginal && !hiddenAt) await this.hideOriginal(source);
  }

  /** The layer's settings already are these (same stream, same options). */
  private async layerPlays(layer: string, settings: Record<string, string | number | boolean>): Promise<boolean> {
    const { inputSettings } = await this.call('GetInputSettings', { inputName: layer });
    return Object.entries(settings).every(([k, v]) => inputSettings[k] === v);
  }

  private async hiddenPosition(sourceName: string): Promise<{ x: number; y: number } | undefined> {
    const { slotValue } = await this.call('GetPersistentData', { realm: PROFILE_REALM, slotName: HIDDEN_SLOT_PREFIX + sourceName });
    const v = slotValue as { x?: unknown; y?: unknown } | null;
    return v && typeof v.x === 'number' && typeof v.y === 'number' ? { x: v.x, y: v.y } : undefined;
  }

  /** Moves the original far off the canvas (still enabled, so it keeps updating); remembers where it was. */
  private async hideOriginal(source: SceneItemRef): Promise<void> {
    const { transform } = await this.sourceSize(source);
    const x = Number(transform.positionX);
    const y = Number(transform.positionY);
    await this.call('SetPersistentData', { realm: PROFILE_REALM, slotName: HIDDEN_SLOT_PREFIX + source.name, slotValue: { x, y } });
    const { baseWidth } = await this.call('GetVideoSettings');
    const away = -4 * Math.max(baseWidth, Number(transform.width) || 0, 4096);
    await this.call('SetSceneItemTransform', { sceneName: source.scene, sceneItemId: source.id, sceneItemTransform: { positionX: away, positionY: y } });
  }

  /** Puts a hidden original back where it was. */
  private async showOriginal(sourceName: string): Promise<void> {
    const at = await this.hiddenPosition(sourceName);
    if (!at) return;
    const item = await this.findItem(await this.currentScene(), sourceName);
    if (item) await this.call('SetSceneItemTransform', { sceneName: item.scene, sceneItemId: item.id, sceneItemTransform: { positionX: at.x, positionY: at.y } });
    await this.call('SetPersistentData', { realm: PROFILE_REALM, slotName: HIDDEN_SLOT_PREFIX + sourceName, slotValue: {} });
  }

  /** The layer as a Media Source playing the session's NUT stream (every OBS build). */
  private mediaLayerSettings(m: Matte): Record<string, string | number | boolean> {
    return {
      is_local_file: false,
      input: m.session.streamUrl,
      input_format: m.session.streamFormat,
      // Low latency: no demuxer buffering, no network buffer; reconnect fast if the stream blips.
      ffmpeg_options: 'fflags=nobuffer',
      buffering_mb: 0,
      reconnect_delay_sec: 1,
      hw_decode: false,
      looping: false,
      restart_on_activate: false,
      close_when_inactive: false,
      // A stream that ends (engine stopped) leaves nothing behind rather than a frozen subject.
      clear_on_media_end: true,
    };
  }

  /** The layer as a Browser Source showing the engine's layer page (builds with CEF). */
  private browserLayerSettings(m: Matte): Record<string, string | number | boolean> {
    return {
      url: `${this.options.engine.url}/obs/layer.html?session=${m.session.sessionId}#key=${this.options.engine.token}`,
      width: m.session.width,
      height: m.session.height,
      fps_custom: true,
      fps: m.session.fps,
      reroute_audio: false,
      shutdown: false,
      restart_when_active: false,
      css: '',
    };
  }

  /** The source's transform, rescaled when the matte is smaller than the source. */
  private async layerTransform(source: SceneItemRef, m: Matte, hiddenAt: { x: number; y: number } | undefined): Promise<Record<string, number | string>> {
    const { transform: t, width } = await this.sourceSize(source);
    const k = width / m.session.width; // source pixels per matte pixel
    const out: Record<string, number | string> = {
      // A hidden original sits off the canvas: the layer goes where it was.
      positionX: hiddenAt?.x ?? Number(t.positionX),
      positionY: hiddenAt?.y ?? Number(t.positionY),
      rotation: Number(t.rotation),
      alignment: Number(t.alignment),
      scaleX: Number(t.scaleX) * k,
      scaleY: Number(t.scaleY) * k,
      cropLeft: Math.round(Number(t.cropLeft) / k),
      cropRight: Math.round(Number(t.cropRight) / k),
      cropTop: Math.round(Number(t.cropTop) / k),
      cropBottom: Math.round(Number(t.cropBottom) / k),
      boundsType: String(t.boundsType),
    };
    if (t.boundsType !== 'OBS_BOUNDS_NONE') {
      out.boundsAlignment = Number(t.boundsAlignment);
      out.boundsWidth = Number(t.boundsWidth);
      out.boundsHeight = Number(t.boundsHeight);
    }
    return out;
  }

  /** Stops the frames, closes the session and removes the layer (and shows the original again). */
  async removeLiveMatte(sourceName: string): Promise<void> {
    const m = this.mattes.get(sourceName);
    this.mattes.delete(sourceName);
    await m?.loop?.stop();
    if (m && this.live?.open) await this.live.closeSession(m.session.sessionId).catch(() => undefined);
    const layer = matteLayerName(sourceName);
    const exists = (await this.inputs()).some((i) => i.inputName === layer);
    if (!m && !exists) throw new ControllerError('not_live', `"${sourceName}" has no live matte`);
    if (exists) {
      await this.call('RemoveInput', { inputName: layer });
      // OBS removes inputs once nothing holds them any more: wait so "removed" means gone.
      for (let i = 0; i < 50 && (await this.inputs()).some((x) => x.inputName === layer); i++) await new Promise((r) => setTimeout(r, 100));
    }
    await this.showOriginal(sourceName);
    this.log(`removed the live matte of "${sourceName}"`);
  }

  private matteStatus(m: Matte, stats: LiveStats | null): MatteStatus {
    return { source: m.source, layer: m.layer, session: m.session, stats, shotRate: m.loop?.shotRate ?? 0, running: m.loop?.active ?? false };
  }

  async status(): Promise<ControllerStatus> {
    const mattes = await Promise.all(
      [...this.mattes.values()].map(async (m) => this.matteStatus(m, (await this.live?.stats(m.session.sessionId).catch(() => null)) ?? null)),
    );
    return {
      obs: this.state,
      ...(this.version ? { obsVersion: this.version } : {}),
      mattes,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Stops every frame loop and live session and disconnects (layers stay unless removed first). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const timer of this.resumeRetries) clearTimeout(timer);
    this.resumeRetries.clear();
    await Promise.all([...this.mattes.values()].map((m) => m.loop?.stop()));
    this.mattes.clear();
    this.live?.disconnect();
    this.live = undefined;
    this.state = 'disconnected';
    await this.obs.disconnect().catch(() => undefined);
  }
}

const AUDIO_KINDS = /^(pulse_|alsa_|jack_|wasapi_|coreaudio_|sck_audio|decklink-audio)|_audio_(input|output)_capture$|audio_capture$/;

function isAudioOnlyKind(kind: string): boolean {
  return AUDIO_KINDS.test(kind);
}
