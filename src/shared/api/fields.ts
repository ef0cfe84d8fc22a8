// Pieces the request schemas share: text, path, colour, align and name-list fields, with the
// messages the engine has always answered (the field's name, what it must be, what came).
import * as v from 'valibot';
import { absent } from './check.js';

/** A required non-empty string; `required` is the message when it is absent. */
export const requiredText = (field: string, required = `${field} is required`) =>
  v.pipe(
    v.string((i) => (absent(i.input) ? required : `${field} must be a string`)),
    v.nonEmpty(required),
  );

/** An optional string: null and "" count as absent. */
export const optionalText = (field: string) =>
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
export const requiredPath = (field: string, required?: string) => v.pipe(requiredText(field, required), ...pathChecks<string>(field));
export const optionalPath = (field: string) => v.pipe(optionalText(field), ...pathChecks<string | undefined>(field));

export const HEX_COLOR = /^\s*#[0-9a-f]{6}\s*$/i;

/** A comma list ("alpha,composite") or an array of names from `known`; duplicates dropped. */
export const nameList = <T extends string>(field: string, known: readonly T[]) =>
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
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
}
