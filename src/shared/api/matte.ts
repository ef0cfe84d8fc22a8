// POST /v1/matte (one still image)
//
// multipart/form-data fields:
//   image          file, required: the frame with the subject
//   background     file: the clean plate, same size as image   } one of these when the model
//   backgroundId   text: id of a stored plate (POST /v1/backgrounds)  } needs a plate
//   model          text, optional: model id (default: the engine's default model)
//   outputs        text, optional: comma list of MatteOutput (default "alpha")
//   compositeColor text, optional: #rrggbb behind the subject in "composite" (default #00ff00)
//   align          text, optional: AlignMode (default "auto")
import * as v from 'valibot';
import { AlignReportSchema, alignModeSchema } from './align.js';
import { record } from './check.js';
import { HEX_COLOR, nameList, optionalText } from './fields.js';

export const MATTE_OUTPUTS = ['alpha', 'foreground', 'composite'] as const;
export type MatteOutput = (typeof MATTE_OUTPUTS)[number];
export const DEFAULT_COMPOSITE_COLOR = '#00ff00';

/** The text fields of a matte request (files travel as multipart parts). */
export const MatteFieldsSchema = v.object({
  /** A stored plate (POST /v1/backgrounds), instead of a `background` file. */
  backgroundId: optionalText('backgroundId'),
  model: optionalText('model'),
  /** Comma list of MatteOutput (default "alpha"). */
  outputs: v.optional(nameList('"outputs" entry', MATTE_OUTPUTS)),
  /** #rrggbb behind the subject in "composite" (default #00ff00). */
  compositeColor: v.optional(
    v.pipe(
      v.string(),
      v.regex(HEX_COLOR, (i) => `"compositeColor" must be #rrggbb; got "${String(i.input)}"`),
    ),
  ),
  align: v.pipe(optionalText('"align"'), alignModeSchema('"align"')),
});
/** The text fields of a matte request, as sent. */
export type MatteFields = v.InferInput<typeof MatteFieldsSchema>;

export const MatteResponseSchema = record({
  model: v.string(),
  provider: v.string(),
  width: v.number(),
  height: v.number(),
  /** Time spent in the model, milliseconds (decode and encode excluded). */
  ms: v.number(),
  /**
   * Base64 PNGs, one per requested output: alpha is 8-bit greyscale (255 = subject), foreground
   * is RGBA with straight alpha, composite is RGB (the foreground over compositeColor).
   */
  outputs: record({ alpha: v.optional(v.string()), foreground: v.optional(v.string()), composite: v.optional(v.string()) }),
  /** What plate alignment did; absent for models that take no plate. */
  align: v.optional(AlignReportSchema),
});
export type MatteResponse = v.InferOutput<typeof MatteResponseSchema>;
