// Backgrounds (clean plates).
//
// POST /v1/backgrounds: multipart with a file field `image`, or a raw body with Content-Type
// image/*, or JSON (BackgroundFromMediaRequest). Response: Background (201).
// GET /v1/backgrounds: BackgroundList. GET /v1/backgrounds/:id: BackgroundRecord.
// GET /v1/backgrounds/:id/image: the plate as PNG. DELETE /v1/backgrounds/:id: 204.
import * as v from 'valibot';
import { record } from './check.js';
import { requiredPath } from './fields.js';

const MEDIA_PATH_REQUIRED = 'mediaPath (a video or image file on this machine) is required';

/** POST /v1/backgrounds with a JSON body: take the plate from a file on the engine's disk. */
export const BackgroundFromMediaSchema = v.object(
  {
    mediaPath: requiredPath('mediaPath', MEDIA_PATH_REQUIRED),
    /** Source time in seconds (0 = first frame); ignored for still images. Default 0. */
    timeSeconds: v.optional(v.number('timeSeconds must be a number of seconds')),
  },
  (i) => (i.path ? MEDIA_PATH_REQUIRED : 'the request body must be a JSON object {mediaPath, timeSeconds?}'),
);
export type BackgroundFromMediaRequest = v.InferOutput<typeof BackgroundFromMediaSchema>;

const backgroundEntries = { id: v.string(), width: v.number(), height: v.number() };
export const BackgroundSchema = record(backgroundEntries);
export type Background = v.InferOutput<typeof BackgroundSchema>;

/** Where a stored plate came from. */
const BackgroundSourceSchema = v.pipe(
  v.variant('kind', [
    v.object({ kind: v.literal('upload'), filename: v.optional(v.string()) }),
    /** A frame of a video (the one shown at timeSeconds) or a still image file on disk. */
    v.object({ kind: v.literal('media'), mediaPath: v.string(), timeSeconds: v.number(), frameIndex: v.number() }),
  ]),
  v.readonly(),
);
export type BackgroundSource = v.InferOutput<typeof BackgroundSourceSchema>;

export const BackgroundRecordSchema = record({
  ...backgroundEntries,
  /** ISO 8601 time the plate was stored. */
  createdAt: v.string(),
  source: BackgroundSourceSchema,
});
export type BackgroundRecord = v.InferOutput<typeof BackgroundRecordSchema>;

export const BackgroundListSchema = record({ backgrounds: v.array(BackgroundRecordSchema) });
export type BackgroundList = v.InferOutput<typeof BackgroundListSchema>;
