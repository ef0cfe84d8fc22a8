// The engine's HTTP wire types: the one module both the engine and its clients (panels, CLI,
// tests) import, so a change to a request or response shows up as a type error on both sides.
// Types and a few constants only: panels bundle it without pulling in engine code. Request
// bodies are declared once, as schemas in schemas.ts (type and runtime check); their types are
// re-exported here.
import type * as v from 'valibot';
import type { BackgroundFromMediaSchema, CompositeOverSchema, JobBackgroundSchema, JobRangeSchema, JobRequestSchema, LiveOpenSchema, MatteFieldsSchema } from './schemas.js';

/** Every route version lives under this prefix. */
export const API_PREFIX = '/v1';

// ---------------------------------------------------------------------------------------------
// Errors

/** Machine-readable error codes; `message` carries the human explanation. */
export type ApiErrorCode =
  // transport and security
  | 'unauthorized' // missing or wrong bearer token (401)
  | 'forbidden_host' // Host header is not a loopback name (403, DNS rebinding guard)
  | 'forbidden_origin' // WebSocket upgrade from a page that is not the engine's own (403)
  | 'cors_refused' // preflight from an origin the engine does not serve (403)
  | 'not_found' // no such route (404)
  | 'bad_json' // malformed JSON body (400)
  | 'payload_too_large' // upload or body over the engine's limit (413)
  | 'unsupported_media_type' // request Content-Type the route does not take (415)
  | 'bad_request' // malformed multipart or other protocol-level problem (400)
  | 'headers_too_large' // request headers over Node's limit (431)
  | 'request_timeout' // request line and headers did not arrive in time (408)
  // input
  | 'missing_field' // a required field or file is absent (400)
  | 'bad_field' // a field has an invalid value (400)
  | 'bad_image' // zero-byte, corrupt or truncated image (400)
  | 'unsupported_format' // not an image format the engine decodes (415)
  | 'image_too_large' // over 8192x8192 (413)
  | 'image_too_small' // under 16x16 (422)
  | 'plate_required' // the model needs a background plate and none was given (400)
  | 'plate_size_mismatch' // plate and frame differ in size (422)
  | 'unknown_background' // no background with that id (404)
  | 'unknown_model' // no model with that id (404)
  | 'model_unavailable' // the model is listed but cannot run here (file missing, kind unsupported) (409)
  // media and clip jobs
  | 'media_not_found' // no file at mediaPath (404)
  | 'not_a_video' // not media ffmpeg can read, or a still image where a clip is needed (415)
  | 'no_video_stream' // audio-only media (422)
  | 'media_unreadable' // corrupt or truncated media (422)
  | 'variable_frame_rate' // VFR media is refused: convert to a constant rate first (422)
  | 'bad_range' // range in/out malformed or empty (400)
  | 'range_outside_media' // range or time beyond the media's frames (422)
  | 'unsupported_frame_size' // ProRes outputs of a clip with an odd width (422)
  | 'output_dir_unwritable' // outputDir cannot be created or written (422)
  | 'unknown_job' // no job with that id (404)
  | 'job_not_active' // cancel of a job that already finished (409)
  | 'job_still_active' // rerun of a job that is queued or running (409)
  | 'ffmpeg_missing' // no ffmpeg/ffprobe found (503)
  | 'disk_full' // no space left on the disk (or quota) the engine writes to (507)
  | 'busy' // the engine's admission budget is full: try again after Retry-After seconds (503)
  | 'shutting_down' // the engine is stopping: the request was not started; try again after Retry-After (503)
  | 'tool_timeout' // ffmpeg or ffprobe stopped making progress within its deadline and was stopped (job error; 504 on requests)
  // engine side
  | 'internal'; // a bug or an environment failure (500)

export interface ApiError {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

// ---------------------------------------------------------------------------------------------
// GET /v1/health, GET /v1/models

export type ModelKind = 'plate' | 'bgmv2' | 'rvm' | 'fused';

export interface HealthModel {
  readonly id: string;
  readonly kind: ModelKind;
  readonly available: boolean;
  /** Execution provider the model's open session runs on; null until a session is open. */
  readonly provider: string | null;
  /**
   * bgmv2 models only: the preset baked into the export ("hd", "4k"); for the logical `bgmv2`
   * model, the preset its open session ran last (null until it has run a frame).
   */
  readonly preset?: string | null;
}

export interface ProviderFallback {
  readonly provider: string;
  readonly reason: string;
}

export interface Health {
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly models: HealthModel[];
  readonly providers: {
    /** Providers tried for each new session, best first (CPU always last). */
    readonly order: string[];
    /** Providers that open sessions actually run on. */
    readonly inUse: string[];
    /** Providers tried before the one in use and why they failed, per model id. */
    readonly fallbacks: Record<string, ProviderFallback[]>;
  };
  readonly defaultModel: DefaultModelInfo;
  /** Present when opening the default model at start failed: the engine serves, mattes fail. */
  readonly warmUpError?: string;
  /** The ffmpeg/ffprobe clip jobs use (system, env override or the npm-packaged fallback). */
  readonly media?: MediaToolsHealth;
}

/** The file a model runs on, and where it came from (GET /v1/models). */
export interface ModelFileInfo {
  /** File name inside the engine's models folder. */
  readonly name: string;
  readonly present: boolean;
  /**
   * official: the manifest's upstream file (models:fetch or models:add checked its recorded sha256);
   * user: a file the user added by hand (models:add), under an official entry's name or their own entry;
   * converted: made on this machine (rvm, by models:rvm);
   * unrecorded: an official entry's file whose sha256 nobody recorded (put there by hand).
   */
  readonly origin: 'official' | 'user' | 'converted' | 'unrecorded';
  readonly sha256: string | null;
  /** Where it came from, in words or as a URL. */
  readonly source: string;
}

export interface ModelInfo {
  readonly id: string;
  readonly kind: ModelKind;
  readonly default: boolean;
  readonly available: boolean;
  readonly unavailableReason?: string;
  readonly needsPlate: boolean;
  readonly licence: string;
  readonly source: string;
  readonly description?: string;
  /** The file in use (absent for models built at run time and for logical models, whose variants say). */
  readonly file?: ModelFileInfo;
  /** Execution provider of the open session; null when the model has not been opened yet. */
  readonly provider: string | null;
}

/** The model used when a request names none: the best present (official BGMv2 weights, else
 * fused, else plate), and why. */
export interface DefaultModelInfo {
  readonly id: string;
  readonly reason: string;
}

export interface ModelList {
  readonly models: ModelInfo[];
  readonly defaultModel: DefaultModelInfo;
}

// POST /v1/models/:id/speed {width, height}: the model's time per frame at that size on this
// machine (median of a few runs on a synthetic frame, after one untimed run; measured once per
// engine run, model and size). The OBS controller picks its default live size from it.

export interface ModelSpeedRequest {
  readonly width: number;
  readonly height: number;
}

export interface ModelSpeed {
  readonly model: string;
  readonly width: number;
  readonly height: number;
  /** Median milliseconds inside the model per frame. */
  readonly msPerFrame: number;
  readonly runs: number;
}

// ---------------------------------------------------------------------------------------------
// Backgrounds (clean plates)
//
// POST /v1/backgrounds: multipart with a file field `image`, or a raw body with Content-Type
// image/*. Response: Background (201). GET /v1/backgrounds: BackgroundList.
// GET /v1/backgrounds/:id: BackgroundRecord. GET /v1/backgrounds/:id/image: the plate as PNG.
// DELETE /v1/backgrounds/:id: 204.

/** Where a stored plate came from. (A frame taken from a media file joins this union later.) */
export type BackgroundSource =
  | { readonly kind: 'upload'; readonly filename?: string }
  /** A frame of a video (the one shown at timeSeconds) or a still image file on disk. */
  | { readonly kind: 'media'; readonly mediaPath: string; readonly timeSeconds: number; readonly frameIndex: number };

/** POST /v1/backgrounds with a JSON body: take the plate from a file on the engine's disk. */
export type BackgroundFromMediaRequest = v.InferOutput<typeof BackgroundFromMediaSchema>;

export interface Background {
  readonly id: string;
  readonly width: number;
  readonly height: number;
}

export interface BackgroundRecord extends Background {
  /** ISO 8601 time the plate was stored. */
  readonly createdAt: string;
  readonly source: BackgroundSource;
}

export interface BackgroundList {
  readonly backgrounds: BackgroundRecord[];
}

// ---------------------------------------------------------------------------------------------
// Plate alignment (stills, clip jobs, live sessions; models that take a plate)
//
// A hand-held or nudged camera, focus breathing or auto-exposure leave the plate off the frame
// by pixels and levels. Before the model runs, the engine can warp the plate onto the frame (a
// homography from feature matches on the background) and match its exposure (per-channel gain
// and offset); the strip of frame the warped plate does not cover is filled from the frame itself,
// so it mattes as background.

/**
 * auto: a cheap check per frame; align only when the camera moved or the exposure changed (a
 * tripod clip pays almost nothing). on: estimate on every frame. off: use the plate as given.
 */
export type AlignMode = 'auto' | 'off' | 'on';
export const ALIGN_MODES: readonly AlignMode[] = ['auto', 'off', 'on'];
export const DEFAULT_ALIGN_MODE: AlignMode = 'auto';

/** What alignment did over a still, a job or a live session. */
export interface AlignReport {
  readonly mode: AlignMode;
  /** Frames seen. */
  readonly frames: number;
  /** Frames on which the camera motion was estimated (the costly step; auto skips it when nothing moved). */
  readonly framesEstimated: number;
  /** Frames matted with a changed plate (warped and/or exposure-matched). */
  readonly framesAligned: number;
  readonly framesWarped: number;
  readonly framesExposureMatched: number;
  /** Mean over warped frames of the plate's mean corner shift, pixels (0 when none was warped). */
  readonly meanShiftPx: number;
  readonly maxShiftPx: number;
  /** Largest share of the frame the warped plate left uncovered (filled from the frame: mattes as background). */
  readonly maxUncoveredFraction: number;
  /** The last exposure match applied (frame = gain * plate + offset, 8-bit levels), per channel R, G, B. */
  readonly gain?: readonly [number, number, number];
  readonly offset?: readonly [number, number, number];
  /** Milliseconds spent aligning, all frames together. */
  readonly ms: number;
  /** E.g. the frame and the plate have nothing in common: the plate was used as given. Deduplicated. */
  readonly warnings: string[];
}

// ---------------------------------------------------------------------------------------------
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

export type MatteOutput = 'alpha' | 'foreground' | 'composite';
export const MATTE_OUTPUTS: readonly MatteOutput[] = ['alpha', 'foreground', 'composite'];
export const DEFAULT_COMPOSITE_COLOR = '#00ff00';

/** The text fields of a matte request (files travel as multipart parts), as sent. */
export type MatteFields = v.InferInput<typeof MatteFieldsSchema>;

export interface MatteResponse {
  readonly model: string;
  readonly provider: string;
  readonly width: number;
  readonly height: number;
  /** Time spent in the model, milliseconds (decode and encode excluded). */
  readonly ms: number;
  /**
   * Base64 PNGs, one per requested output: alpha is 8-bit greyscale (255 = subject), foreground
   * is RGBA with straight alpha, composite is RGB (the foreground over compositeColor).
   */
  readonly outputs: Partial<Record<MatteOutput, string>>;
  /** What plate alignment did; absent for models that take no plate. */
  readonly align?: AlignReport;
}

// ---------------------------------------------------------------------------------------------
// The config file the daemon writes for its clients (0600, removed on clean shutdown).

export interface EngineConfigFile {
  readonly port: number;
  readonly token: string;
  readonly pid: number;
  readonly version: string;
}

// ---------------------------------------------------------------------------------------------
// Live sessions: WS /v1/live (auth: `?token=` or a `Sec-WebSocket-Protocol` entry
// `cleanplate-token.<token>` next to LIVE_PROTOCOL; Host must be a loopback name).
//
// Text messages are JSON (LiveClientMessage / LiveServerMessage). Frames travel as binary
// messages: a LIVE_FRAME_HEADER_BYTES header (see src/shared/live-frame.ts) then the image bytes.
// One connection may hold several sessions; every session ends with its connection.
// The matted RGBA frames come out on `streamUrl` (NUT, rawvideo rgba, constant `fps`), which an
// OBS Media Source or `ffmpeg -f nut -i http://...` plays; the last frame repeats while no new one
// arrives. Frames that arrive while the model is busy replace the waiting one (latest wins).

export const LIVE_PATH = '/v1/live';
/** The subprotocol the engine selects; the token travels as a second entry. */
export const LIVE_PROTOCOL = 'cleanplate-live.v1';
export const LIVE_TOKEN_PROTOCOL_PREFIX = 'cleanplate-token.';

export type LiveFrameFormat = 'rgba' | 'jpeg' | 'png';

/** Frame sides a live session takes, and its stream rate when `fps` is not given. */
export const LIVE_MIN_SIDE = 16;
export const LIVE_MAX_SIDE = 4096;
export const LIVE_DEFAULT_FPS = 30;

export type LiveOpenRequest = v.InferOutput<typeof LiveOpenSchema>;

export type LiveClientMessage =
  | LiveOpenRequest
  | { readonly type: 'stats'; readonly sessionId: number }
  | { readonly type: 'close'; readonly sessionId: number }
  /** Receive the session's mattes as binary rgba frames (any session: e.g. a browser-source page). */
  | { readonly type: 'watch'; readonly sessionId: number };

export interface LiveSessionInfo {
  readonly sessionId: number;
  readonly model: string;
  readonly provider: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /**
   * http://127.0.0.1:PORT/<secret>.nut serving NUT (rawvideo rgba). The path is the stream's
   * credential: give it only to the player (at most 4 players per session).
   */
  readonly streamUrl: string;
  /** For ffmpeg-based players: `-f <streamFormat>`. */
  readonly streamFormat: 'nut';
}

export interface LatencySummary {
  readonly median: number | null;
  readonly p95: number | null;
}

export interface LiveStats {
  readonly sessionId: number;
  /** Frames served (matted) per second over the last few seconds. */
  readonly fps: number;
  readonly received: number;
  readonly matted: number;
  /** Frames replaced in the waiting slot by a newer one before the model saw them. */
  readonly dropped: number;
  /** Frames refused (bad header, wrong size, undecodable). */
  readonly rejected: number;
  /** dropped / received. */
  readonly dropRate: number;
  /** Milliseconds from the client's frame timestamp (epoch ms) to the matte being served. */
  readonly latencyMs: LatencySummary;
  /** Milliseconds from the frame's arrival at the engine to the matte being served. */
  readonly engineMs: LatencySummary;
  /** Players connected to streamUrl right now. */
  readonly streamClients: number;
  /** Plate alignment so far; absent for models that take no plate. */
  readonly align?: AlignReport;
}

export type LiveErrorCode =
  | 'bad_message' // not JSON, unknown type, missing or invalid fields
  | 'bad_frame' // binary message with a bad header, a payload that does not match it, or undecodable bytes
  | 'frame_size_mismatch' // frame size differs from the session's
  | 'unknown_session'
  | 'too_many_sessions'
  | 'unknown_background'
  | 'plate_required' // the model needs a plate and the open gave no backgroundId
  | 'unknown_model'
  | 'model_unavailable'
  | 'ffmpeg_missing' // no ffmpeg found: the same code as HTTP's 503
  | 'internal';

export type LiveServerMessage =
  | ({ readonly type: 'opened'; readonly requestId?: string } & LiveSessionInfo)
  | ({ readonly type: 'stats' } & LiveStats)
  | { readonly type: 'closed'; readonly sessionId: number }
  | { readonly type: 'watching'; readonly sessionId: number; readonly width: number; readonly height: number }
  | {
      readonly type: 'ack';
      readonly sessionId: number;
      readonly seq: number;
      /** taken: the model started on it; dropped: a newer frame replaced it; rejected: refused before the model. */
      readonly status: 'taken' | 'dropped' | 'rejected';
      /** taken: how long it waited for the model, ms (about 0 = the model was idle, waiting for frames). */
      readonly waitedMs?: number;
    }
  | {
      readonly type: 'error';
      readonly code: LiveErrorCode;
      readonly message: string;
      readonly requestId?: string;
      readonly sessionId?: number;
      /** The frame the error is about, when it is about one. */
      readonly seq?: number;
      /** True when the session ended because of this error. */
      readonly fatal?: boolean;
    };

// ---------------------------------------------------------------------------------------------
// Media tools (in /v1/health)

export interface MediaToolHealth {
  readonly path: string;
  readonly version: string;
  /** env: FFMPEG_PATH/FFPROBE_PATH; system: found on PATH; npm-package: the bundled fallback (old build). */
  readonly source: 'env' | 'system' | 'npm-package';
}

export type MediaToolsHealth = { readonly ffmpeg: MediaToolHealth; readonly ffprobe: MediaToolHealth } | { readonly error: string };

// ---------------------------------------------------------------------------------------------
// Clip jobs
//
// POST /v1/jobs (JobRequest) -> 201 JobRecord.  GET /v1/jobs -> JobList.  GET /v1/jobs/:id ->
// JobRecord.  DELETE /v1/jobs/:id -> cancel, 200 JobRecord.  POST /v1/jobs/:id/rerun -> 201 a
// new JobRecord with the same request.  GET /v1/jobs/:id/events -> text/event-stream of
// JobEvent (event name = JobEvent.type, data = JSON), starting with a `snapshot`.

export type ClipOutputKind = 'prores4444' | 'matte' | 'png' | 'composite';
export const CLIP_OUTPUT_KINDS: readonly ClipOutputKind[] = ['prores4444', 'matte', 'png', 'composite'];
export const DEFAULT_CLIP_OUTPUTS: readonly ClipOutputKind[] = ['prores4444'];

/** A clip range in source time: `in` inclusive, `out` exclusive (the end of the last frame); unit default "seconds", "frames" = whole frame numbers (0 = first frame). */
export type JobRange = v.InferOutput<typeof JobRangeSchema>;
/** The clean plate for a job: a stored plate {id}, a still image {imagePath}, or a frame of a video {mediaPath?, timeSeconds} (default: the job's own media). */
export type JobBackground = v.InferOutput<typeof JobBackgroundSchema>;
/** What the composite output shows behind the subject: {color} (#rrggbb, default #00ff00), {imagePath} or {videoPath} (looped when shorter than the clip). */
export type CompositeOver = v.InferOutput<typeof CompositeOverSchema>;
/** POST /v1/jobs: the fields are documented on JobRequestSchema. */
export type JobRequest = v.InferOutput<typeof JobRequestSchema>;

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  readonly framesDone: number;
  readonly framesTotal: number;
  /** Frames per second since the first frame; 0 until one is done. */
  readonly fps: number;
  /** Estimated seconds left; null until the rate is known. */
  readonly etaSeconds: number | null;
  /** Farm jobs (docs/farm.md): segments and what each worker is rendering now. */
  readonly farm?: FarmProgress;
}

export interface FarmWorkerProgress {
  readonly worker: string;
  readonly segment: number;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly fps: number;
}

export interface FarmProgress {
  readonly segmentsDone: number;
  readonly segmentsTotal: number;
  readonly workers: readonly FarmWorkerProgress[];
}

/** How a farm job was rendered (JobRecord.farm). */
export interface FarmReport {
  readonly modelId: string;
  /** The model version every segment was rendered with. */
  readonly modelSha256: string;
  readonly engineVersion: string;
  readonly segments: number;
  /** Frames run before each segment (after the first) to warm a recurrent model, then discarded. */
  readonly warmUpFrames: number;
  /** Worker name per segment, in frame order. */
  readonly workers: readonly string[];
  /** Outputs encoded once from the joined lossless segments (not intra-only, e.g. composite H.264). */
  readonly encodedAfterJoin: readonly ClipOutputKind[];
}

export interface JobMedia {
  readonly width: number;
  readonly height: number;
  /** Rational, e.g. "30000/1001". */
  readonly frameRate: string;
  /** Source frame index of the first output frame. */
  readonly firstFrame: number;
  readonly frameCount: number;
  readonly codec: string;
  readonly pixFmt: string;
  readonly bitDepth: number;
  readonly rotation: number;
}

export interface JobOutput {
  readonly kind: ClipOutputKind;
  /** Final path: a .mov/.mp4 file, or a folder of numbered PNGs for "png". */
  readonly path: string;
}

export interface JobRecord {
  readonly id: string;
  readonly state: JobState;
  readonly request: JobRequest;
  readonly model: string;
  /** The execution device queue the job runs in (one job at a time per device by default). */
  readonly device: string;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly media?: JobMedia;
  readonly progress: JobProgress;
  /** Final output paths; filled when the job is done. */
  readonly outputs: JobOutput[];
  readonly error?: { readonly code: string; readonly message: string };
  /** The job this one re-runs. */
  readonly rerunOf?: string;
  /** What plate alignment did (filled as the job runs; final when done). Absent for models without a plate. */
  readonly align?: AlignReport;
  /** Present when the job ran on the render farm. */
  readonly farm?: FarmReport;
}

export interface JobList {
  readonly jobs: JobRecord[];
}

export type JobEvent =
  | { readonly type: 'snapshot'; readonly job: JobRecord }
  | { readonly type: 'state'; readonly job: JobRecord }
  | { readonly type: 'progress'; readonly progress: JobProgress }
  | { readonly type: 'done'; readonly job: JobRecord }
  | { readonly type: 'failed'; readonly job: JobRecord; readonly error: { readonly code: string; readonly message: string } }
  | { readonly type: 'cancelled'; readonly job: JobRecord }
  | { readonly type: 'interrupted'; readonly job: JobRecord };
