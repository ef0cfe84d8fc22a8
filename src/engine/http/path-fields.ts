// File paths in request bodies name the user's files: a relative one would resolve against the
// engine's working folder (wherever it was started), which the user never chose, so it is refused
// at request time, as is a NUL byte (it would cut the path short in the OS call). A small check
// beside the request validators, applied before them.
import { HttpError } from './errors.js';

/** Where paths sit in request bodies (dotted), per route. */
export const JOB_PATH_FIELDS = ['mediaPath', 'outputDir', 'background.imagePath', 'background.mediaPath', 'compositeOver.imagePath', 'compositeOver.videoPath'] as const;
export const BACKGROUND_PATH_FIELDS = ['mediaPath'] as const;

function at(body: unknown, dotted: string): unknown {
  let v: unknown = body;
  for (const key of dotted.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Throws 400 bad_field for a path field that is a relative path or holds a NUL byte. */
export function requireAbsolutePaths(body: unknown, fields: readonly string[]): void {
  for (const field of fields) {
    const v = at(body, field);
    if (typeof v !== 'string' || v === '') continue; // type and presence are the validators' business
    if (v.includes('\0')) throw new HttpError(400, 'bad_field', `${field} must not contain a NUL byte`);
    const absolute = v.startsWith('/') || /^[A-Za-z]:[\\/]/.test(v) || v.startsWith('\\\\');
    if (!absolute) throw new HttpError(400, 'bad_field', `${field} must be an absolute path (got "${v.slice(0, 200)}"): a relative path would resolve against the engine's working folder`);
  }
}
