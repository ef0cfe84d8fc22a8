// Removing what a farm job made, and nothing else: the farm folder is created fresh by the engine
// (a temp name that did not exist), and inside it only the names the farm writes are removed
// (segment files and their temp names, PNG segment folders holding only frames, the plate copy,
// concat lists). Anything else is left in place and reported; never a recursive delete, never a
// symlink followed.
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

const PNG_FRAME = /^frame_\d{6,}\.png$/;
const FARM_FILE = /^(plate\.png|concat-(prores4444|matte)\.txt|seg-\d{5}_(prores4444|matte)(?: \(\d+\))?\.mov|\.seg-\d{5}_(prores4444|matte)\.mov\.partial-[0-9a-f]{8})$/;
const FARM_FOLDER = /^(joined-png|seg-\d{5}_png(?: \(\d+\))?|\.seg-\d{5}_png\.partial-[0-9a-f]{8})$/;

/** Removes a folder of PNG frames the engine wrote; returns a message when something else is inside. */
export async function removeFrameFolder(dir: string): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return undefined;
  const frames = entries.filter((e) => e.isFile() && PNG_FRAME.test(e.name));
  await Promise.all(frames.map((e) => unlink(path.join(dir, e.name)).catch(() => undefined)));
  if (frames.length !== entries.length) return `${dir}: holds files the engine did not make`;
  await rmdir(dir).catch(() => undefined);
  return undefined;
}

/** Removes the farm folder's known contents and the folder; returns what it had to leave. */
export async function removeFarmFolder(dir: string): Promise<string[]> {
  const left: string[] = [];
  // A killed worker's ffmpeg may still add a frame or two for a moment after its input closed.
  for (let attempt = 0; attempt < 5; attempt++) {
    left.length = 0;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
    if (!entries) return [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isFile() && FARM_FILE.test(e.name)) await unlink(p).catch(() => undefined);
      else if (e.isDirectory() && FARM_FOLDER.test(e.name)) {
        const why = await removeFrameFolder(p);
        if (why) left.push(why);
      } else left.push(`${p}: not a file the farm makes`);
    }
    if (left.length === 0) {
      try {
        await rmdir(dir);
        return [];
      } catch {
        // Something appeared meanwhile: go round again.
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return left.length ? left : [`${dir}: could not be removed`];
}

/** Removes outputs this job published before a later step failed (files, or PNG folders). */
export async function removePublished(paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const info = await lstat(p).catch(() => undefined);
    if (info?.isFile()) await unlink(p);
    else if (info?.isDirectory()) await removeFrameFolder(p);
  }
}
