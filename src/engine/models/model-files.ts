// Putting model files into models/ and recording them in models/manifest.json. Every step that
// can fail runs before anything in models/ changes; the file lands under its final name in one
// step (hard link, which refuses an existing name) and the manifest is replaced atomically.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, lstat, readFile, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { bgmv2Settings } from '../matting/bgmv2/presets.js';
import { loadBgmv2Model } from '../matting/bgmv2/session.js';
import { checkRvmBytes } from '../matting/rvm/session.js';
import { LOCAL_FILES, readLocalFiles, type LocalFiles } from '../matting/local-files.js';
import { parseManifest, type ManifestEntry } from '../matting/manifest.js';
import { providerOrder } from '../matting/providers.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Proves a file is a model of the entry's kind that this engine can run: the contract check and
 * an onnxruntime session on CPU (the provider does not matter for the check). Throws with a
 * sentence naming what is wrong.
 */
export async function checkModelFile(entry: ManifestEntry, file: string, label: string): Promise<void> {
  if (entry.kind === 'rvm') return checkRvmBytes(await readFile(file), label);
  if (entry.kind !== 'bgmv2') throw new Error(`${label}: models of kind "${entry.kind}" are not installed from files`);
  const cpu = providerOrder({ CLEANPLATE_PROVIDERS: 'cpu' });
  const loaded = await loadBgmv2Model(file, label, bgmv2Settings(entry), cpu);
  await loaded.session.release();
}

/**
 * Copies `source` into models/ under `fileName`; refuses to replace a file that is there. The
 * copy goes to a hidden temp name first, so models/ never shows a half-copied model.
 */
export async function placeModelFile(source: string, modelsDir: string, fileName: string, move = false): Promise<string> {
  const dest = path.join(modelsDir, fileName);
  const temp = path.join(modelsDir, `.tmp-${process.pid}-${fileName}`);
  try {
    if (move) {
      try {
        await rename(source, temp);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        await copyFile(source, temp);
      }
    } else {
      await copyFile(source, temp);
    }
    try {
      await link(temp, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`models/${fileName} already exists; it was left as it is`, { cause: err });
      // File systems without hard links: check, then rename.
      if (await exists(dest)) throw new Error(`models/${fileName} already exists; it was left as it is`, { cause: err });
      await rename(temp, dest);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return dest;
}

/**
 * Rewrites models/manifest.json with `change` applied to its parsed JSON, checked by the same
 * parser the engine uses, in one atomic replace. Formatting: 2-space JSON, as the file is kept.
 */
export async function editManifest(modelsDir: string, change: (models: ManifestEntry[]) => ManifestEntry[]): Promise<void> {
  const file = path.join(modelsDir, 'manifest.json');
  const raw = JSON.parse(await readFile(file, 'utf8')) as { models: ManifestEntry[] } & Record<string, unknown>;
  const next = { ...raw, models: change(raw.models) };
  const text = `${JSON.stringify(next, null, 2)}\n`;
  parseManifest(text, file);
  await writeFileAtomic(file, text);
}

/** Rewrites models/local-files.json (the user's own files under official names) in one atomic replace. */
export async function editLocalFiles(modelsDir: string, change: (files: LocalFiles) => LocalFiles): Promise<void> {
  const text = `${JSON.stringify({ files: change(readLocalFiles(modelsDir)) }, null, 2)}\n`;
  await writeFileAtomic(path.join(modelsDir, LOCAL_FILES), text);
}

/** Removes a file placed by placeModelFile when a later step fails. */
export async function removePlaced(file: string): Promise<void> {
  await rm(file, { force: true });
}
