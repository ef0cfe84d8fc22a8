// What "the same model" means across machines: the sha256 of the model's file (of its variants'
// files for a logical model), or for a model the engine builds itself (plate) a hash of the
// engine version and the model's manifest settings; the queue key adds kind, settings and the
// engine version (the graph code around the file). Farm segments go only to workers whose key
// matches the job's.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ENGINE_VERSION } from '../config.js';
import type { ManifestEntry } from '../matting/manifest.js';
import type { ModelRegistry } from '../matting/registry.js';

const fileHashes = new Map<string, { key: string; sha: Promise<string> }>();

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Cached per path, size and mtime: a rebuilt file is hashed again. */
async function fileSha(file: string): Promise<string> {
  const st = await stat(file);
  const key = `${st.size}:${st.mtimeMs}`;
  const cached = fileHashes.get(file);
  if (cached?.key === key) return cached.sha;
  const sha = hashFile(file);
  fileHashes.set(file, { key, sha });
  sha.catch(() => fileHashes.delete(file));
  return sha;
}

const available = (registry: ModelRegistry, id: string): boolean => registry.list().find((m) => m.id === id)?.available === true;

async function entrySha(registry: ModelRegistry, entry: ManifestEntry): Promise<string> {
  // An entry that prefers another (rvm -> the authors' export) runs that one's file when present.
  const preferred = entry.prefer !== undefined ? registry.entry(entry.prefer) : undefined;
  if (preferred && available(registry, preferred.id)) return entrySha(registry, preferred);
  if (entry.file !== null) return fileSha(path.join(registry.modelsDir, entry.file));
  const h = createHash('sha256');
  if (entry.variants && entry.variants.length > 0) {
    for (const id of entry.variants) {
      const v = registry.entry(id);
      h.update(`${id}=${v && available(registry, id) ? await entrySha(registry, v) : 'absent'}\n`);
    }
  } else {
    h.update(`built-in ${entry.kind} ${entry.id} engine ${ENGINE_VERSION} settings ${JSON.stringify(entry.settings)}`);
  }
  return h.digest('hex');
}

export interface ModelIdentity {
  readonly id: string;
  /** The model file's sha256 (what the job records). */
  readonly sha256: string;
  /** sha256 + kind + manifest settings + engine version: segments of one key render identically. */
  readonly key: string;
}

export async function modelIdentity(registry: ModelRegistry, modelId: string): Promise<ModelIdentity> {
  const entry = registry.entry(modelId);
  if (!entry) throw new Error(`unknown model "${modelId}"`);
  const sha256 = await entrySha(registry, entry);
  const key = createHash('sha256')
    .update(`${sha256} ${entry.kind} ${JSON.stringify(entry.settings)} engine ${ENGINE_VERSION}`)
    .digest('hex')
    .slice(0, 16);
  return { id: modelId, sha256, key };
}

/** Models that carry state from frame to frame: farm segments warm them up before their start. */
export function isRecurrent(registry: ModelRegistry, modelId: string): boolean {
  const kind = registry.entry(modelId)?.kind;
  return kind === 'rvm' || kind === 'fused';
}
