// Work that arrives (or was still waiting, e.g. for a model to open) while the engine shuts down
// is refused with 503 `shutting_down` and a Retry-After, never run on released sessions.
export class ShuttingDownError extends Error {
  readonly code = 'shutting_down';
  readonly retryAfterSeconds = 5;
  constructor(what: string) {
    super(`the engine is shutting down: ${what} was not started; try again once it runs again`);
    this.name = 'ShuttingDownError';
  }
}
