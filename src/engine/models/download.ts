// Resumable HTTP(S) download into a `.part` file with streaming sha256. The part file lives
// outside models/ (in the data dir), so an interrupted download never leaves anything half-done
// in models/, and the next attempt asks the server for the rest with a Range request.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';

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
  const message = err instanceof Error ? err.message : String(err);
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

/**
 * Downloads `url` into `partFile`, resuming from what the part file holds. On success the part
 * file holds the whole file and its sha256 matched (when one was given); the caller moves it.
 * On an interruption the part file keeps what arrived, for the next attempt.
 */
export async function downloadToPart(options: DownloadOptions): Promise<DownloadResult> {
  const { url, partFile, idleTimeoutMs = 30_000 } = options;
  await mkdir(path.dirname(partFile), { recursive: true });
  if (options.restart) await rm(partFile, { force: true });

  for (let attempt = 0; ; attempt++) {
    const existing = await sizeOf(partFile);
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
    };
    arm();
    let response: Response;
    try {
      response = await fetch(url, { headers: existing > 0 ? { range: `bytes=${existing}-` } : {}, signal: controller.signal, redirect: 'follow' });
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
    if (existing > 0 && (response.status === 416 || (response.status === 206 && range?.start !== existing))) {
      // The server cannot continue this part file (the file changed, or the part is longer than
      // it): start again from zero, once.
      clearTimeout(idle);
      await response.body?.cancel().catch(() => undefined);
      if (attempt > 0) throw new DownloadError('http', `${url}: the server cannot resume this download (status ${response.status})`);
      await rm(partFile, { force: true });
      continue;
    }
    if (response.status === 206 && existing > 0 && range) {
      start = existing;
      total = range.total;
    } else if (response.status === 200) {
      // Also the answer of a server that ignores Range: the body is the whole file again.
      const length = Number(response.headers.get('content-length'));
      total = Number.isFinite(length) && length > 0 ? length : null;
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
      await rm(partFile, { force: true });
      throw new DownloadError('checksum', `${url}: sha256 of the download is ${sha256}, the manifest expects ${options.sha256}; the download was discarded`);
    }
    return { bytes: received, sha256, resumedFrom: start };
  }
}
