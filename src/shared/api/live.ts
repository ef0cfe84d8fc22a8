// Live sessions: WS /v1/live (auth: `?token=` or a `Sec-WebSocket-Protocol` entry
// `cleanplate-token.<token>` next to LIVE_PROTOCOL; Host must be a loopback name).
//
// Text messages are JSON (LiveClientMessage / LiveServerMessage). Frames travel as binary
// messages: a LIVE_FRAME_HEADER_BYTES header (see src/shared/live-frame.ts) then the image bytes.
// One connection may hold several sessions; every session ends with its connection.
// The matted RGBA frames come out on `streamUrl` (NUT, rawvideo rgba, constant `fps`), which an
// OBS Media Source or `ffmpeg -f nut -i http://...` plays; the last frame repeats while no new one
// arrives. Frames that arrive while the model is busy replace the waiting one (latest wins; two
// places: one frame waiting to be decoded, one decoded frame waiting for the model).
import * as v from 'valibot';
import { AlignReportSchema, alignModeSchema } from './align.js';
import { record } from './check.js';
import { compact } from './fields.js';

export const LIVE_PATH = '/v1/live';
/** The subprotocol the engine selects; the token travels as a second entry. */
export const LIVE_PROTOCOL = 'cleanplate-live.v1';
export const LIVE_TOKEN_PROTOCOL_PREFIX = 'cleanplate-token.';
/**
 * A session's watch key as a subprotocol entry (`cleanplate-watch.<key>`): a connection holding
 * it may only `watch` that one session (the layer page, a Browser Source in OBS).
 */
export const LIVE_WATCH_PROTOCOL_PREFIX = 'cleanplate-watch.';

/** rgb / rgba: raw 8-bit pixels, top row first (no decode: what OBS's ppm screenshots carry). */
/** A binary frame's payload formats; the index is the format byte of the frame header (live-frame.ts). */
export const LIVE_FRAME_FORMATS = ['rgba', 'jpeg', 'png', 'rgb'] as const;
export type LiveFrameFormat = (typeof LIVE_FRAME_FORMATS)[number];

/** Frame sides a live session (and the speed route) takes, and its stream rate when `fps` is not given. */
export const LIVE_MIN_SIDE = 16;
export const LIVE_MAX_SIDE = 4096;
export const LIVE_DEFAULT_FPS = 30;

/** A frame side: an integer from LIVE_MIN_SIDE to LIVE_MAX_SIDE; the message quotes `name`. */
export const sideSchema = (name: string) => {
  const message = (i: v.BaseIssue<unknown>): string => `"${name}" must be an integer from ${LIVE_MIN_SIDE} to ${LIVE_MAX_SIDE}, got ${JSON.stringify(i.input)}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(LIVE_MIN_SIDE, message), v.maxValue(LIVE_MAX_SIDE, message));
};

// ---- client -> engine ---------------------------------------------------------------------

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
    width: sideSchema('width'),
    height: sideSchema('height'),
    /** Stream frame rate (1-60, default 30). */
    fps: v.optional(v.pipe(v.number(fpsMessage), v.integer(fpsMessage), v.minValue(1, fpsMessage), v.maxValue(60, fpsMessage))),
    /** Push `stats` every this many ms (>= 200); absent = only on request. */
    statsIntervalMs: v.optional(v.pipe(v.number(intervalMessage), v.minValue(200, intervalMessage))),
    /** Send an `ack` for every frame (flow control: request new frames as the model takes them). */
    acks: v.optional(v.boolean('"acks" must be true or false')),
    /** Plate alignment (default "auto"). */
    align: alignModeSchema('"align"'),
  }),
  v.transform(compact),
);
export type LiveOpenRequest = v.InferOutput<typeof LiveOpenSchema>;

const sessionIdMessage = '"sessionId" must be the id of a live session (an integer)';
const sessionMessage = <T extends string>(type: T) => v.object({ type: v.literal(type), sessionId: v.pipe(v.number(sessionIdMessage), v.integer(sessionIdMessage)) });

/** The messages about one open session: its stats, close it, or watch it. */
export const LiveSessionMessageSchema = v.pipe(
  v.variant('type', [
    sessionMessage('stats'),
    sessionMessage('close'),
    /** Receive the session's mattes as binary rgba frames (with the token: any session; with a watch key: its session). */
    sessionMessage('watch'),
  ]),
  v.readonly(),
);

export type LiveClientMessage = LiveOpenRequest | v.InferOutput<typeof LiveSessionMessageSchema>;

// ---- engine -> client ---------------------------------------------------------------------

const sessionInfoEntries = {
  sessionId: v.number(),
  model: v.string(),
  provider: v.string(),
  width: v.number(),
  height: v.number(),
  fps: v.number(),
  /**
   * http://127.0.0.1:PORT/<secret>.nut serving NUT (rawvideo rgba). The path is the stream's
   * credential: give it only to the player (at most 4 players per session).
   */
  streamUrl: v.string(),
  /** For ffmpeg-based players: `-f <streamFormat>`. */
  streamFormat: v.literal('nut'),
  /**
   * This session's own credential for watching its mattes and nothing else (64 hex): the layer
   * page gets it in its URL fragment (`/obs/layer.html?session=<id>#watch=<key>`), never the
   * engine's token or panel key.
   */
  watchKey: v.string(),
};
export const LiveSessionInfoSchema = record(sessionInfoEntries);
export type LiveSessionInfo = v.InferOutput<typeof LiveSessionInfoSchema>;

const LatencySummarySchema = record({ median: v.nullable(v.number()), p95: v.nullable(v.number()) });
export type LatencySummary = v.InferOutput<typeof LatencySummarySchema>;

/**
 * The hops of a live frame, in order: capture (client: screenshot request to frame sent, i.e. OBS
 * encoding it plus the client reading it; from the frame header's captureMs), transfer (sent to
 * arrival at the engine), wait (for the model, in the session's slots), decode, align, model, mux
 * (matte ready to written into a stream player's ffmpeg; absent without a player).
 */
export const LIVE_HOPS = ['capture', 'transfer', 'wait', 'decode', 'align', 'model', 'mux'] as const;
export type LiveHop = (typeof LIVE_HOPS)[number];
const LiveHopsSchema = record(Object.fromEntries(LIVE_HOPS.map((hop) => [hop, v.optional(LatencySummarySchema)])) as Record<LiveHop, v.OptionalSchema<typeof LatencySummarySchema, undefined>>);
export type LiveHops = v.InferOutput<typeof LiveHopsSchema>;

const statsEntries = {
  sessionId: v.number(),
  /** Frames served (matted) per second over the last few seconds. */
  fps: v.number(),
  received: v.number(),
  matted: v.number(),
  /** Frames replaced in the waiting slot by a newer one before the model saw them. */
  dropped: v.number(),
  /** Frames refused (bad header, wrong size, undecodable). */
  rejected: v.number(),
  /** dropped / received. */
  dropRate: v.number(),
  /** Milliseconds from the client's frame timestamp (epoch ms) to the matte being served. */
  latencyMs: LatencySummarySchema,
  /** Milliseconds from the frame's arrival at the engine to the matte being served. */
  engineMs: LatencySummarySchema,
  /** Players connected to streamUrl right now. */
  streamClients: v.number(),
  /** Plate alignment so far; absent for models that take no plate. */
  align: v.optional(AlignReportSchema),
  /** Where a frame's time goes, per hop (last 300 frames); a hop absent was not measured. */
  hops: v.optional(LiveHopsSchema),
};
export const LiveStatsSchema = record(statsEntries);
export type LiveStats = v.InferOutput<typeof LiveStatsSchema>;

export const LIVE_ERROR_CODES = [
  'bad_message', // not JSON, unknown type, missing or invalid fields
  'bad_frame', // binary message with a bad header, a payload that does not match it, or undecodable bytes
  'frame_size_mismatch', // frame size differs from the session's
  'unknown_session',
  'too_many_sessions',
  'unknown_background',
  'plate_required', // the model needs a plate and the open gave no backgroundId
  'unknown_model',
  'model_unavailable',
  'ffmpeg_missing', // no ffmpeg found: the same code as HTTP's 503
  'worker_crashed', // the model's worker thread died: the same code as HTTP's 503
  'watch_only', // a connection holding a session's watch key sent something other than watching that session
  'internal',
] as const;
export type LiveErrorCode = (typeof LIVE_ERROR_CODES)[number];

/** What became of a frame: taken by the model, dropped for a newer one, or rejected before the model. */
export const LIVE_ACK_STATUSES = ['taken', 'dropped', 'rejected'] as const;
export type LiveAckStatus = (typeof LIVE_ACK_STATUSES)[number];

const sessionId = v.number();
export const LiveServerMessageSchema = v.pipe(
  v.variant('type', [
    v.object({ type: v.literal('opened'), requestId: v.optional(v.string()), ...sessionInfoEntries }),
    v.object({ type: v.literal('stats'), ...statsEntries }),
    v.object({ type: v.literal('closed'), sessionId }),
    v.object({ type: v.literal('watching'), sessionId, width: v.number(), height: v.number() }),
    v.object({
      type: v.literal('ack'),
      sessionId,
      seq: v.number(),
      /**
       * taken: the model started on it; dropped: a newer frame replaced it (before decoding, or
       * decoded while the model was busy); rejected: refused before the model.
       */
      status: v.picklist(LIVE_ACK_STATUSES),
      /** taken: how long it waited for the model, ms, its decoding not counted (about 0 = the model was idle, waiting for frames). */
      waitedMs: v.optional(v.number()),
      /**
       * taken, once the session has timed its model: ms from now until the model should want the
       * next frame (its recent median time, less the next frame's decode and alignment). A client
       * with frames faster than that requests the next one so it arrives then, not earlier.
       */
      readyInMs: v.optional(v.number()),
    }),
    v.object({
      type: v.literal('error'),
      code: v.picklist(LIVE_ERROR_CODES),
      message: v.string(),
      requestId: v.optional(v.string()),
      sessionId: v.optional(sessionId),
      /** The frame the error is about, when it is about one. */
      seq: v.optional(v.number()),
      /** A refusal for capacity (too_many_sessions, worker_crashed): ms to wait before trying again (a message has no Retry-After). */
      retryAfterMs: v.optional(v.number()),
      /** True when the session ended because of this error. */
      fatal: v.optional(v.boolean()),
    }),
  ]),
  v.readonly(),
);
export type LiveServerMessage = v.InferOutput<typeof LiveServerMessageSchema>;
