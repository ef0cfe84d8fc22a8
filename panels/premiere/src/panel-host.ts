// What the shared panel needs from where it runs: the CEP panel (ExtendScript host over
// evalScript, Node for engine.json) and the UXP plugin (the premierepro module, UXP's fs) each
// give one of these; everything else (UI, engine client, job watching) is the same code.
import type { HostApi, HostEvents } from '../../../host/src/api.js';
import type { EngineLookup } from './engine-locator.js';

/** A host function called from the panel: the HostApi contract, answered asynchronously. */
export type HostCall = <K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>) => Promise<ReturnType<HostApi[K]>>;

export interface PanelHost {
  /** "CEP" or "UXP", for messages. */
  readonly kind: string;
  readonly call: HostCall;
  /** Subscribes to a host event; returns the unsubscribe function. */
  on<K extends keyof HostEvents>(name: K, handler: (data: HostEvents[K]) => void): () => void;
  /** The open-file dialog; null when cancelled or unavailable. */
  chooseFile(title: string, types: string[]): Promise<string | null>;
  /** Reads the engine's address and credential and asks its health. */
  locateEngine(): Promise<EngineLookup>;
  /**
   * Where the host can keep a credential the user pastes (the UXP plugin: the panel key or the
   * dock URL, in UXP secureStorage), used when engine.json cannot be read. Throws on bad input.
   */
  saveCredential?(text: string): Promise<void>;
}
