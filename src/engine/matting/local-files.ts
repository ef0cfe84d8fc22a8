// models/local-files.json: the model files a user added by hand under an official entry's file
// name (models:add), kept apart from models/manifest.json so a user's file never passes for the
// upstream one: the manifest's sha256 and URL stay upstream's, and `GET /v1/models` says which
// file is in use and where it came from. Gitignored, like the model files.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ModelFileInfo } from '../../shared/api.js';
import { kindNetwork } from './kinds.js';
import type { ManifestEntry } from './manifest.js';

export const LOCAL_FILES = 'local-files.json';

export interface LocalFileRecord {
  /** File name inside the models folder (the entry's `file`). */
  readonly file: string;
  readonly sha256: string;
  /** Size in bytes when recorded: a replaced or removed file no longer matches its record. */
  readonly size: number;
  /** Where it came from, in words ("added by hand from onnx_mobilenetv2_hd.onnx"). */
  readonly source: string;
  readonly addedAt: string;
}

/** Entry id -> the user's file recorded for it. A missing or unreadable file means none. */
export type LocalFiles = Record<string, LocalFileRecord>;

export function readLocalFiles(modelsDir: string): LocalFiles {
  try {
    const raw = JSON.parse(readFileSync(path.join(modelsDir, LOCAL_FILES), 'utf8')) as { files?: LocalFiles };
    return raw.files && typeof raw.files === 'object' ? raw.files : {};
  } catch {
    return {};
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

/**
 * Which file an entry runs on and where it came from, from the records models:add and
 * models:fetch keep (the engine does not re-hash model files on every request).
 */
export function fileInfo(entry: ManifestEntry, modelsDir: string, local: LocalFiles = readLocalFiles(modelsDir)): ModelFileInfo | undefined {
  if (entry.file === null) return undefined;
  const size = sizeOf(path.join(modelsDir, entry.file));
  const base = { name: entry.file, present: size !== undefined };
  const mine = local[entry.id];
  if (mine && mine.file === entry.file && mine.size === size) return { ...base, origin: 'user', sha256: mine.sha256, source: mine.source };
  if (entry.url) {
    return entry.sha256
      ? { ...base, origin: 'official', sha256: entry.sha256, source: entry.url }
      : { ...base, origin: 'unrecorded', sha256: null, source: `placed in models/ by hand or by an older CleanPlate; official file: ${entry.url}` };
  }
  // rvm's conversion, and fused, which runs that same file.
  if (kindNetwork(entry.kind) === 'rvm') return { ...base, origin: 'converted', sha256: entry.sha256, source: entry.source };
  return { ...base, origin: 'user', sha256: entry.sha256, source: entry.source };
}
