// The request bodies of the engine's wire as valibot schemas: each one yields both the TypeScript
// type (api.ts re-exports it, so clients and engine share it) and the runtime check the engine
// runs on what arrives. Failures name the field: `parseWire` turns the first issue into a
// WireError (missing_field / bad_field) that the engine answers as `{error:{code,message}}`.
// Valibot is tree-shaken: the panels that import the types pay nothing, a client that validates
// pays only for the schemas it uses.
import * as v from 'valibot';
import { ALIGN_MODES, CLIP_OUTPUT_KINDS, LIVE_MAX_SIDE, LIVE_MIN_SIDE, MATTE_OUTPUTS } from './api.js';

/** A request field that is missing or malformed; `field` is its dotted path ("" = the body). */
export class WireError extends Error {
  constructor(
    readonly code: 'missing_field' | 'bad_field',
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

const absent = (input: unknown): boolean => input === undefined || input === null || input === '';

export type WireResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

/** Checks `input` against `schema`; the WireError describes the first problem found. */
export function checkWire<S extends v.GenericSchema>(schema: S, input: unknown, bodyMessage = 'the request body must be a JSON object'): WireResult<v.InferOutput<S>> {
  const result = v.safeParse(schema, input);
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  const field = v.getDotPath(issue) ?? '';
  if (field === '' && issue.type === 'object') return { ok: false, error: new WireError('bad_field', '', bodyMessage) };
  // A missing key gets valibot's own "Invalid key: ..." unless its object has a message of its own.
  const message = issue.type === 'object' && issue.message.startsWith('Invalid key:') ? `${field} is required` : issue.message;
  return { ok: false, error: new WireError(absent(issue.input) ? 'missing_field' : 'bad_field', field, message) };
}

/** checkWire that throws the WireError. */
export function parseWire<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const checked = checkWire(schema, input);
  if (!checked.ok) throw checked.error;
  return checked.value;
}

// ---- pieces -------------------------------------------------------------------------------

/** A required non-empty string; `required` is the message when it is absent. */
const requiredText = (field: string, required = `${field} is required`) =>
  v.pipe(
    v.string((i) => (absent(i.input) ? required : `${field} must be a string`)),
    v.nonEmpty(required),
  );

/** An optional string: null and "" count as absent. */
const optionalText = (field: string) =>
  v.pipe(
    v.nullish(v.string(`${field} must be a string`)),
    v.transform((s) => (s === null || s === '' ? undefined : s)),
  );

/**
 * File paths name the user's files: a relative one would resolve against the engine's working
 * folder (wherever it was started), which the user never chose; a NUL byte would cut the path
 * short in the OS call. Both are refused at request time.
 */
const isAbsolutePath = (p: string): boolean => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
const pathChecks = <T extends string | undefined>(field: string) =>
  [
    v.check((p: T) => p === undefined || !p.includes('\0'), `${field} must not contain a NUL byte`),
    v.check(
      (p: T) => p === undefined || isAbsolutePath(p),
      (i) => `${field} must be an absolute path (got "${String(i.input).slice(0, 200)}"): a relative path would resolve against the engine's working folder`,
    ),
  ] as const;
const requiredPath = (field: string, required?: string) => v.pipe(requiredText(field, required), ...pathChecks<string>(field));
const optionalPath = (field: string) => v.pipe(optionalText(field), ...pathChecks<string | undefined>(field));

const HEX_COLOR = /^\s*#[0-9a-f]{6}\s*$/i;
const alignMode = (field: string) => v.optional(v.picklist(ALIGN_MODES, (i) => `${field} must be one of ${ALIGN_MODES.join(', ')}; got ${JSON.stringify(i.input)}`));

/** A comma list ("alpha,composite") or an array of names from `known`; duplicates dropped. */
const nameList = <T extends string>(field: string, known: readonly T[]) =>
  v.pipe(
    v.union([v.string(), v.array(v.unknown())], `${field} must be a non-empty list of ${known.join(', ')}`),
    v.transform((x) =>
      typeof x === 'string'
        ? x
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter(Boolean)
        : x,
    ),
    v.array(v.picklist(known, (i) => `unknown ${field} "${String(i.input)}"; known: ${known.join(', ')}`)),
    v.minLength(1, `${field} must be a non-empty list of ${known.join(', ')}`),
    v.transform((list) => [...new Set(list)]),
  );

/** Drops keys whose value is undefined, so stored requests hold only what was asked. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}

// ---- POST /v1/jobs --------------------------------------------------------------------------

const RANGE_SHAPE = 'range must be {in: number, out: number, unit?: "seconds" | "frames"}';
const BACKGROUND_SHAPE = 'background must be {id} | {imagePath} | {mediaPath?, timeSeconds}';
const COMPOSITE_SHAPE = 'compositeOver must be {color} | {imagePath} | {videoPath}';

export const JobRangeSchema = v.object(
  {
    in: v.number((i) => (absent(i.input) ? 'range.in is required' : RANGE_SHAPE)),
    out: v.number((i) => (absent(i.input) ? 'range.out is required' : RANGE_SHAPE)),
    unit: v.optional(v.picklist(['seconds', 'frames'], 'range.unit must be "seconds" or "frames"')),
  },
  RANGE_SHAPE,
);

export const JobBackgroundSchema = v.union(
  [
    v.object({ id: requiredText('background.id') }),
    v.object({ imagePath: requiredPath('background.imagePath') }),
    v.pipe(v.object({ mediaPath: optionalPath('background.mediaPath'), timeSeconds: v.number('background.timeSeconds must be a number of seconds') }), v.transform(compact)),
  ],
  BACKGROUND_SHAPE,
);

export const CompositeOverSchema = v.union(
  [
    v.object({
      color: v.pipe(
        requiredText('compositeOver.color'),
        v.regex(HEX_COLOR, (i) => `compositeOver.color must be #rrggbb, got "${String(i.input)}"`),
      ),
    }),
    v.object({ imagePath: requiredPath('compositeOver.imagePath') }),
    v.object({ videoPath: requiredPath('compositeOver.videoPath') }),
  ],
  COMPOSITE_SHAPE,
);

export const JobRequestSchema = v.pipe(
  v.object({
    mediaPath: requiredPath('mediaPath'),
    /** Default: the whole clip. */
    range: v.pipe(
      v.nullish(JobRangeSchema),
      v.transform((r) => r ?? undefined),
    ),
    /** The clean plate. Omitted: only for models that need none. */
    background: v.pipe(
      v.nullish(JobBackgroundSchema),
      v.transform((b) => b ?? undefined),
    ),
    /** Model id; default: the engine's default model. */
    model: optionalText('model'),
    /** Default ["prores4444"]. */
    outputs: v.optional(nameList('output', CLIP_OUTPUT_KINDS)),
    /** Default: a "CleanPlate Mattes" folder beside the media. */
    outputDir: optionalPath('outputDir'),
    /** What the composite output shows behind the subject (default: colour #00ff00). */
    compositeOver: v.pipe(
      v.nullish(CompositeOverSchema),
      v.transform((c) => c ?? undefined),
    ),
    /** Plate alignment per frame, temporally smoothed (default "auto"). */
    align: alignMode('align'),
  }),
  v.transform(compact),
);

// ---- POST /v1/backgrounds (JSON body) -------------------------------------------------------

const MEDIA_PATH_REQUIRED = 'mediaPath (a video or image file on this machine) is required';
export const BackgroundFromMediaSchema = v.object(
  {
    mediaPath: requiredPath('mediaPath', MEDIA_PATH_REQUIRED),
    /** Source time in seconds (0 = first frame); ignored for still images. Default 0. */
    timeSeconds: v.optional(v.number('timeSeconds must be a number of seconds')),
  },
  (i) => (i.path ? MEDIA_PATH_REQUIRED : 'the request body must be a JSON object {mediaPath, timeSeconds?}'),
);

// ---- POST /v1/matte (the multipart text fields) ---------------------------------------------

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
  align: v.pipe(optionalText('"align"'), alignMode('"align"')),
});

// ---- WS /v1/live: the `open` message --------------------------------------------------------

const side = (name: string) => {
  const message = (i: v.BaseIssue<unknown>): string => `"${name}" must be an integer from ${LIVE_MIN_SIDE} to ${LIVE_MAX_SIDE}, got ${JSON.stringify(i.input)}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(LIVE_MIN_SIDE, message), v.maxValue(LIVE_MAX_SIDE, message));
};
const fpsMessage = (i: v.BaseIssue<unknown>): string => `"fps" must be an integer from 1 to 60, got ${JSON.stringify(i.input)}`;
const intervalMessage = (i: v.BaseIssue<unknown>): string => `"statsIntervalMs" must be a number >= 200, got ${JSON.stringify(i.input)}`;

export const LiveOpenSchema = v.pipe(
  v.object({
    type: v.literal('open'),
    /** Echoed in `opened`/`error` so a client can match replies to requests. */
    requestId: v.optional(v.string('"requestId" must be a string')),
    model: v.optional(v.pipe(v.string('"model" must be a model id string'), v.nonEmpty('"model" must be a model id string'))),
    /** A stored plate (POST /v1/backgrounds), for models that need one; resized to width x height when it differs. */
    backgroundId: v.optional(v.pipe(v.string('"backgroundId" must be a stored plate id from POST /v1/backgrounds'), v.nonEmpty('"backgroundId" must be a stored plate id from POST /v1/backgrounds'))),
    /** Size of the frames the client sends and of the stream served. */
    width: side('width'),
    height: side('height'),
    /** Stream frame rate (1-60, default 30). */
    fps: v.optional(v.pipe(v.number(fpsMessage), v.integer(fpsMessage), v.minValue(1, fpsMessage), v.maxValue(60, fpsMessage))),
    /** Push `stats` every this many ms (>= 200); absent = only on request. */
    statsIntervalMs: v.optional(v.pipe(v.number(intervalMessage), v.minValue(200, intervalMessage))),
    /** Send an `ack` for every frame (flow control: request new frames as the model takes them). */
    acks: v.optional(v.boolean('"acks" must be true or false')),
    /** Plate alignment (default "auto"). */
    align: alignMode('"align"'),
  }),
  v.transform(compact),
);
