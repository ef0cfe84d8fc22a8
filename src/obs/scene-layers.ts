// The OBS scene side of a live matte: the matte layer above its source (a Media Source playing
// the engine's NUT stream, or a Browser Source showing the layer page), a hidden original, and the
// per-source notes kept in OBS's profile data (plate id, hidden position). Requests only: no
// connection or session lifecycle here (see obs-connection.ts and controller.ts).
import type { LiveSessionInfo } from '../shared/api.js';
import { ControllerError } from './controller-error.js';
import type { ObsCall } from './obs-connection.js';

export const MATTE_SUFFIX = ' (CleanPlate matte)';
/** Where each source's plate id is remembered (the dock and the CLI share it). */
const PLATE_SLOT_PREFIX = 'cleanplate.background.';
const PROFILE_REALM = 'OBS_WEBSOCKET_DATA_REALM_PROFILE';
/** Where a hidden original's position is kept until it is shown again (survives restarts). */
const HIDDEN_SLOT_PREFIX = 'cleanplate.hidden.';

export function matteLayerName(sourceName: string): string {
  return sourceName + MATTE_SUFFIX;
}

export interface VideoSource {
  readonly name: string;
  readonly kind: string;
  /** In the current program scene (only those can get a matte layer). */
  readonly inCurrentScene: boolean;
  readonly hasMatte: boolean;
}

export interface SceneItemRef {
  readonly name: string;
  readonly scene: string;
  readonly id: number;
  readonly index: number;
}

/** What one matte layer shows. */
export interface LayerSpec {
  readonly source: string;
  readonly layer: string;
  readonly kind: 'media' | 'browser';
  readonly session: LiveSessionInfo;
}

/** What a stopped controller may have left in the scene: a layer, or a source moved off the canvas. */
export interface Leftover {
  readonly source: string;
  readonly layer: boolean;
  readonly originalHidden: boolean;
}

const AUDIO_KINDS = /^(pulse_|alsa_|jack_|wasapi_|coreaudio_|sck_audio|decklink-audio)|_audio_(input|output)_capture$|audio_capture$/;

export class SceneLayers {
  constructor(
    private readonly call: ObsCall,
    /** The engine (the Browser Source layer page lives there and takes its credential). */
    private readonly engine: () => { readonly url: string; readonly token: string },
  ) {}

  async currentScene(): Promise<string> {
    return (await this.call('GetCurrentProgramScene')).currentProgramSceneName;
  }

  async findItem(scene: string, sourceName: string): Promise<SceneItemRef | undefined> {
    const sceneItems = (await this.call('GetSceneItemList', { sceneName: scene })).sceneItems as { sourceName: string; sceneItemId: number; sceneItemIndex: number }[];
    const item = sceneItems.find((i) => i.sourceName === sourceName);
    return item ? { name: sourceName, scene, id: item.sceneItemId, index: item.sceneItemIndex } : undefined;
  }

  async inputs(): Promise<{ inputName: string; inputKind: string }[]> {
    return (await this.call('GetInputList')).inputs as { inputName: string; inputKind: string }[];
  }

  async inputExists(name: string): Promise<boolean> {
    return (await this.inputs()).some((i) => i.inputName === name);
  }

  /** The source's item in the current scene; a clear error when it is not there. */
  async sourceItem(sourceName: string): Promise<SceneItemRef> {
    if (!(await this.inputExists(sourceName))) {
      throw new ControllerError('unknown_source', `OBS has no source named "${sourceName}"; video sources: ${(await this.listVideoSources()).map((s) => `"${s.name}"`).join(', ') || 'none'}`);
    }
    const scene = await this.currentScene();
    const item = await this.findItem(scene, sourceName);
    if (!item) throw new ControllerError('not_in_scene', `"${sourceName}" is not in the current scene "${scene}": switch to the scene that shows it`);
    return item;
  }

  /** Inputs that draw video (audio-only kinds left out), except CleanPlate's own layers. */
  async listVideoSources(): Promise<VideoSource[]> {
    const scene = await this.currentScene();
    const sceneItems = (await this.call('GetSceneItemList', { sceneName: scene })).sceneItems as { sourceName: string }[];
    const inScene = new Set(sceneItems.map((i) => i.sourceName));
    const all = await this.inputs();
    const names = new Set(all.map((i) => i.inputName));
    return all
      .filter((i) => !AUDIO_KINDS.test(i.inputKind) && !i.inputName.endsWith(MATTE_SUFFIX))
      .map((i) => ({ name: i.inputName, kind: i.inputKind, inCurrentScene: inScene.has(i.inputName), hasMatte: names.has(matteLayerName(i.inputName)) }));
  }

  /** The source's own pixel size (its scene item's source size) and transform. */
  async sourceSize(item: SceneItemRef): Promise<{ width: number; height: number; transform: Record<string, unknown> }> {
    const sceneItemTransform = (await this.call('GetSceneItemTransform', { sceneName: item.scene, sceneItemId: item.id })).sceneItemTransform as Record<string, unknown>;
    const width = Number(sceneItemTransform.sourceWidth);
    const height = Number(sceneItemTransform.sourceHeight);
    if (!(width >= 16 && height >= 16)) throw new ControllerError('obs_request_failed', `the source reports a size of ${width}x${height}: is it showing anything yet?`);
    return { width, height, transform: sceneItemTransform };
  }

  async requireBrowserSource(): Promise<void> {
    const { inputKinds } = await this.call('GetInputKindList', { unversioned: true });
    if (!inputKinds.includes('browser_source')) {
      throw new ControllerError('unsupported', "this OBS has no Browser Source (builds without CEF, e.g. Debian's, lack it): use the media layer, which works everywhere");
    }
  }

  /** A lossless PNG of the source at its own size (for a plate). */
  async sourcePng(sourceName: string): Promise<{ imageData: string; width: number; height: number }> {
    const { width, height } = await this.sourceSize(await this.sourceItem(sourceName));
    const { imageData } = await this.call('GetSourceScreenshot', { sourceName, imageFormat: 'png', imageWidth: width, imageHeight: height });
    return { imageData, width, height };
  }

  async rememberPlate(sourceName: string, id: string): Promise<void> {
    await this.call('SetPersistentData', { realm: PROFILE_REALM, slotName: PLATE_SLOT_PREFIX + sourceName, slotValue: id });
  }

  /** The plate id captured for a source (in this OBS profile), if any. */
  async plateOf(sourceName: string): Promise<string | undefined> {
    const { slotValue } = await this.call('GetPersistentData', { realm: PROFILE_REALM, slotName: PLATE_SLOT_PREFIX + sourceName });
    return typeof slotValue === 'string' && slotValue !== '' ? slotValue : undefined;
  }

  /** Creates the layer (or points an existing one at the stream) and places it above the source. */
  async ensureLayer(m: LayerSpec): Promise<void> {
    const source = await this.sourceItem(m.source);
    const kind = m.kind === 'browser' ? 'browser_source' : 'ffmpeg_source';
    const settings = kind === 'browser_source' ? this.browserLayerSettings(m) : mediaLayerSettings(m.session);
    const exists = await this.inputExists(m.layer);
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
    await this.call('SetSceneItemTransform', { sceneName: source.scene, sceneItemId: layer.id, sceneItemTransform: await this.layerTransform(source, m.session, await this.hiddenPosition(m.source)) });
    // Indices count from the bottom; the source's may have moved when the layer was added.
    const fresh = (await this.findItem(source.scene, m.source))!;
    if (layer.index !== fresh.index + 1) {
      await this.call('SetSceneItemIndex', { sceneName: source.scene, sceneItemId: layer.id, sceneItemIndex: layer.index > fresh.index ? fresh.index + 1 : fresh.index });
    }
  }

  /** Removes a layer input and waits until OBS has let go of it ("removed" means gone). */
  async removeLayer(layer: string): Promise<boolean> {
    if (!(await this.inputExists(layer))) return false;
    await this.call('RemoveInput', { inputName: layer });
    for (let i = 0; i < 50 && (await this.inputExists(layer)); i++) await new Promise((r) => setTimeout(r, 100));
    return true;
  }

  /** The layer's settings already are these (same stream, same options). */
  private async layerPlays(layer: string, settings: Record<string, string | number | boolean>): Promise<boolean> {
    const { inputSettings } = await this.call('GetInputSettings', { inputName: layer });
    return Object.entries(settings).every(([k, v]) => inputSettings[k] === v);
  }

  async hiddenPosition(sourceName: string): Promise<{ x: number; y: number } | undefined> {
    const { slotValue } = await this.call('GetPersistentData', { realm: PROFILE_REALM, slotName: HIDDEN_SLOT_PREFIX + sourceName });
    const v = slotValue as { x?: unknown; y?: unknown } | null;
    return v && typeof v.x === 'number' && typeof v.y === 'number' ? { x: v.x, y: v.y } : undefined;
  }

  /**
   * Moves the original far off the canvas (still enabled, so it keeps updating: OBS stops
   * updating sources that are not shown, which would freeze the screenshots the matte is made
   * from); remembers where it was. Already hidden: nothing to do.
   */
  async hideOriginal(sourceName: string): Promise<void> {
    if (await this.hiddenPosition(sourceName)) return;
    const source = await this.sourceItem(sourceName);
    const { transform } = await this.sourceSize(source);
    const x = Number(transform.positionX);
    const y = Number(transform.positionY);
    await this.call('SetPersistentData', { realm: PROFILE_REALM, slotName: HIDDEN_SLOT_PREFIX + sourceName, slotValue: { x, y } });
    const { baseWidth } = await this.call('GetVideoSettings');
    const away = -4 * Math.max(baseWidth, Number(transform.width) || 0, 4096);
    await this.call('SetSceneItemTransform', { sceneName: source.scene, sceneItemId: source.id, sceneItemTransform: { positionX: away, positionY: y } });
  }

  /** Puts a hidden original back where it was; false when it was not hidden. */
  async showOriginal(sourceName: string): Promise<boolean> {
    const at = await this.hiddenPosition(sourceName);
    if (!at) return false;
    const item = await this.findItem(await this.currentScene(), sourceName);
    if (item) await this.call('SetSceneItemTransform', { sceneName: item.scene, sceneItemId: item.id, sceneItemTransform: { positionX: at.x, positionY: at.y } });
    await this.call('SetPersistentData', { realm: PROFILE_REALM, slotName: HIDDEN_SLOT_PREFIX + sourceName, slotValue: {} });
    return true;
  }

  /** Layers and hidden originals in OBS, for every video source (what a killed controller leaves). */
  async leftovers(): Promise<Leftover[]> {
    const sources = await this.listVideoSources();
    const found = await Promise.all(sources.map(async (s) => ({ source: s.name, layer: s.hasMatte, originalHidden: (await this.hiddenPosition(s.name)) !== undefined })));
    return found.filter((l) => l.layer || l.originalHidden);
  }

  /** The layer as a Browser Source showing the engine's layer page (builds with CEF). */
  private browserLayerSettings(m: LayerSpec): Record<string, string | number | boolean> {
    return {
      url: `${this.engine().url}/obs/layer.html?session=${m.session.sessionId}#watch=${m.session.watchKey}`,
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
  private async layerTransform(source: SceneItemRef, session: LiveSessionInfo, hiddenAt: { x: number; y: number } | undefined): Promise<Record<string, number | string>> {
    const { transform: t, width } = await this.sourceSize(source);
    const k = width / session.width; // source pixels per matte pixel
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
}

/** The layer as a Media Source playing the session's NUT stream (every OBS build). */
export function mediaLayerSettings(session: LiveSessionInfo): Record<string, string | number | boolean> {
  return {
    is_local_file: false,
    input: session.streamUrl,
    input_format: session.streamFormat,
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
