// GET /v1/health, and the config file the daemon writes for its clients (engine.json).
import * as v from 'valibot';
import { record } from './check.js';
import { DefaultModelInfoSchema, MODEL_KINDS } from './models.js';

const HealthModelSchema = record({
  id: v.string(),
  kind: v.picklist(MODEL_KINDS),
  available: v.boolean(),
  /** Execution provider the model's open session runs on; null until a session is open. */
  provider: v.nullable(v.string()),
  /**
   * bgmv2 models only: the preset baked into the export ("hd", "4k"); for the logical `bgmv2`
   * model, the preset its open session ran last (null until it has run a frame).
   */
  preset: v.optional(v.nullable(v.string())),
});

/** A provider tried before the one in use, and why it failed. */
const ProviderFallbackSchema = record({ provider: v.string(), reason: v.string() });
export type ProviderFallback = v.InferOutput<typeof ProviderFallbackSchema>;

const MediaToolHealthSchema = record({
  path: v.string(),
  version: v.string(),
  /** env: FFMPEG_PATH/FFPROBE_PATH; system: found on PATH; npm-package: the bundled fallback (old build). */
  source: v.picklist(['env', 'system', 'npm-package']),
});

const MediaToolsHealthSchema = v.union([record({ ffmpeg: MediaToolHealthSchema, ffprobe: MediaToolHealthSchema }), record({ error: v.string() })]);
export type MediaToolsHealth = v.InferOutput<typeof MediaToolsHealthSchema>;

export const HealthSchema = record({
  version: v.string(),
  uptimeSeconds: v.number(),
  models: v.array(HealthModelSchema),
  providers: record({
    /** Providers tried for each new session, best first (CPU always last). */
    order: v.array(v.string()),
    /** Providers that open sessions actually run on. */
    inUse: v.array(v.string()),
    /** Providers tried before the one in use and why they failed, per model id. */
    fallbacks: v.record(v.string(), v.array(ProviderFallbackSchema)),
  }),
  defaultModel: DefaultModelInfoSchema,
  /** Present when opening the default model at start failed: the engine serves, mattes fail. */
  warmUpError: v.optional(v.string()),
  /** The ffmpeg/ffprobe clip jobs use (system, env override or the npm-packaged fallback). */
  media: v.optional(MediaToolsHealthSchema),
});
export type Health = v.InferOutput<typeof HealthSchema>;

const port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
const token = v.pipe(v.string(), v.nonEmpty());

/** engine.json: what the daemon writes for its clients (0600, removed on clean shutdown). */
export const EngineConfigFileSchema = record({ port, token, pid: v.number(), version: v.string() });
export type EngineConfigFile = v.InferOutput<typeof EngineConfigFileSchema>;

/** What a client needs of engine.json: the port to knock on and the token to show. */
export const EngineAddressSchema = record({ port, token });
