// GET /v1/models and POST /v1/models/:id/speed: the models the engine knows, whether each can run
// here, and a model's measured time per frame.
import * as v from 'valibot';
import { record } from './check.js';
import { sideSchema } from './live.js';

/** Every model kind the engine knows; what each asks of its callers is in engine/matting/kinds.ts. */
export const MODEL_KINDS = ['plate', 'bgmv2', 'rvm', 'fused'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
const ModelKindSchema = v.picklist(MODEL_KINDS);

/** The file a model runs on, and where it came from (GET /v1/models). */
const ModelFileInfoSchema = record({
  /** File name inside the engine's models folder. */
  name: v.string(),
  present: v.boolean(),
  /**
   * official: the manifest's upstream file (models:fetch or models:add checked its recorded sha256);
   * user: a file the user added by hand (models:add), under an official entry's name or their own entry;
   * converted: made on this machine (rvm, by models:rvm);
   * unrecorded: an official entry's file whose sha256 nobody recorded (put there by hand).
   */
  origin: v.picklist(['official', 'user', 'converted', 'unrecorded']),
  sha256: v.nullable(v.string()),
  /** Where it came from, in words or as a URL. */
  source: v.string(),
});
export type ModelFileInfo = v.InferOutput<typeof ModelFileInfoSchema>;

const ModelInfoSchema = record({
  id: v.string(),
  kind: ModelKindSchema,
  default: v.boolean(),
  available: v.boolean(),
  unavailableReason: v.optional(v.string()),
  /** Runs need a clean plate (said by the model's kind). */
  needsPlate: v.boolean(),
  licence: v.string(),
  source: v.string(),
  description: v.optional(v.string()),
  /** The file in use (absent for models built at run time and for logical models, whose variants say). */
  file: v.optional(ModelFileInfoSchema),
  /** Execution provider of the open session; null when the model has not been opened yet. */
  provider: v.nullable(v.string()),
});
export type ModelInfo = v.InferOutput<typeof ModelInfoSchema>;

/** The model used when a request names none: the best present (official BGMv2 weights, else
 * fused, else plate), and why. */
export const DefaultModelInfoSchema = record({ id: v.string(), reason: v.string() });
export type DefaultModelInfo = v.InferOutput<typeof DefaultModelInfoSchema>;

export const ModelListSchema = record({
  models: v.array(ModelInfoSchema),
  defaultModel: DefaultModelInfoSchema,
});
export type ModelList = v.InferOutput<typeof ModelListSchema>;

// POST /v1/models/:id/speed {width, height}: the model's time per frame at that size on this
// machine (median of a few runs on a synthetic frame, after one untimed run; measured once per
// engine run, model and size). The OBS controller picks its default live size from it.

export const ModelSpeedRequestSchema = v.object({ width: sideSchema('width'), height: sideSchema('height') }, 'the request body must be a JSON object {width, height}');
export type ModelSpeedRequest = v.InferOutput<typeof ModelSpeedRequestSchema>;

export const ModelSpeedSchema = record({
  model: v.string(),
  width: v.number(),
  height: v.number(),
  /** Median milliseconds inside the model per frame. */
  msPerFrame: v.number(),
  runs: v.number(),
});
export type ModelSpeed = v.InferOutput<typeof ModelSpeedSchema>;
