// Checking what crosses the wire against its schema. Failures name the field: the engine answers a
// request's WireError as `{error:{code,message}}` (missing_field / bad_field); the engine client
// turns an answer that does not fit its schema into an EngineError `bad_response`.
import * as v from 'valibot';

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

/** A value a request may send for "not given". */
export const absent = (input: unknown): boolean => input === undefined || input === null || input === '';

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

/** A response object: readonly fields, keys the schema does not name dropped. */
export const record = <E extends v.ObjectEntries>(entries: E) => v.pipe(v.object(entries), v.readonly());

/** A readonly list. */
export const readonlyList = <T extends v.GenericSchema>(item: T) => v.pipe(v.array(item), v.readonly());
