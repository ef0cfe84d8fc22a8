// One controller's link to OBS (obs-websocket v5): the first connection fails loudly (the user
// fixes the URL or password); a lost one is retried with backoff until close(). Requests always
// settle: while OBS is away they fail at once with 'obs_disconnected', never hang.
import OBSWebSocket, { EventSubscription, OBSWebSocketError, type OBSRequestTypes, type OBSResponseTypes } from 'obs-websocket-js';
import { ControllerError } from './controller-error.js';
import type { ScreenshotSource } from './frame-loop.js';
import { ObsRequestError, settledCall } from './obs-request.js';
import { messageOf } from '../shared/error-message.js';

/** The controller's own requests (not screenshots) give up after this: a clear error, never a hang. */
export const OBS_REQUEST_TIMEOUT_MS = 30_000;

export type ObsState = 'connected' | 'reconnecting' | 'disconnected';

/** A typed obs-websocket request that settles (what the scene-layer code is given). */
export type ObsCall = <K extends keyof OBSRequestTypes>(request: K, data?: OBSRequestTypes[K]) => Promise<OBSResponseTypes[K]>;

export interface ObsConnectionOptions {
  readonly url: string;
  readonly password?: string;
  /** Reconnect backoff: first delay and ceiling, ms (default 500 and 5000). */
  readonly reconnectMs?: { readonly first: number; readonly max: number };
  readonly log: (line: string) => void;
  /** The connection was lost (a reconnect is under way). */
  readonly onLost: () => void;
  /** A reconnect succeeded; `link` identifies this connection (see `isCurrent`). */
  readonly onBack: (link: object) => void;
}

/** obs-websocket-js close codes -> what the user should do. */
function describeConnectError(url: string, err: unknown): ControllerError {
  const code = err instanceof OBSWebSocketError ? err.code : undefined;
  const reason = messageOf(err);
  if (code === 4009 || code === 4008 || /auth/i.test(reason)) {
    return new ControllerError('obs_auth_failed', `OBS at ${url} refused the password (${reason || `code ${code}`}): check Tools > WebSocket Server Settings > Server Password`);
  }
  return new ControllerError(
    'obs_unreachable',
    `cannot reach OBS at ${url} (${reason || `code ${code}`}): is OBS running with its WebSocket server enabled (Tools > WebSocket Server Settings) on that port?`,
  );
}

export class ObsConnection {
  private obs = new OBSWebSocket();
  private closing = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolvers waiting for the next successful (re)connection. */
  private connectedWaiters: (() => void)[] = [];
  state: ObsState = 'disconnected';
  version: string | undefined;
  /** The last problem worth showing (shared with the controller, which reports its own here too). */
  lastError: string | undefined;

  constructor(private readonly options: ObsConnectionOptions) {}

  get reconnectMs(): { readonly first: number; readonly max: number } {
    return this.options.reconnectMs ?? { first: 500, max: 5000 };
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
      await obs.connect(this.options.url, this.options.password, { rpcVersion: 1, eventSubscriptions: EventSubscription.None });
      this.version = (await settledCall(obs, 'GetVersion')).obsVersion;
    } catch (err) {
      await obs.disconnect().catch(() => undefined);
      if (timedOut) throw new ControllerError('obs_unreachable', `OBS at ${this.options.url} did not complete the connection within ${OBS_REQUEST_TIMEOUT_MS / 1000} s: is it frozen?`);
      throw describeConnectError(this.options.url, err);
    } finally {
      clearTimeout(timer);
    }
    this.obs = obs;
    this.state = 'connected';
    obs.on('ConnectionClosed', (err) => this.onClosed(obs, err));
    this.options.log(`connected to OBS ${this.version} at ${this.options.url}`);
  }

  private onClosed(which: OBSWebSocket, err: OBSWebSocketError): void {
    if (which !== this.obs || this.closing) return;
    this.state = 'reconnecting';
    this.lastError = `OBS connection closed (${err.code}${err.message ? `: ${err.message}` : ''})`;
    this.options.log(`${this.lastError}; reconnecting`);
    this.options.onLost();
    this.scheduleReconnect(this.reconnectMs.first);
  }

  private scheduleReconnect(delay: number): void {
    if (this.closing) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectOnce().then(
        () => {
          this.options.onBack(this.obs);
          for (const wake of this.connectedWaiters.splice(0)) wake();
        },
        (err: unknown) => {
          this.lastError = messageOf(err);
          this.scheduleReconnect(Math.min(delay * 2, this.reconnectMs.max));
        },
      );
    }, delay);
  }

  /** True while `link` (from onBack or `link`) is the live connection. */
  isCurrent(link: object): boolean {
    return !this.closing && this.obs === link && this.state === 'connected';
  }

  get link(): object {
    return this.obs;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Resolves once connected (immediately if connected now). */
  whenConnected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  readonly call: ObsCall = async (request, data) => {
    if (this.state !== 'connected') throw new ControllerError('obs_disconnected', `OBS is ${this.state} (${this.lastError ?? 'not connected'})`);
    try {
      return await settledCall(this.obs, request, data, OBS_REQUEST_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof ObsRequestError && err.reason === 'closed') throw new ControllerError('obs_disconnected', `OBS went away during ${request} (${this.lastError ?? 'connection closed'})`);
      if (err instanceof ObsRequestError) throw new ControllerError('obs_request_failed', err.message);
      const message = messageOf(err);
      throw new ControllerError('obs_request_failed', `OBS ${request} failed: ${message}`);
    }
  };

  /** Screenshots from the current connection; a request in flight rejects when it closes. */
  screenshots(): ScreenshotSource {
    const obs = this.obs;
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

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.state = 'disconnected';
    await this.obs.disconnect().catch(() => undefined);
  }
}
