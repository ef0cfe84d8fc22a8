// What a restart acts on in a job record (temp paths to remove, the encoder to stop) is sealed
// with an HMAC under a key kept in the engine's own data folder (0600), written with the record.
// A record whose seal does not hold (forged, hand-edited, copied from another machine, written
// by an engine before seals) gets no cleanup at all: a well-formed forgery naming a user file
// with a temp-like name in its folder can no longer make the engine remove it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import type { EncoderRecord } from '../media/leftovers.js';

const KEY_FILE = 'cleanup-key';
const KEY_BYTES = 32;

export interface CleanupFields {
  readonly id: string;
  readonly tempPaths?: readonly string[];
  readonly encoder?: EncoderRecord;
  /** hex HMAC-SHA256 of the fields above under the engine's cleanup key. */
  readonly cleanupSeal?: string;
}

/** The engine's cleanup key (`<jobsDir>/cleanup-key`), created at first use. */
export async function loadCleanupKey(jobsDir: string): Promise<Buffer> {
  const file = path.join(jobsDir, KEY_FILE);
  const text = await readFile(file, 'utf8').catch(() => '');
  const key = Buffer.from(text.trim(), 'hex');
  if (key.length === KEY_BYTES) return key;
  // Absent or unreadable: a new key. Records sealed under a lost key only lose their cleanup.
  const fresh = randomBytes(KEY_BYTES);
  await writeFileAtomic(file, fresh.toString('hex') + '\n', { mode: 0o600 });
  return fresh;
}

export function cleanupSeal(key: Buffer, fields: CleanupFields): string {
  const e = fields.encoder;
  return createHmac('sha256', key)
    .update(JSON.stringify([fields.id, fields.tempPaths ?? [], e ? [e.pid, e.executable] : null]))
    .digest('hex');
}

/** True when the record's cleanup fields carry this engine's seal. */
export function sealHolds(key: Buffer, fields: CleanupFields): boolean {
  const seal = fields.cleanupSeal;
  if (typeof seal !== 'string' || !/^[0-9a-f]{64}$/.test(seal)) return false;
  return timingSafeEqual(Buffer.from(seal, 'hex'), Buffer.from(cleanupSeal(key, fields), 'hex'));
}
