// The CleanPlate dock (OBS: Docks > Custom Browser Docks, URL http://127.0.0.1:7470/obs/): the
// same ObsController the CLI runs, with buttons. It talks to OBS over obs-websocket and to the
// engine that served it over HTTP/WS, with the panel key from the URL fragment
// (`/obs/#key=...`, printed by `cleanplate obs dock-url`). The OBS password is never stored by
// the page: typed in, or carried in the fragment too (`#key=...&password=...`).
import { useCallback, useEffect, useRef, useState, type ReactElement } from 'react';
import type { ControllerStatus } from '../../../src/obs/controller-types.js';
import { ObsController } from '../../../src/obs/controller.js';
import type { Leftover, VideoSource } from '../../../src/obs/scene-layers.js';
import { fragmentParam } from './fragment.js';
import type { WebSocketLike } from '../../../src/obs/engine-client.js';
import { fetchBackgroundImage, listModels, type EngineEndpoint } from '../../../src/shared/engine-client.js';
import type { ModelInfo } from '../../../src/shared/api.js';
import { messageOf } from '../../../src/shared/error-message.js';

const STORE_KEY = 'cleanplate.obs';

interface Settings {
  url: string;
  password: string;
}

function loadSettings(): Settings {
  const query = new URLSearchParams(location.search);
  let saved: { url?: unknown } = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORE_KEY) ?? '{}') as { url?: unknown };
  } catch {
    // unreadable: defaults
  }
  // Only the address is kept: a password saved by an older dock is dropped.
  localStorage.setItem(STORE_KEY, JSON.stringify(typeof saved.url === 'string' ? { url: saved.url } : {}));
  return {
    url: query.get('obs') ?? (typeof saved.url === 'string' ? saved.url : 'ws://127.0.0.1:4455'),
    password: fragmentParam('password') ?? '',
  };
}

function engineEndpoint(): EngineEndpoint {
  return { url: location.origin, token: fragmentParam('key') ?? '' };
}

const NO_KEY = 'This dock URL has no panel key. Run "cleanplate obs dock-url" and use the URL it prints (Docks > Custom Browser Docks).';

const browserWebSocket = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${Math.round(v)} ms`);

export function Dock(): ReactElement {
  const [settings, setSettings] = useState<Settings>(loadSettings);
  const [controller, setController] = useState<ObsController | undefined>();
  const [status, setStatus] = useState<ControllerStatus | undefined>();
  const [sources, setSources] = useState<VideoSource[]>([]);
  const [source, setSource] = useState('');
  const [hideOriginal, setHideOriginal] = useState(false);
  const [matteWidth, setMatteWidth] = useState(0);
  const [layerKind, setLayerKind] = useState<'media' | 'browser'>('media');
  const [plate, setPlate] = useState<string | undefined>();
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [modelId, setModelId] = useState('');
  /** What a stopped controller left in the scene (a layer, a hidden original), offered for repair. */
  const [leftovers, setLeftovers] = useState<Leftover[]>([]);
  const [busy, setBusy] = useState('');
  const engine = useRef(engineEndpoint());
  const [error, setError] = useState(engine.current.token ? '' : NO_KEY);

  const act = useCallback(async (label: string, work: () => Promise<void>) => {
    setBusy(label);
    setError('');
    try {
      await work();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy('');
    }
  }, []);

  const refreshSources = useCallback(async (c: ObsController) => {
    const list = (await c.listVideoSources()).filter((s) => s.inCurrentScene);
    setSources(list);
    setLeftovers(await c.leftovers());
    setSource((current) => (list.some((s) => s.name === current) ? current : (list[0]?.name ?? '')));
  }, []);

  const connect = (): Promise<void> =>
    act('Connecting', async () => {
      await controller?.close();
      if (!engine.current.token) throw new Error(NO_KEY);
      localStorage.setItem(STORE_KEY, JSON.stringify({ url: settings.url }));
      const c = new ObsController({
        obsUrl: settings.url,
        ...(settings.password ? { obsPassword: settings.password } : {}),
        engine: engine.current,
        webSocket: browserWebSocket,
      });
      await c.connect();
      setController(c);
      await refreshSources(c);
    });

  // Status once a second while connected; the plate thumbnail of the chosen source.
  useEffect(() => {
    if (!controller) return;
    let live = true;
    const tick = (): void => {
      controller.status().then(
        (s) => live && setStatus(s),
        () => undefined,
      );
    };
    tick();
    const timer = setInterval(tick, 1000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [controller]);

  const showPlate = useCallback(async (c: ObsController, name: string) => {
    const id = name ? await c.backgroundOf(name).catch(() => undefined) : undefined;
    const blob = id ? await fetchBackgroundImage(engine.current, id).catch(() => undefined) : undefined;
    setPlate((old) => {
      if (old) URL.revokeObjectURL(old);
      return blob ? URL.createObjectURL(blob) : undefined;
    });
  }, []);

  useEffect(() => {
    if (controller && source) void showPlate(controller, source);
  }, [controller, source, showPlate]);

  // The engine's models: the dock offers the available ones, the default first chosen.
  useEffect(() => {
    if (!engine.current.token) return; // the no-key message stays
    listModels(engine.current).then(
      ({ models: list }) => {
        setModels(list);
        setModelId((current) => current || (list.find((m) => m.default)?.id ?? ''));
      },
      (err: unknown) => setError(`cannot list the engine's models: ${messageOf(err)}`),
    );
  }, []);

  const matte = status?.mattes.find((m) => m.source === source);
  const model = models.find((m) => m.id === modelId);
  const needsPlate = model?.needsPlate ?? true;
  const connected = status?.obs === 'connected';

  return (
    <main>
      <h1>CleanPlate</h1>

      <section aria-label="OBS connection">
        <label>
          OBS WebSocket
          <input value={settings.url} onChange={(e) => setSettings({ ...settings, url: e.target.value })} />
        </label>
        <label>
          Password
          <input type="password" value={settings.password} onChange={(e) => setSettings({ ...settings, password: e.target.value })} />
        </label>
        <button onClick={() => void connect()} disabled={!!busy}>
          {controller ? 'Reconnect' : 'Connect'}
        </button>
        <p className={`state ${status?.obs ?? 'disconnected'}`} role="status">
          {status ? `OBS ${status.obsVersion ?? ''} ${status.obs}` : 'not connected'}
        </p>
      </section>

      {controller && leftovers.length > 0 && (
        <section aria-label="Left behind" className="warning">
          {leftovers.map((l) => (
            <p key={l.source}>
              “{l.source}”: {[l.layer ? 'a matte layer' : '', l.originalHidden ? 'the original moved off the canvas' : ''].filter(Boolean).join(' and ')} left by a controller that stopped.{' '}
              <button onClick={() => void act('Restoring', async () => (await controller.removeLiveMatte(l.source), await refreshSources(controller)))} disabled={!!busy}>
                Restore {l.source}
              </button>
            </p>
          ))}
        </section>
      )}

      {controller && (
        <section aria-label="Source">
          <label>
            Video source
            <select value={source} onChange={(e) => setSource(e.target.value)}>
              {sources.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <button onClick={() => void act('Refreshing', () => refreshSources(controller))} disabled={!!busy || !connected}>
            Refresh
          </button>

          <h2>1. Background</h2>
          <p className="hint">Step out of the picture, then capture.</p>
          <button
            onClick={() =>
              void act('Capturing', async () => {
                await controller.captureBackground(source);
                await showPlate(controller, source);
              })
            }
            disabled={!!busy || !connected || !source}
          >
            Capture background
          </button>
          {plate ? <img className="plate" src={plate} alt={`clean plate of ${source}`} /> : <p className="hint">No background captured yet.</p>}

          <h2>2. Live matte</h2>
          <label>
            Model
            <select aria-label="Model" value={modelId} onChange={(e) => setModelId(e.target.value)} disabled={!!matte}>
              {models.map((m) => (
                <option key={m.id} value={m.id} disabled={!m.available} title={m.unavailableReason ?? m.description ?? ''}>
                  {m.id}
                  {m.default ? ' (default)' : ''}
                  {m.needsPlate ? '' : ' (no background needed)'}
                  {m.available ? '' : ' (not installed)'}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            <input type="checkbox" checked={hideOriginal} onChange={(e) => setHideOriginal(e.target.checked)} disabled={!!matte} />
            Hide the original source
          </label>
          <label>
            Matte size
            <select value={matteWidth} onChange={(e) => setMatteWidth(Number(e.target.value))} disabled={!!matte}>
              <option value={0}>Auto (fastest size that keeps up, measured)</option>
              <option value={4096}>Source size</option>
              <option value={1280}>1280 wide</option>
              <option value={960}>960 wide</option>
              <option value={640}>640 wide (fastest)</option>
            </select>
          </label>
          <label>
            Layer
            <select value={layerKind} onChange={(e) => setLayerKind(e.target.value as 'media' | 'browser')} disabled={!!matte}>
              <option value="media">Media Source (every OBS)</option>
              <option value="browser">Browser Source (official OBS builds)</option>
            </select>
          </label>
          {matte ? (
            <button onClick={() => void act('Removing', async () => (await controller.removeLiveMatte(source), await refreshSources(controller)))} disabled={!!busy}>
              Remove live matte
            </button>
          ) : (
            <button
              onClick={() =>
                void act('Adding', async () => {
                  await controller.addLiveMatte(source, { hideOriginal, layer: layerKind, ...(modelId ? { model: modelId } : {}), ...(matteWidth ? { width: matteWidth } : {}) });
                  setStatus(await controller.status());
                })
              }
              disabled={!!busy || !connected || !source || (needsPlate && !plate)}
            >
              Add live matte
            </button>
          )}

          {matte && (
            <dl className="stats" aria-label="Live matte status">
              <dt>Layer</dt>
              <dd>{matte.layer}</dd>
              <dt>Size</dt>
              <dd data-testid="size">
                {matte.session.width}x{matte.session.height}
                {matte.autoSize ? ` (auto: model ${Math.round(matte.autoSize.msPerFrame)} ms/frame here, target ${matte.autoSize.targetFps} fps)` : ''}
              </dd>
              <dt>Matted</dt>
              <dd data-testid="fps">{matte.stats ? `${matte.stats.fps} fps` : '–'}</dd>
              <dt>Latency</dt>
              <dd>
                {ms(matte.stats?.latencyMs.median)} median, {ms(matte.stats?.latencyMs.p95)} p95
              </dd>
              <dt>Original</dt>
              <dd>{matte.originalHidden ? 'hidden' : hideOriginal ? 'shown until the first matte is on screen' : 'shown'}</dd>
              <dt>Engine</dt>
              <dd data-testid="engine-state">{matte.failed ?? (status?.engine === 'reconnecting' ? 'away: reconnecting (original shown meanwhile)' : 'connected')}</dd>
              <dt>Dropped</dt>
              <dd>{matte.stats ? `${Math.round(matte.stats.dropRate * 100)}%` : '–'}</dd>
              <dt>Screenshots</dt>
              <dd>{matte.shotRate}/s</dd>
            </dl>
          )}
        </section>
      )}

      {busy && <p className="busy">{busy}…</p>}
      {(error || (status && (status.obs !== 'connected' || status.engine === 'reconnecting') && status.lastError)) && (
        <p className="error" role="alert">
          {error || status?.lastError}
        </p>
      )}
    </main>
  );
}
