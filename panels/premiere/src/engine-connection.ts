// The panel's link to the engine, with no React and no host API beyond the lookup it is given:
// looks for the engine now and then (every 5 s while connected, 2.5 s while not), keeps the
// endpoint last found, and fetches the model list whenever the engine found is a new one (another
// port or token: it was restarted). Shared by the CEP panel and the UXP plugin through panel.tsx.
import type { ModelInfo } from '../../../src/shared/api.js';
import { listModels, type EngineEndpoint } from '../../../src/shared/engine-client.js';
import type { EngineLookup } from './engine-locator.js';

export type EngineState = EngineLookup | { readonly state: 'looking' };

export interface EngineConnectionDeps {
  /** Reads the engine's address and credential and asks its health (PanelHost.locateEngine). */
  locate(): Promise<EngineLookup>;
  /** The result of every look. */
  changed(state: EngineLookup): void;
  /** The models of an engine newly found (not said when the list cannot be had). */
  models(list: readonly ModelInfo[]): void;
  /** Pause between looks while connected / while not (ms). */
  connectedMs?: number;
  lookingMs?: number;
}

export const ENGINE_NOT_RUNNING = 'The CleanPlate engine is not running: start it (npm start in the CleanPlate folder), then try again.';

function sameEngine(a: EngineEndpoint | undefined, b: EngineEndpoint): boolean {
  return a?.url === b.url && a.token === b.token;
}

export class EngineConnection {
  private found: EngineEndpoint | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Looks started; a look that ends after a newer one began changes nothing. */
  private looks = 0;
  /** The engine whose models were said, or are being asked. */
  private listed: EngineEndpoint | undefined;

  constructor(private readonly deps: EngineConnectionDeps) {}

  /** The engine as last found; undefined when it is not known to run. */
  current(): EngineEndpoint | undefined {
    return this.found;
  }

  /** The engine, or the error the user reads when there is none. */
  need(): EngineEndpoint {
    if (!this.found) throw new Error(ENGINE_NOT_RUNNING);
    return this.found;
  }

  /** Looks for the engine now; the endpoint found, or undefined. */
  async locate(): Promise<EngineEndpoint | undefined> {
    const look = ++this.looks;
    const lookup = await this.deps.locate();
    if (this.stopped || look !== this.looks) return this.found;
    this.found = lookup.state === 'connected' ? lookup.endpoint : undefined;
    this.deps.changed(lookup);
    this.listModels();
    return this.found;
  }

  /** The model list of an engine not listed yet; one that cannot be had is asked again at the next look. */
  private listModels(): void {
    const ep = this.found;
    if (!ep) this.listed = undefined; // an engine that comes back is asked again
    if (!ep || sameEngine(this.listed, ep)) return;
    this.listed = ep;
    listModels(ep).then(
      (list) => {
        if (!this.stopped && sameEngine(this.found, ep)) this.deps.models(list.models);
      },
      () => {
        if (this.listed === ep) this.listed = undefined;
      },
    );
  }

  /** Looks now, then keeps looking until stop(); one look at a time. */
  start(): void {
    const next = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(tick, this.found ? (this.deps.connectedMs ?? 5000) : (this.deps.lookingMs ?? 2500));
    };
    const tick = (): void => {
      this.locate().then(next, next);
    };
    tick();
  }

  /** No more looks, and nothing said after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
