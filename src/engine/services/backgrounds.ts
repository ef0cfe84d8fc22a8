// Stored clean plates: each is a lossless PNG `<data>/backgrounds/<id>.png` plus a small JSON
// record `<id>.json`, both written atomically. The store takes decoded frames, so any source
// (an upload today, a frame from a media file later) goes through the same path.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BackgroundRecordSchema, checkWire, type BackgroundRecord, type BackgroundSource } from '../../shared/api.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Frame } from '../frame.js';
import { decodeImage, encodePng } from '../media/image.js';

/** 12 random bytes as hex: unguessable enough, and safe as a file name. */
const ID_PATTERN = /^[0-9a-f]{24}$/;

export class UnknownBackgroundError extends Error {
  constructor(readonly id: string) {
    super(`no background with id "${id}"`);
    this.name = 'UnknownBackgroundError';
  }
}

/** Decoded plates kept in memory: the same plate is used for many mattes in a row. */
const CACHE_SIZE = 4;

export class BackgroundStore {
  readonly dir: string;
  private readonly cache = new Map<string, Frame>();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'backgrounds');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  static isValidId(id: string): boolean {
    return ID_PATTERN.test(id);
  }

  private file(id: string, ext: 'png' | 'json'): string {
    if (!ID_PATTERN.test(id)) throw new UnknownBackgroundError(id);
    return path.join(this.dir, `${id}.${ext}`);
  }

  /** Stores a decoded frame (RGB or RGBA; stored as-is, losslessly). */
  async add(frame: Frame, source: BackgroundSource): Promise<BackgroundRecord> {
    const id = randomBytes(12).toString('hex');
    const record: BackgroundRecord = { id, width: frame.width, height: frame.height, createdAt: new Date().toISOString(), source };
    // Image first: a record only ever points at a complete image.
    await writeFileAtomic(this.file(id, 'png'), await encodePng(frame));
    await writeFileAtomic(this.file(id, 'json'), JSON.stringify(record, null, 2) + '\n');
    this.remember(id, frame);
    return record;
  }

  async get(id: string): Promise<BackgroundRecord> {
    if (!ID_PATTERN.test(id)) throw new UnknownBackgroundError(id);
    try {
      const text = await readFile(this.file(id, 'json'), 'utf8');
      // A record is input like any other (a crash, a full disk, a hand edit): checked, never trusted.
      const checked = checkWire(BackgroundRecordSchema, JSON.parse(text));
      if (!checked.ok || checked.value.id !== id) throw new Error(`background record ${id}.json is not one the engine wrote${checked.ok ? '' : ` (${checked.error.message})`}`);
      return checked.value;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UnknownBackgroundError(id);
      throw err;
    }
  }

  /** Every stored plate, oldest first; records that cannot be read are skipped. */
  async list(): Promise<BackgroundRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(names.filter((n) => n.endsWith('.json') && ID_PATTERN.test(n.slice(0, -5))).map((n) => this.get(n.slice(0, -5)).catch(() => undefined)));
    return records.filter((r): r is BackgroundRecord => r !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** The stored PNG bytes (for thumbnails). */
  async png(id: string): Promise<Buffer> {
    await this.get(id);
    return readFile(this.file(id, 'png'));
  }

  /** The plate as a decoded RGB frame, for matting. */
  async frame(id: string): Promise<Frame> {
    const cached = this.cache.get(id);
    if (cached) {
      this.remember(id, cached);
      return cached;
    }
    const frame = await decodeImage(await this.png(id), `background ${id}`);
    this.remember(id, frame);
    return frame;
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    this.cache.delete(id);
    // Record first: a plate without a record is invisible, a record without a plate would be broken.
    await rm(this.file(id, 'json'), { force: true });
    await rm(this.file(id, 'png'), { force: true });
  }

  private remember(id: string, frame: Frame): void {
    this.cache.delete(id);
    this.cache.set(id, frame);
    while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }
}
