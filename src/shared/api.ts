// The engine's wire: the one module the engine and its clients (panels, CLI, OBS controller,
// tests) import, so a change to a request or an answer shows up as a type error on both sides.
// Each body is declared once, as a valibot schema in src/shared/api/ that yields both the
// TypeScript type and the runtime check: the engine checks every request with it, the engine
// client checks every answer. Import from here, never from src/shared/api/*.
export { checkWire, parseWire, WireError } from './api/check.js';
export * from './api/errors.js';
export * from './api/models.js';
export * from './api/health.js';
export * from './api/align.js';
export * from './api/backgrounds.js';
export * from './api/matte.js';
export * from './api/live.js';
export * from './api/jobs.js';
