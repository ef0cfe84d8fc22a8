// `npm run models:fetch [id]`: download a model listed in the manifest from its official URL,
// verify it (sha256, and the model contract by opening it), and place it into models/.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { dataDir } from '../config.js';
import { fileInfo, readLocalFiles } from '../matting/local-files.js';
import { loadManifest, type ManifestEntry } from '../matting/manifest.js';
import { DownloadError, downloadToPart, removePart, type DownloadProgress } from './download.js';
import { checkModelFile, editLocalFiles, editManifest, exists, placeModelFile, sha256File } from './model-files.js';
import { messageOf } from '../../shared/error-message.js';

export interface FetchOptions {
  readonly modelsDir: string;
  /** Where part files wait between attempts (default: <data dir>/downloads). */
  readonly downloadsDir?: string;
  /** Download a model whose manifest entry has no sha256 yet, and record the sha256 it has. */
  readonly acceptUnverified?: boolean;
  /** Discard a part file from an earlier attempt. */
  readonly restart?: boolean;
  readonly idleTimeoutMs?: number;
  readonly onProgress?: (id: string, p: DownloadProgress) => void;
}

export type FetchOutcome =
  | { readonly id: string; readonly status: 'present'; readonly file: string; readonly verified: boolean; readonly mine?: { readonly source: string } }
  | { readonly id: string; readonly status: 'fetched'; readonly file: string; readonly sha256: string; readonly recordedSha256: boolean; readonly resumedFrom: number };

/** A fetch that cannot go on; the message says what to do. models/ is as it was. */
export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

export function defaultDownloadsDir(): string {
  return path.join(dataDir(), 'downloads');
}

/** Entries that can be downloaded: those with a file and a URL. */
export function fetchableEntries(models: readonly ManifestEntry[]): ManifestEntry[] {
  return models.filter((m) => m.file !== null && typeof m.url === 'string');
}

/** The entries an id stands for: itself, or a logical model's variants. No id: every fetchable model. */
export function resolveFetchTargets(models: readonly ManifestEntry[], id?: string): ManifestEntry[] {
  const fetchable = fetchableEntries(models);
  if (id === undefined) return fetchable;
  const entry = models.find((m) => m.id === id);
  const list = fetchable.map((m) => m.id).join(', ') || 'none';
  if (!entry) throw new FetchError(`unknown model "${id}"; models that can be fetched: ${list}`);
  if (entry.variants) return entry.variants.map((v) => models.find((m) => m.id === v)!).filter((m) => fetchable.includes(m));
  const preferred = entry.prefer === undefined ? undefined : models.find((m) => m.id === entry.prefer);
  if (preferred && fetchable.includes(preferred)) return [preferred];
  if (!fetchable.includes(entry)) throw new FetchError(`model "${id}" has no download URL (${entry.file === null ? 'it is built in' : 'add its file with "npm run models:add <file>"'}); models that can be fetched: ${list}`);
  return [entry];
}

/** Where a model's download waits between attempts: per id and URL, so a changed URL starts afresh. */
export function partFileFor(entry: ManifestEntry, downloadsDir: string): string {
  const urlKey = createHash('sha256').update(entry.url ?? '').digest('hex').slice(0, 12);
  return path.join(downloadsDir, `${entry.id}-${urlKey}.part`);
}

function handHint(entry: ManifestEntry): string {
  return `download ${entry.url} by hand and run "npm run models:add <file> -- --id ${entry.id}"`;
}

/** Fetches one manifest entry. Throws FetchError with the reason and what to do next. */
export async function fetchModel(entry: ManifestEntry, options: FetchOptions): Promise<FetchOutcome> {
  if (entry.file === null || !entry.url) throw new FetchError(`model "${entry.id}" has no download URL`);
  const dest = path.join(options.modelsDir, entry.file);
  if (await exists(dest)) {
    // The user's own file under the official name (models:add): in use as theirs, not compared with upstream's.
    const mine = fileInfo(entry, options.modelsDir);
    if (mine?.origin === 'user') return { id: entry.id, status: 'present', file: dest, verified: false, mine: { source: mine.source } };
    const sha = await sha256File(dest);
    if (entry.sha256 && sha !== entry.sha256) {
      throw new FetchError(`models/${entry.file} is there but its sha256 (${sha}) is not the manifest's (${entry.sha256}); it was left as it is: move it away and fetch again`);
    }
    return { id: entry.id, status: 'present', file: dest, verified: Boolean(entry.sha256) };
  }
  if (!entry.sha256 && !options.acceptUnverified) {
    throw new FetchError(
      `the manifest has no sha256 for "${entry.id}" yet, so its download (${entry.url}) cannot be verified. ` +
        `Run again with --accept-unverified to download it anyway: CleanPlate then checks its inputs and outputs, ` +
        `opens it with onnxruntime and records its sha256 in models/manifest.json, so later downloads are verified.`,
    );
  }

  const partFile = partFileFor(entry, options.downloadsDir ?? defaultDownloadsDir());
  let result;
  try {
    result = await downloadToPart({
      url: entry.url,
      partFile,
      sha256: entry.sha256,
      ...(options.restart ? { restart: true } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.onProgress ? { onProgress: (p: DownloadProgress) => options.onProgress!(entry.id, p) } : {}),
    });
  } catch (err) {
    if (err instanceof DownloadError) {
      const next = err.code === 'offline' ? `offline? ${handHint(entry)}` : err.code === 'interrupted' ? `or ${handHint(entry)}` : handHint(entry);
      throw new FetchError(`${err.message}; ${next}`);
    }
    throw err;
  }

  try {
    await checkModelFile(entry, partFile, `the download of ${entry.id}`);
  } catch (err) {
    await removePart(partFile);
    throw new FetchError(`${messageOf(err)}; the download was discarded`);
  }

  const placed = await placeModelFile(partFile, options.modelsDir, entry.file, true);
  let recorded = false;
  if (!entry.sha256) {
    try {
      await editManifest(options.modelsDir, (models) => models.map((m) => (m.id === entry.id ? { ...m, sha256: result.sha256 } : m)));
      recorded = true;
    } catch (err) {
      await rm(placed, { force: true });
      throw new FetchError(`could not record the sha256 in models/manifest.json (${messageOf(err)}); nothing was installed`);
    }
  }
  await removePart(partFile);
  // A record of a user's file that used to be there no longer applies.
  if (readLocalFiles(options.modelsDir)[entry.id]) await editLocalFiles(options.modelsDir, ({ [entry.id]: _gone, ...rest }) => rest);
  return { id: entry.id, status: 'fetched', file: placed, sha256: result.sha256, recordedSha256: recorded, resumedFrom: result.resumedFrom };
}

/** Loads the manifest from modelsDir and fetches what `id` stands for (see resolveFetchTargets). */
export async function fetchModels(id: string | undefined, options: FetchOptions): Promise<FetchOutcome[]> {
  const manifest = await loadManifest(options.modelsDir);
  const targets = resolveFetchTargets(manifest.models, id);
  const outcomes: FetchOutcome[] = [];
  for (const entry of targets) outcomes.push(await fetchModel(entry, options));
  return outcomes;
}
