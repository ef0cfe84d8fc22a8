// Every route's prefix and the error body every failure answers with.
import * as v from 'valibot';
import { record } from './check.js';

/** Every route version lives under this prefix. */
export const API_PREFIX = '/v1';

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
  | 'worker_crashed' // the engine's inference or alignment worker thread died mid-request; a new one starts: try again (503)
  // engine side
  | 'internal'; // a bug or an environment failure (500)

/** Every error answer's body. */
export interface ApiError {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

/** The error body as a client checks it: any code (a newer engine may add codes), a message. */
export const ApiErrorSchema = record({ error: record({ code: v.string(), message: v.string() }) });
