// Temporary models folders for the bgmv2 tests: the repository's manifest (its real bgmv2
// entries and settings) plus contract fixtures saved under the official entries' file names.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultModelsDir, type ManifestEntry } from '../../src/engine/matting/manifest.js';
import { buildBgmv2Fixture, type FixtureOptions } from './bgmv2-fixture.js';

export const HD_ID = 'bgmv2-mobilenetv2-hd';
export const K4_ID = 'bgmv2-mobilenetv2-4k';

export async function repoManifest(): Promise<{ models: ManifestEntry[] }> {
  return JSON.parse(await readFile(path.join(defaultModelsDir, 'manifest.json'), 'utf8')) as { models: ManifestEntry[] };
}

/** A fixture built with the refine budget the manifest entry records for that preset. */
export async function fixtureFor(id: string, options: FixtureOptions = {}): Promise<Uint8Array> {
  const entry = (await repoManifest()).models.find((m) => m.id === id);
  if (!entry) throw new Error(`no ${id} in models/manifest.json`);
  return buildBgmv2Fixture({ refineSamplePixels: entry.settings.refineSamplePixels as number, ...options });
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A temp models folder: the repository manifest, optionally edited, and the given files
 * (entry id -> bytes, saved under the entry's file name).
 */
const made: string[] = [];

/** A temp folder removed by removeTempDirs (call it in afterAll). */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export async function makeModelsDir(files: Record<string, Uint8Array> = {}, edit: (models: ManifestEntry[]) => ManifestEntry[] = (m) => m): Promise<string> {
  const dir = await tempDir('cleanplate-models-');
  const manifest = await repoManifest();
  const models = edit(manifest.models);
  await writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify({ ...manifest, models }, null, 2)}\n`);
  for (const [id, bytes] of Object.entries(files)) {
    const entry = models.find((m) => m.id === id);
    if (!entry?.file) throw new Error(`no file entry ${id}`);
    await writeFile(path.join(dir, entry.file), bytes);
  }
  return dir;
}

/** Every file in a folder (hidden ones too) with its sha256: to prove a failure changed nothing. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = sha256(await readFile(path.join(dir, name)));
  return out;
}
