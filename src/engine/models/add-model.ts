// `npm run models:add <file.onnx>`: register a model file the user downloaded by hand. The file
// is checked (contract, onnxruntime) before anything changes and copied into models/ under the
// entry's file name. Only a file whose sha256 the manifest already records for an official entry
// counts as upstream's; any other file for an official entry is recorded as the user's in
// models/local-files.json, so the manifest's sha256 and URL stay upstream's (a later fetch of
// the real file is not refused as a mismatch). The user's own entries (new ids) live in the
// manifest with their sha256.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { readLocalFiles } from '../matting/local-files.js';
import { loadManifest, type ManifestEntry } from '../matting/manifest.js';
import { checkModelFile, editLocalFiles, editManifest, exists, placeModelFile, removePlaced, sha256File } from './model-files.js';
import { messageOf } from '../../shared/error-message.js';

export interface AddOptions {
  readonly modelsDir: string;
  /** The manifest entry the file is for; guessed from sha256 or file name when absent. */
  readonly id?: string;
  /** For a new id: the preset ("hd", "4k") whose settings the export was made with. */
  readonly preset?: string;
}

export interface AddOutcome {
  readonly id: string;
  readonly file: string;
  readonly sha256: string;
  readonly status: 'added' | 'already-present';
  readonly newEntry: boolean;
  /** official: the manifest's recorded upstream file; user: the user's own (local record or own entry). */
  readonly origin: 'official' | 'user';
}

export class AddError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddError';
  }
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Which entry a file is for: --id, else the entry whose sha256 or official file name matches. */
function findEntry(models: readonly ManifestEntry[], file: string, sha: string, id?: string): ManifestEntry | undefined {
  if (id !== undefined) return models.find((m) => m.id === id);
  const base = path.basename(file);
  return (
    models.find((m) => m.sha256 === sha) ??
    models.find((m) => m.file !== null && (m.file === base || (m.url !== undefined && path.basename(new URL(m.url).pathname) === base)))
  );
}

function newEntry(models: readonly ManifestEntry[], id: string, preset: string | undefined, source: string, sha: string): ManifestEntry {
  if (!ID_PATTERN.test(id)) throw new AddError(`"${id}" is not a valid model id (lower-case letters, digits, ".", "_", "-")`);
  const like = models.find((m) => m.kind === 'bgmv2' && m.file !== null && m.settings.preset === preset);
  if (!like) {
    const presets = [...new Set(models.filter((m) => m.kind === 'bgmv2' && m.file !== null).map((m) => String(m.settings.preset)))];
    throw new AddError(`"${id}" is a new model id: say which preset's settings it was exported with, --preset ${presets.join('|')}`);
  }
  return {
    id,
    kind: 'bgmv2',
    file: `${id}.onnx`,
    sha256: sha,
    licence: 'as its source says (added by hand)',
    source: `added by hand from ${path.basename(source)}`,
    description: `BackgroundMattingV2 ONNX export added by hand, ${preset} settings.`,
    settings: { ...like.settings },
  };
}

export async function addModel(file: string, options: AddOptions): Promise<AddOutcome> {
  const source = path.resolve(file);
  if (!(await exists(source))) throw new AddError(`${file}: no such file`);
  const { modelsDir } = options;
  const manifest = await loadManifest(modelsDir);
  const sha = await sha256File(source);
  const known = findEntry(manifest.models, source, sha, options.id);
  if (!known && options.id === undefined) {
    const ids = manifest.models.filter((m) => m.file !== null).map((m) => m.id).join(', ');
    throw new AddError(`cannot tell which model ${path.basename(source)} is (no sha256 or file name matches): pass --id <id> (known: ${ids})`);
  }
  if (known && known.file === null) throw new AddError(`model "${known.id}" has no file of its own${known.variants ? `; add one of its variants: ${known.variants.join(', ')}` : ''}`);
  if (known?.sha256 && known.sha256 !== sha) {
    throw new AddError(`${path.basename(source)} has sha256 ${sha}, but "${known.id}" is ${known.sha256}: this is not the file the manifest lists; nothing was changed`);
  }
  const entry = known ?? newEntry(manifest.models, options.id!, options.preset, source, sha);
  const fileName = entry.file!;

  try {
    await checkModelFile(entry, source, path.basename(source));
  } catch (err) {
    throw new AddError(`${messageOf(err)}; nothing was changed`);
  }

  // Upstream's file only when the manifest already records this sha256 for the entry.
  const official = known?.sha256 === sha;
  const local = known !== undefined && !official && known.url !== undefined;
  const dest = path.join(modelsDir, fileName);
  if (await exists(dest)) {
    const there = await sha256File(dest);
    if (there !== sha) throw new AddError(`models/${fileName} already exists with other content (sha256 ${there}); it was left as it is: move it away first`);
    if (official) return { id: entry.id, file: dest, sha256: sha, status: 'already-present', newEntry: false, origin: 'official' };
  }

  const recorded = readLocalFiles(modelsDir)[entry.id];
  if (local && recorded?.sha256 === sha && (await exists(dest))) return { id: entry.id, file: dest, sha256: sha, status: 'already-present', newEntry: false, origin: 'user' };

  const placed = (await exists(dest)) ? undefined : await placeModelFile(source, modelsDir, fileName);
  try {
    if (local) {
      const size = (await stat(dest)).size;
      const record = { file: fileName, sha256: sha, size, source: `added by hand from ${path.basename(source)}`, addedAt: new Date().toISOString() };
      await editLocalFiles(modelsDir, (files) => ({ ...files, [entry.id]: record }));
    } else if (!official) {
      await editManifest(modelsDir, (models) =>
        known ? models.map((m) => (m.id === entry.id ? { ...m, sha256: sha } : m)) : [...models.filter((m) => m.id !== entry.id), entry],
      );
    }
  } catch (err) {
    if (placed) await removePlaced(placed);
    throw new AddError(`could not update models/${local ? 'local-files.json' : 'manifest.json'} (${messageOf(err)}); nothing was changed`);
  }
  return { id: entry.id, file: dest, sha256: sha, status: placed ? 'added' : 'already-present', newEntry: !known, origin: official ? 'official' : 'user' };
}
