// Every failure leaves the engine as `{error:{code,message}}` with a fitting status: input errors
// from any layer are mapped here, in one place, and nothing thrown by a route reaches Node.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import multer from 'multer';
import { WireError, type ApiError, type ApiErrorCode } from '../../shared/api.js';
import { MattingInputError } from '../matting/errors.js';
import { ImageInputError } from '../media/image.js';
import { UnknownBackgroundError } from '../services/backgrounds.js';
import { MediaInputError } from '../media/errors.js';
import { ToolNotFoundError } from '../media/ffmpeg-locate.js';
import { ToolTimeoutError } from '../media/process.js';
import { JobRequestError } from '../services/clip-job.js';
import { JobStateError, UnknownJobError } from '../services/jobs.js';
import { BusyError } from '../services/pixel-budget.js';
import { ShuttingDownError } from '../services/shutting-down.js';
import { isDiskFull } from '../services/job-records.js';
import { WorkerCrashError } from '../workers/client.js';
import { messageOf } from '../../shared/error-message.js';

/** An error a route throws on purpose, with the response it should become. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendError(res: Response, status: number, code: ApiErrorCode, message: string): void {
  const body: ApiError = { error: { code, message } };
  res.status(status).json(body);
}

const IMAGE_STATUS: Record<ImageInputError['code'], number> = {
  bad_image: 400,
  unsupported_format: 415,
  image_too_large: 413,
  image_too_small: 422,
};

const MATTING_ERRORS: Record<MattingInputError['code'], [number, ApiErrorCode]> = {
  plate_required: [400, 'plate_required'],
  plate_size_mismatch: [422, 'plate_size_mismatch'],
  bad_frame: [400, 'bad_image'],
  frame_too_large: [413, 'image_too_large'],
  unknown_model: [404, 'unknown_model'],
  model_unavailable: [409, 'model_unavailable'],
};

const MEDIA_STATUS: Record<MediaInputError['code'], number> = {
  media_not_found: 404,
  not_a_video: 415,
  no_video_stream: 422,
  media_unreadable: 422,
  variable_frame_rate: 422,
  bad_range: 400,
  range_outside_media: 422,
  unsupported_frame_size: 422,
  output_dir_unwritable: 422,
};

/** Errors body-parser raises, by its `type` tag. */
const BODY_ERRORS: Record<string, [number, ApiErrorCode, string]> = {
  'entity.parse.failed': [400, 'bad_json', 'the request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'the request body is larger than the engine accepts'],
  'encoding.unsupported': [415, 'unsupported_media_type', 'unsupported Content-Encoding'],
  'charset.unsupported': [415, 'unsupported_media_type', 'unsupported charset'],
  'request.aborted': [400, 'bad_request', 'the request was aborted while its body was being read'],
  'request.size.invalid': [400, 'bad_request', 'the request body is shorter or longer than its Content-Length'],
};

/** Maps any thrown value to [status, code, message]; unknown errors are 500s. */
export function describeError(err: unknown, maxUploadBytes: number): [number, ApiErrorCode, string] {
  if (err instanceof HttpError) return [err.status, err.code, err.message];
  if (err instanceof ImageInputError) return [IMAGE_STATUS[err.code], err.code, err.message];
  if (err instanceof MattingInputError) {
    const [status, code] = MATTING_ERRORS[err.code];
    return [status, code, err.message];
  }
  if (err instanceof UnknownBackgroundError) return [404, 'unknown_background', err.message];
  if (err instanceof MediaInputError) return [MEDIA_STATUS[err.code], err.code, err.message];
  if (err instanceof ToolNotFoundError) return [503, 'ffmpeg_missing', err.message];
  if (err instanceof BusyError) return [503, 'busy', err.message];
  if (err instanceof ShuttingDownError) return [503, 'shutting_down', err.message];
  if (err instanceof ToolTimeoutError) return [504, 'tool_timeout', err.message];
  if (err instanceof WorkerCrashError) return [503, 'worker_crashed', err.message];
  if (isDiskFull(err)) return [507, 'disk_full', `the disk is full: ${messageOf(err)}`];
  if (err instanceof WireError || err instanceof JobRequestError) return [400, err.code, err.message];
  if (err instanceof UnknownJobError) return [404, 'unknown_job', err.message];
  if (err instanceof JobStateError) return [409, err.code, err.message];
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') {
      return [413, 'payload_too_large', `file "${err.field}" is larger than the engine accepts (${Math.floor(maxUploadBytes / 2 ** 20)} MiB)`];
    }
    if (err.code === 'LIMIT_UNEXPECTED_FILE') return [400, 'bad_field', `unexpected file field "${err.field}" (or the same file field twice)`];
    return [400, 'bad_request', `bad multipart request: ${err.message}${err.field ? ` (${err.field})` : ''}`];
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && BODY_ERRORS[type]) return BODY_ERRORS[type];
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return [status, 'bad_request', err instanceof Error ? err.message : 'bad request'];
  }
  return [500, 'internal', `internal error: ${messageOf(err)}`];
}

/** The retry hint of a refusal that carries one (busy, shutting down, a replaced worker): any error class with `retryAfterSeconds`. */
function retryAfterSecondsOf(err: unknown): number | undefined {
  const seconds = err instanceof Error ? (err as { retryAfterSeconds?: unknown }).retryAfterSeconds : undefined;
  return typeof seconds === 'number' ? seconds : undefined;
}

export function errorHandler(maxUploadBytes: number, log: (line: string) => void): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const [status, code, message] = describeError(err, maxUploadBytes);
    if (status >= 500) log(`error: ${req.method} ${req.originalUrl}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (res.headersSent) {
      // Too late for a JSON error: cut the response so the client does not take it as complete.
      res.destroy();
      return;
    }
    const retryAfter = retryAfterSecondsOf(err);
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    // Errors raised while the upload is still arriving: answer, then drop the rest of the body.
    if (!req.complete) res.setHeader('Connection', 'close');
    sendError(res, status, code, message);
  };
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`);
};
