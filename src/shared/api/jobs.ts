// Clip jobs
//
// POST /v1/jobs (JobRequest) -> 201 JobRecord.  GET /v1/jobs -> JobList.  GET /v1/jobs/:id ->
// JobRecord.  DELETE /v1/jobs/:id -> cancel, 200 JobRecord.  POST /v1/jobs/:id/rerun -> 201 a
// new JobRecord with the same request.  GET /v1/jobs/:id/events -> text/event-stream of
// JobEvent (event name = JobEvent.type, data = JSON), starting with a `snapshot`.
import * as v from 'valibot';
import { AlignReportSchema, alignModeSchema } from './align.js';
import { absent, readonlyList, record } from './check.js';
import { compact, HEX_COLOR, nameList, optionalPath, optionalText, requiredPath, requiredText } from './fields.js';

export const CLIP_OUTPUT_KINDS = ['prores4444', 'matte', 'png', 'composite'] as const;
export type ClipOutputKind = (typeof CLIP_OUTPUT_KINDS)[number];
export const DEFAULT_CLIP_OUTPUTS: readonly ClipOutputKind[] = ['prores4444'];

// ---- the job states -------------------------------------------------------------------------

/** Queued and running jobs can be cancelled and not rerun; the others are over. */
export const ACTIVE_JOB_STATES = ['queued', 'running'] as const;
/** How a job ends: each has its event of the same name, the last on a job's event stream. */
export const TERMINAL_JOB_STATES = ['done', 'failed', 'cancelled', 'interrupted'] as const;
export const JOB_STATES = [...ACTIVE_JOB_STATES, ...TERMINAL_JOB_STATES] as const;
export type JobState = (typeof JOB_STATES)[number];
export type TerminalJobState = (typeof TERMINAL_JOB_STATES)[number];

export const isActiveJobState = (state: string): state is (typeof ACTIVE_JOB_STATES)[number] => (ACTIVE_JOB_STATES as readonly string[]).includes(state);
export const isTerminalJobState = (state: string): state is TerminalJobState => (TERMINAL_JOB_STATES as readonly string[]).includes(state);

// ---- POST /v1/jobs --------------------------------------------------------------------------

const RANGE_SHAPE = 'range must be {in: number, out: number, unit?: "seconds" | "frames"}';
const BACKGROUND_SHAPE = 'background must be {id} | {imagePath} | {mediaPath?, timeSeconds}';
const COMPOSITE_SHAPE = 'compositeOver must be {color} | {imagePath} | {videoPath}';

/** A clip range in source time: `in` inclusive, `out` exclusive (the end of the last frame); unit default "seconds", "frames" = whole frame numbers (0 = first frame). */
const JobRangeSchema = v.object(
  {
    in: v.number((i) => (absent(i.input) ? 'range.in is required' : RANGE_SHAPE)),
    out: v.number((i) => (absent(i.input) ? 'range.out is required' : RANGE_SHAPE)),
    unit: v.optional(v.picklist(['seconds', 'frames'], 'range.unit must be "seconds" or "frames"')),
  },
  RANGE_SHAPE,
);
export type JobRange = v.InferOutput<typeof JobRangeSchema>;

/** The clean plate for a job: a stored plate {id}, a still image {imagePath}, or a frame of a video {mediaPath?, timeSeconds} (default: the job's own media). */
const JobBackgroundSchema = v.union(
  [
    v.object({ id: requiredText('background.id') }),
    v.object({ imagePath: requiredPath('background.imagePath') }),
    v.pipe(v.object({ mediaPath: optionalPath('background.mediaPath'), timeSeconds: v.number('background.timeSeconds must be a number of seconds') }), v.transform(compact)),
  ],
  BACKGROUND_SHAPE,
);
export type JobBackground = v.InferOutput<typeof JobBackgroundSchema>;

/** What the composite output shows behind the subject: {color} (#rrggbb, default #00ff00), {imagePath} or {videoPath} (looped when shorter than the clip). */
const CompositeOverSchema = v.union(
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
export type CompositeOver = v.InferOutput<typeof CompositeOverSchema>;

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
    align: alignModeSchema('align'),
  }),
  v.transform(compact),
);
/** POST /v1/jobs: the fields are documented on JobRequestSchema. */
export type JobRequest = v.InferOutput<typeof JobRequestSchema>;

// ---- the job record -------------------------------------------------------------------------

const FarmWorkerProgressSchema = record({ worker: v.string(), segment: v.number(), framesDone: v.number(), framesTotal: v.number(), fps: v.number() });
export type FarmWorkerProgress = v.InferOutput<typeof FarmWorkerProgressSchema>;

const FarmProgressSchema = record({ segmentsDone: v.number(), segmentsTotal: v.number(), workers: readonlyList(FarmWorkerProgressSchema) });
export type FarmProgress = v.InferOutput<typeof FarmProgressSchema>;

const JobProgressSchema = record({
  framesDone: v.number(),
  framesTotal: v.number(),
  /** Frames per second since the first frame; 0 until one is done. */
  fps: v.number(),
  /** Estimated seconds left; null until the rate is known. */
  etaSeconds: v.nullable(v.number()),
  /** Farm jobs (docs/farm.md): segments and what each worker is rendering now. */
  farm: v.optional(FarmProgressSchema),
});
export type JobProgress = v.InferOutput<typeof JobProgressSchema>;

/** How a farm job was rendered (JobRecord.farm). */
const FarmReportSchema = record({
  modelId: v.string(),
  /** The model version every segment was rendered with. */
  modelSha256: v.string(),
  engineVersion: v.string(),
  segments: v.number(),
  /** Frames run before each segment (after the first) to warm a recurrent model, then discarded. */
  warmUpFrames: v.number(),
  /** Worker name per segment, in frame order. */
  workers: readonlyList(v.string()),
  /** Outputs encoded once from the joined lossless segments (not intra-only, e.g. composite H.264). */
  encodedAfterJoin: readonlyList(v.picklist(CLIP_OUTPUT_KINDS)),
});
export type FarmReport = v.InferOutput<typeof FarmReportSchema>;

const JobMediaSchema = record({
  width: v.number(),
  height: v.number(),
  /** Rational, e.g. "30000/1001". */
  frameRate: v.string(),
  /** Source frame index of the first output frame. */
  firstFrame: v.number(),
  frameCount: v.number(),
  codec: v.string(),
  pixFmt: v.string(),
  bitDepth: v.number(),
  rotation: v.number(),
});
export type JobMedia = v.InferOutput<typeof JobMediaSchema>;

const JobOutputSchema = record({
  kind: v.picklist(CLIP_OUTPUT_KINDS),
  /** Final path: a .mov/.mp4 file, or a folder of numbered PNGs for "png". */
  path: v.string(),
});

const JobErrorSchema = record({ code: v.string(), message: v.string() });

export const JobRecordSchema = record({
  id: v.string(),
  state: v.picklist(JOB_STATES),
  request: JobRequestSchema,
  model: v.string(),
  /** The execution device queue the job runs in (one job at a time per device by default). */
  device: v.string(),
  createdAt: v.string(),
  startedAt: v.optional(v.string()),
  finishedAt: v.optional(v.string()),
  media: v.optional(JobMediaSchema),
  progress: JobProgressSchema,
  /** Final output paths; filled when the job is done. */
  outputs: v.array(JobOutputSchema),
  error: v.optional(JobErrorSchema),
  /** The job this one re-runs. */
  rerunOf: v.optional(v.string()),
  /** What plate alignment did (filled as the job runs; final when done). Absent for models without a plate. */
  align: v.optional(AlignReportSchema),
  /** Present when the job ran on the render farm. */
  farm: v.optional(FarmReportSchema),
});
export type JobRecord = v.InferOutput<typeof JobRecordSchema>;

export const JobListSchema = record({ jobs: v.array(JobRecordSchema) });
export type JobList = v.InferOutput<typeof JobListSchema>;

export const JobEventSchema = v.pipe(
  v.variant('type', [
    v.object({ type: v.literal('snapshot'), job: JobRecordSchema }),
    v.object({ type: v.literal('state'), job: JobRecordSchema }),
    v.object({ type: v.literal('progress'), progress: JobProgressSchema }),
    v.object({ type: v.literal('done'), job: JobRecordSchema }),
    v.object({ type: v.literal('failed'), job: JobRecordSchema, error: JobErrorSchema }),
    v.object({ type: v.literal('cancelled'), job: JobRecordSchema }),
    v.object({ type: v.literal('interrupted'), job: JobRecordSchema }),
  ]),
  v.readonly(),
);
export type JobEvent = v.InferOutput<typeof JobEventSchema>;
