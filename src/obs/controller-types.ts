// The OBS controller's public shapes: what callers (CLI, dock) pass in and read back.
import type { LiveSessionInfo, LiveStats } from '../shared/api.js';
import type { WebSocketFactory } from './engine-client.js';
import type { EngineEndpoint } from '../shared/engine-client.js';
import type { EngineState } from './engine-link.js';
import type { ScreenshotFormat } from './frame-loop.js';
import type { LiveSizeChoice } from './live-size.js';
import type { ObsState } from './obs-connection.js';

export interface MatteStatus {
  readonly source: string;
  readonly layer: string;
  /** The session (the last one while the engine is away). */
  readonly session: LiveSessionInfo;
  /** Engine-side figures (fps, latency, drops); null when the engine could not be asked. */
  readonly stats: LiveStats | null;
  /** Screenshots per second the controller gets from OBS. */
  readonly shotRate: number;
  readonly running: boolean;
  /** The original is moved off the canvas now (hide-original, once the layer shows mattes). */
  readonly originalHidden: boolean;
  /** Why this matte cannot continue (the engine refused to reopen it); it stays until removed. */
  readonly failed?: string;
  /** How the size was chosen when no width was asked for: the model's measured speed here. */
  readonly autoSize?: LiveSizeChoice;
}

export interface ControllerStatus {
  readonly obs: ObsState;
  readonly obsVersion?: string;
  /** idle: no live connection needed yet; reconnecting: the engine went away, retrying. */
  readonly engine: EngineState;
  /** Date.now() when the engine went away, while reconnecting. */
  readonly engineLostAt?: number;
  readonly mattes: MatteStatus[];
  readonly lastError?: string;
}

export interface ControllerOptions {
  readonly obsUrl: string;
  readonly obsPassword?: string;
  readonly engine: EngineEndpoint;
  /** Finds the engine again after it restarted (its port or token may change); default: the same endpoint. */
  readonly resolveEngine?: () => Promise<EngineEndpoint | undefined>;
  readonly webSocket: WebSocketFactory;
  /** Screenshot requests in flight per matte (default 3). */
  readonly inFlight?: number;
  /** Screenshot format the frames travel in (FrameLoop's default when absent). */
  readonly screenshotFormat?: ScreenshotFormat;
  /** Reconnect backoff (OBS and engine): first delay and ceiling, ms (default 500 and 5000). */
  readonly reconnectMs?: { readonly first: number; readonly max: number };
  readonly log?: (line: string) => void;
}

export interface AddMatteOptions {
  /**
   * Hide the original source in the scene (the layer carries the subject), once the layer shows
   * matte frames. It is moved off the canvas rather than disabled: OBS stops updating sources that
   * are not shown, which would freeze the screenshots the matte is made from. It comes back when
   * the matte is removed or its session stops.
   */
  readonly hideOriginal?: boolean;
  readonly model?: string;
  /**
   * media (default): a Media Source playing the engine's NUT stream, in every OBS build.
   * browser: a Browser Source showing the engine's layer page (official builds only).
   */
  readonly layer?: 'media' | 'browser';
  /**
   * Matte at this width (height follows the source's aspect; at most the source's own width).
   * Default: the largest width at which the model keeps up with `targetFps` on this machine.
   */
  readonly width?: number;
  /** For the default width: the matted frame rate to aim for (default 15). */
  readonly targetFps?: number;
  readonly fps?: number;
}
