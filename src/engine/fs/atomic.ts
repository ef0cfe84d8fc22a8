// File writes that never leave a half-written file under the final name: write a temp file in
// the same directory, flush it, then rename it over the final name. (Outputs that must never
// replace a user's file go through media/output-files.ts publishNoClobber instead.)
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file, e.g. 0o600 for secrets. */
  readonly mode?: number;
}

function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes data to a temp file next to `file`, flushed to disk; the caller moves it into place. */
async function writeTemp(file: string, data: Uint8Array | string, options: AtomicWriteOptions): Promise<string> {
  const temp = tempPathFor(file);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  return temp;
}

/** Replaces `file` (or creates it) atomically: readers see the old or the new content, never a mix. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = await writeTemp(file, data, options);
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
