// Starting and stopping an engine: services, the express app on 127.0.0.1, the 0600 config file
// clients read the port and token from. main.ts runs one for `npm start`; tests start their own
// in-process on port 0 with temporary folders.
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import type { EngineConfigFile } from '../shared/api.js';
import { configFilePath, ENGINE_VERSION, tokenFromEnv } from './config.js';
import { Credentials } from './auth/credentials.js';
import { ensurePanelKey, newPanelKey } from './auth/panel-key.js';
import { writeFileAtomic } from './fs/atomic.js';
import { createApp } from './http/app.js';
import { answerClientErrors } from './http/client-errors.js';
import { attachLiveWebSocket } from './http/live-ws.js';
import type { EngineContext } from './http/context.js';
import { ModelRegistry } from './matting/registry.js';
import { BackgroundStore } from './services/backgrounds.js';
import { FarmCoordinator } from './farm/coordinator.js';
import type { FarmSettings } from './farm/settings.js';
import { mediaTools } from './media/ffmpeg-locate.js';
import { JobService } from './services/jobs.js';
import { LiveService } from './services/live.js';
import { MattingService } from './services/matting-service.js';
import { PixelBudget } from './services/pixel-budget.js';
import { holdWorkers } from './workers/client.js';
import { messageOf } from '../shared/error-message.js';

/** The only address the engine listens on: other machines must never reach it. */
export const ENGINE_HOST = '127.0.0.1';

export const DEFAULT_MAX_UPLOAD_BYTES = 256 * 2 ** 20;

export interface EngineOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly dataDir: string;
  /** Folder for engine.json; omit to write no config file. */
  readonly configDir?: string;
  /** Bearer token; a fresh random one when omitted. */
  readonly token?: string;
  /**
   * Panel key (a second accepted bearer credential, see auth/panel-key.ts). Default: the key file
   * in configDir, created when absent; without configDir a random key for this run.
   */
  readonly panelKey?: string;
  /** Folder with manifest.json; the repository's models/ when omitted. */
  readonly modelsDir?: string;
  /** Open the default model before serving (default true), so health names its provider. */
  readonly warmUp?: boolean;
  readonly maxUploadBytes?: number;
  readonly log?: (line: string) => void;
  /** Farm mode (docs/farm.md): clip jobs are split into segments for workers on this Redis. */
  readonly farm?: FarmSettings;
}

export interface Engine {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The panel key accepted now (follows the key file when the engine has a configDir). */
  readonly panelKey: () => string | undefined;
  readonly version: string;
  /** Path of the config file written, if any. */
  readonly configFile: string | undefined;
  readonly context: EngineContext;
  /** Stops accepting, finishes or cuts open requests, disposes sessions, removes the config file. */
  close(): Promise<void>;
}

/** How long open requests get to finish at shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 5_000;

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const log = options.log ?? (() => undefined);
  const token = options.token ?? tokenFromEnv({});
  const credentials =
    options.panelKey !== undefined || !options.configDir
      ? new Credentials({ token, panelKey: options.panelKey ?? newPanelKey() })
      : (await ensurePanelKey(options.configDir), new Credentials({ token, configDir: options.configDir }));
  const registry = await ModelRegistry.load(options.modelsDir);
  const matting = new MattingService(registry);
  // Model runs and alignment happen in worker threads (workers/client.ts): stopped at close.
  const releaseWorkers = holdWorkers();
  const backgrounds = new BackgroundStore(options.dataDir);
  await backgrounds.init();
  const farm = options.farm ? new FarmCoordinator({ ...options.farm, registry, log }) : undefined;
  const jobs = new JobService({ dataDir: options.dataDir, tools: mediaTools, registry, matting, backgrounds, log, ...(farm ? { runClip: farm.runClip, deviceOf: async () => 'farm' } : {}) });
  await jobs.init();

  let port = options.port;
  const context: EngineContext = {
    version: ENGINE_VERSION,
    startedAt: Date.now(),
    credentials,
    port: () => port,
    registry,
    matting,
    backgrounds,
    jobs,
    mediaTools,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    stillBudget: new PixelBudget(),
    log,
  };
  const server = http.createServer(createApp(context));
  answerClientErrors(server);
  const live = new LiveService({ matting, backgrounds, log });
  const closeLiveConnections = attachLiveWebSocket(server, { credentials, port: () => port, live, log });
  await listen(server, options.port);
  port = (server.address() as AddressInfo).port;

  // Health reports ffmpeg: locate it now, beside the warm-up, not on the first health request
  // (two `-version` child processes took 0.2-0.6 s, and more on a loaded machine).
  const located = mediaTools().catch(() => undefined);
  if (options.warmUp ?? true) {
    await matting.warmUp().catch((err: unknown) => log(`warning: could not open the default model: ${messageOf(err)}`));
  }
  await located;

  let configFile: string | undefined;
  if (options.configDir) {
    configFile = configFilePath(options.configDir);
    const contents: EngineConfigFile = { port, token, pid: process.pid, version: ENGINE_VERSION };
    try {
      await mkdir(options.configDir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(configFile, JSON.stringify(contents, null, 2) + '\n', { mode: 0o600 });
    } catch (err) {
      // Clients could not find this engine: do not leave it running unseen.
      server.close();
      server.closeAllConnections();
      await matting.dispose();
      await releaseWorkers();
      throw new Error(`could not write ${configFile}: ${messageOf(err)}`, { cause: err });
    }
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Jobs first: running ones are stopped and recorded as interrupted, their event streams end.
      await jobs.close();
      await farm?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closeLiveConnections();
      await live.closeAll();
      // Before open requests finish: a still still waiting for a model is answered 503
      // shutting_down (runs already queued complete first), never run on a released session.
      await matting.dispose();
      await closed;
      clearTimeout(cut);
      await releaseWorkers();
      if (configFile) await removeConfigIfOurs(configFile, token);
    })());

  return { url: `http://${ENGINE_HOST}:${port}`, port, token, panelKey: () => credentials.panelKey, version: ENGINE_VERSION, configFile, context, close };
}

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${ENGINE_HOST} is already in use (another engine running? set CLEANPLATE_PORT)`) : err);
    };
    server.once('error', onError);
    server.listen(port, ENGINE_HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Another engine may have started since and written its own file: leave that one alone. */
async function removeConfigIfOurs(file: string, token: string): Promise<void> {
  try {
    const current = JSON.parse(await readFile(file, 'utf8')) as Partial<EngineConfigFile>;
    if (current.pid === process.pid && current.token === token) await rm(file, { force: true });
  } catch {
    // Missing or unreadable: nothing of ours to remove.
  }
}
