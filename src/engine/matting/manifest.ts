// models/manifest.json: which models exist, where their files are, and how to check them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_KINDS, type ModelKind } from '../../shared/api.js';
import { kindNetwork } from './kinds.js';

export interface ManifestEntry {
  readonly id: string;
  readonly kind: ModelKind;
  /** The default model for requests that name none. */
  readonly default?: boolean;
  /** File name inside the models folder; null for models the project builds itself. */
  readonly file: string | null;
  readonly sha256: string | null;
  readonly licence: string;
  readonly source: string;
  readonly url?: string;
  readonly description?: string;
  readonly settings: Record<string, unknown>;
  /** A logical model (file null) that runs one of these entries of its kind, picked per frame (e.g. bgmv2 -> hd/4k). */
  readonly variants?: readonly string[];
  /**
   * Another entry whose file this one runs whenever that file is present: an entry of the same kind
   * is run instead (rvm -> the authors' export); a kind that runs another kind's network runs the
   * preferred entry's file with its own settings (fused's learned part -> the authors' RVM export).
   */
  readonly prefer?: string;
}

export interface Manifest {
  readonly models: ManifestEntry[];
}

/** The repository's models folder (two levels above src/engine/matting or dist/engine/matting). */
export const defaultModelsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models');

export function parseManifest(text: string, where = 'manifest.json'): Manifest {
  const raw: unknown = JSON.parse(text);
  const models = (raw as { models?: unknown }).models;
  if (!Array.isArray(models)) throw new Error(`${where}: "models" must be an array`);
  const seen = new Set<string>();
  for (const m of models as Partial<ManifestEntry>[]) {
    if (typeof m.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(m.id)) throw new Error(`${where}: bad model id ${JSON.stringify(m.id)}`);
    if (seen.has(m.id)) throw new Error(`${where}: duplicate model id ${m.id}`);
    seen.add(m.id);
    if (!MODEL_KINDS.includes(m.kind as ModelKind)) throw new Error(`${where}: model ${m.id} has unknown kind ${JSON.stringify(m.kind)}`);
    if (m.file !== null && typeof m.file !== 'string') throw new Error(`${where}: model ${m.id} needs "file" (string or null)`);
  }
  for (const m of models as ManifestEntry[]) {
    for (const v of m.variants ?? []) {
      const target = (models as ManifestEntry[]).find((e) => e.id === v);
      if (!target || target.kind !== m.kind || target.file === null) throw new Error(`${where}: model ${m.id} lists variant ${JSON.stringify(v)}, which is not a ${m.kind} model with a file`);
    }
    if (m.prefer !== undefined) {
      const target = (models as ManifestEntry[]).find((e) => e.id === m.prefer);
      const network = kindNetwork(m.kind);
      if (!target || network === null || kindNetwork(target.kind) !== network || target.file === null || target.prefer !== undefined)
        throw new Error(`${where}: model ${m.id} prefers ${JSON.stringify(m.prefer)}, which is not a model with a ${network ?? m.kind} file of its own`);
    }
  }
  return raw as Manifest;
}

export async function loadManifest(modelsDir = defaultModelsDir): Promise<Manifest> {
  const file = path.join(modelsDir, 'manifest.json');
  return parseManifest(await readFile(file, 'utf8'), file);
}
