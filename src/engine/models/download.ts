// Resumable HTTP(S) download into a `.part` file with streaming sha256. The part file lives
// outside models/ (in the data dir), so an interrupted download never leaves anything half-done
// in models/, and the next attempt asks the server for the rest with a Range request. A resume
// carries `If-Range` with the validator the first response gave (strong ETag, else
// Last-Modified, kept in `<part>.validator`): a file that changed on the server comes back whole
// (200) instead of being spliced from two versions. A part without a validator is not resumed.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../../shared/error-message.js';

export type DownloadErrorCode = 'offline' | 'interrupted' | 'http' | 'checksum';

export class DownloadError extends Error {
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadProgress {
  /** Bytes in the part file so far (including bytes from an earlier attempt). */
  readonly received: number;
  /** Size of the whole file when the server said; null when unknown. */
  readonly total: number | null;
  /** Bytes that came from an earlier attempt. */
  readonly resumedFrom: number;
}

export interface DownloadOptions {
  readonly url: string;
  readonly partFile: string;
  /** Lower-case hex; the part file is deleted when the finished download does not match. */
  readonly sha256?: string | null;
  /** Start from zero even when a part file exists. */
  readonly restart?: boolean;
  /** Give up when no byte arrives for this long (default 30 s). */
  readonly idleTimeoutMs?: number;
  readonly onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly resumedFrom: number;
}

/** Network failures that mean "cannot reach the server" rather than "the server said no". */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = messageOf(err);
  return code && !message.includes(code) ? `${message}, ${code}` : message;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function hashExisting(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

/** "bytes 100-999/1000" -> {start: 100, total: 1000}. */
function parseContentRange(value: string | null): { start: number; total: number | null } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** What proves a later response is the same version of the file: its If-Range value. */
interface Validator {
  readonly url: string;
  readonly ifRange: string;
}

const validatorFile = (partFile: string): string => `${partFile}.validator`;

/** A strong ETag (weak ones cannot be used with If-Range), else Last-Modified; undefined when neither. */
function validatorOf(response: Response): string | undefined {
  const etag = response.headers.get('etag')?.trim();
  if (etag && !etag.startsWith('W/')) return etag;
  return response.headers.get('last-modified')?.trim() || undefined;
}

/** The If-Range value stored for this part file, when it was downloaded from the same URL. */
async function storedValidator(partFile: string, url: string): Promise<string | undefined> {
  try {
    const v = JSON.parse(await readFile(validatorFile(partFile), 'utf8')) as Partial<Validator>;
    return v.url === url && typeof v.ifRange === 'string' && v.ifRange !== '' ? v.ifRange : undefined;
  } catch {
    return undefined;
  }
}

async function storeValidator(partFile: string, url: string, ifRange: string | undefined): Promise<void> {
  if (ifRange === undefined) await rm(validatorFile(partFile), { force: true });
  else await writeFile(validatorFile(partFile), JSON.stringify({ url, ifRange } satisfies Validator) + '\n');
}

/** Removes a part file and its validator (after it was installed, or to start again). */
export async function removePart(partFile: string): Promise<void> {
  await rm(partFile, { force: true });
  await rm(validatorFile(partFile), { force: true });
}

/**
 * Downloads `url` into `partFile`, resuming from what the part file holds. On success the part
 * file holds the whole file and its sha256 matched (when one was given); the caller moves it.
 * On an interruption the part file keeps what arrived, for the next attempt.
 */
export async function downloadToPart(options: DownloadOptions): Promise<DownloadResult> {
  const { url, partFile, idleTimeoutMs = 30_000 } = options;
  await mkdir(path.dirname(partFile), { recursive: true });
  if (options.restart) await removePart(partFile);

  for (let attempt = 0; ; attempt++) {
    let existing = await sizeOf(partFile);
    const ifRange = existing > 0 ? await storedValidator(partFile, url) : undefined;
    if (existing > 0 && ifRange === undefined) {
      // Nothing proves the part is the file the server has now: start again, unless the part is
      // already the whole expected file (its sha256 proves it).
      if (options.sha256) {
        const hash = createHash('sha256');
        await hashExisting(partFile, hash);
        const sha256 = hash.digest('hex');
        if (sha256 === options.sha256.toLowerCase()) {
          options.onProgress?.({ received: existing, total: existing, resumedFrom: existing });
          return { bytes: existing, sha256, resumedFrom: existing };
        }
      }
      await removePart(partFile);
      existing = 0;
    }
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
    };
    arm();
    let response: Response;
    try {
      const headers: Record<string, string> = existing > 0 && ifRange ? { range: `bytes=${existing}-`, 'if-range': ifRange } : {};
      response = await fetch(url, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      clearTimeout(idle);
      const code = errorCode(err);
      const host = new URL(url).host;
      if (code && UNREACHABLE.has(code)) throw new DownloadError('offline', `cannot reach ${host} (${code})`);
      if (controller.signal.aborted) throw new DownloadError('offline', `no answer from ${host} within ${idleTimeoutMs / 1000} s`);
      throw new DownloadError('offline', `cannot download from ${host} (${describe(err)})`);
    }

    let start = 0;
    let total: number | null;
    const range = response.status === 206 ? parseContentRange(response.headers.get('content-range')) : undefined;
    if (existing > 0 && response.status === 416 && options.sha256) {
      // Nothing left to send: the part may be whole already (a run stopped after downloading).
      const hash = createHash('sha256');
      await hashExisting(partFile, hash);
      const sha256 = hash.digest('hex');
      if (sha256 === options.sha256.toLowerCase()) {
        clearTimeout(idle);
        await response.body?.cancel().catch(() => undefined);
        options.onProgress?.({ received: existing, total: existing, resumedFrom: existing });
        return { bytes: existing, sha256, resumedFrom: existing };
      }
    }
    // A 206 must be the same version (a server that ignores If-Range may send another one's bytes).
    const sameVersion = response.status !== 206 || validatorOf(response) === undefined || validatorOf(response) === ifRange;
    if (existing > 0 && (response.status === 416 || (response.status === 206 && (range?.start !== existing || !sameVersion)))) {
      // The server cannot continue this part file (the file changed, or the part is longer than
      // it): start again from zero, once.
      clearTimeout(idle);
      await response.body?.cancel().catch(() => undefined);
      if (attempt > 0) throw new DownloadError('http', `${url}: the server cannot resume this download (status ${response.status})`);
      await removePart(partFile);
      continue;
    }
    if (response.status === 206 && existing > 0 && range) {
      start = existing;
      total = range.total;
    } else if (response.status === 200) {
      // Also the answer of a server that ignores Range, or to If-Range when the file changed:
      // the body is the whole (current) file.
      const length = Number(response.headers.get('content-length'));
      total = Number.isFinite(length) && length > 0 ? length : null;
      await storeValidator(partFile, url, validatorOf(response));
    } else {
      clearTimeout(idle);
      await response.body?.cancel().catch(() => undefined);
      throw new DownloadError('http', `${url}: the server answered ${response.status} ${response.statusText}`.trim());
    }

    const hash = createHash('sha256');
    if (start > 0) await hashExisting(partFile, hash);
    const file = await open(partFile, start > 0 ? 'a' : 'w');
    let received = start;
    try {
      options.onProgress?.({ received, total, resumedFrom: start });
      if (!response.body) throw new Error('empty response');
      for await (const chunk of response.body) {
        arm();
        await file.write(chunk);
        hash.update(chunk);
        received += chunk.byteLength;
        options.onProgress?.({ received, total, resumedFrom: start });
      }
      if (total !== null && received !== total) throw new Error(`the connection closed at ${received} of ${total} bytes`);
      await file.sync();
    } catch (err) {
      const why = controller.signal.aborted ? describe(controller.signal.reason) : describe(err);
      throw new DownloadError(
        'interrupted',
        `download of ${url} stopped after ${MB(received)}${total !== null ? ` of ${MB(total)}` : ''} (${why}); run the same command again to resume`,
      );
    } finally {
      clearTimeout(idle);
      await file.close();
    }

    const sha256 = hash.digest('hex');
    if (options.sha256 && sha256 !== options.sha256.toLowerCase()) {
      await removePart(partFile);
      throw new DownloadError('checksum', `${url}: sha256 of the download is ${sha256}, the manifest expects ${options.sha256}; the download was discarded`);
    }
    return { bytes: received, sha256, resumedFrom: start };
  }
}
