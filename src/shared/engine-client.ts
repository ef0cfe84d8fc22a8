// A small typed client for the engine's HTTP API (health, models, plates, clip jobs and their
// server-sent events), over the wire of api.ts. Runs wherever fetch does: Node 20 (CLI, tests),
// the OBS dock and the Premiere panel. Callers never build raw JSON or parse error bodies:
// failures are EngineErrors with the engine's code and message, and every answer is checked
// against its schema (an engine that answers otherwise fails as `bad_response`, naming the field).
import * as v from 'valibot';
import {
  API_PREFIX,
  ApiErrorSchema,
  BackgroundSchema,
  HealthSchema,
  isTerminalJobState,
  JobEventSchema,
  JobRecordSchema,
  ModelListSchema,
  ModelSpeedSchema,
  type Background,
  type BackgroundFromMediaRequest,
  type Health,
  type JobEvent,
  type JobRecord,
  type JobRequest,
  type ModelList,
  type ModelSpeed,
  type ModelSpeedRequest,
} from './api.js';
import { streamDecoder } from './utf8.js';
import { messageOf } from './error-message.js';

export interface EngineEndpoint {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly token: string;
}

/** An error the engine reported (HTTP error body or a live `error` message), or `engine_unreachable`. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    /** A capacity refusal's hint (HTTP Retry-After, or a live error's retryAfterMs), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

function unreachable(engine: EngineEndpoint, err: unknown): EngineError {
  return new EngineError('engine_unreachable', `the CleanPlate engine at ${engine.url} is not reachable (is it running? "npm start"): ${messageOf(err)}`);
}

async function errorFrom(res: Response): Promise<EngineError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: fall through to the status line
  }
  const checked = v.safeParse(ApiErrorSchema, body);
  // Retry-After in whole seconds (the engine sends no HTTP dates; anything else is no hint).
  const retryAfter = res.headers.get('retry-after');
  const retryAfterMs = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  if (checked.success) return new EngineError(checked.output.error.code, checked.output.error.message, res.status, retryAfterMs);
  return new EngineError('http_error', `engine answered ${res.status} ${res.statusText}`, res.status);
}

/**
 * `value` checked against the answer's schema: the parsed value, or an EngineError
 * `bad_response` naming `what` and the first field that does not fit (an engine of another
 * version, or something else listening on the port).
 */
export function checkAnswer<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const checked = v.safeParse(schema, value);
  if (checked.success) return checked.output;
  const issue = checked.issues[0];
  const field = v.getDotPath(issue);
  throw new EngineError('bad_response', `the engine's answer to ${what} does not fit this client's API${field ? ` at "${field}"` : ''}: ${issue.message} (is the engine the same CleanPlate version?)`);
}

async function send(engine: EngineEndpoint, route: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${engine.token}`);
  let res: Response;
  try {
    res = await fetch(`${engine.url}${API_PREFIX}${route}`, { ...init, headers });
  } catch (err) {
    throw unreachable(engine, err);
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** A JSON request to `/v1<route>`; the body checked against `schema`, or an EngineError. */
async function engineFetch<S extends v.GenericSchema>(engine: EngineEndpoint, route: string, schema: S, init: RequestInit = {}): Promise<v.InferOutput<S>> {
  const res = await send(engine, route, init);
  const what = `${init.method ?? 'GET'} ${API_PREFIX}${route}`;
  let body: unknown;
  try {
    body = JSON.parse(await res.text());
  } catch {
    throw new EngineError('bad_response', `the engine's answer to ${what} is not JSON`);
  }
  return checkAnswer(schema, body, what);
}

const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export function getHealth(engine: EngineEndpoint, signal?: AbortSignal): Promise<Health> {
  return engineFetch(engine, '/health', HealthSchema, signal ? { signal } : {});
}

export function listModels(engine: EngineEndpoint): Promise<ModelList> {
  return engineFetch(engine, '/models', ModelListSchema);
}

/** The model's measured time per frame at a size (measured once per engine run and size). */
export function measureModelSpeed(engine: EngineEndpoint, model: string, req: ModelSpeedRequest): Promise<ModelSpeed> {
  return engineFetch(engine, `/models/${encodeURIComponent(model)}/speed`, ModelSpeedSchema, postJson(req));
}

/** Stores a clean plate (an encoded image, e.g. an OBS PNG screenshot). */
export function uploadBackground(engine: EngineEndpoint, image: Uint8Array, type = 'image/png'): Promise<Background> {
  return engineFetch(engine, '/backgrounds', BackgroundSchema, { method: 'POST', headers: { 'content-type': type }, body: new Blob([image as Uint8Array<ArrayBuffer>], { type }) });
}

/** Stores a plate taken from a file on the engine's disk: a video frame at `timeSeconds`, or a still image. */
export function backgroundFromMedia(engine: EngineEndpoint, req: BackgroundFromMediaRequest): Promise<Background> {
  return engineFetch(engine, '/backgrounds', BackgroundSchema, postJson(req));
}

/** A stored plate as an image (for thumbnails). */
export async function fetchBackgroundImage(engine: EngineEndpoint, id: string): Promise<Blob> {
  return (await send(engine, `/backgrounds/${encodeURIComponent(id)}/image`)).blob();
}

export function createJob(engine: EngineEndpoint, req: JobRequest): Promise<JobRecord> {
  return engineFetch(engine, '/jobs', JobRecordSchema, postJson(req));
}

export function getJob(engine: EngineEndpoint, id: string): Promise<JobRecord> {
  return engineFetch(engine, `/jobs/${encodeURIComponent(id)}`, JobRecordSchema);
}

export function cancelJob(engine: EngineEndpoint, id: string): Promise<JobRecord> {
  return engineFetch(engine, `/jobs/${encodeURIComponent(id)}`, JobRecordSchema, { method: 'DELETE' });
}

export function rerunJob(engine: EngineEndpoint, id: string): Promise<JobRecord> {
  return engineFetch(engine, `/jobs/${encodeURIComponent(id)}/rerun`, JobRecordSchema, { method: 'POST' });
}

/**
 * A job's server-sent events (EventSource cannot send the token, so this reads the stream with
 * fetch), ending after the terminal event. A stream that breaks before it (the engine stopped)
 * throws an EngineError `engine_unreachable`.
 */
export async function* jobEvents(engine: EngineEndpoint, id: string, signal?: AbortSignal): AsyncGenerator<JobEvent> {
  const res = await send(engine, `/jobs/${encodeURIComponent(id)}/events`, signal ? { signal } : {});
  const reader = res.body!.getReader();
  const decoder = streamDecoder();
  let buffer = '';
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) return;
        throw unreachable(engine, err);
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (!data) continue; // a keep-alive comment
        const event = checkAnswer(JobEventSchema, JSON.parse(data), `job ${id}'s events`);
        yield event;
        if (isTerminalJobState(event.type)) return;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  if (!signal?.aborted) throw new EngineError('engine_unreachable', `the engine closed job ${id}'s event stream before the job ended (did it stop?)`);
}
