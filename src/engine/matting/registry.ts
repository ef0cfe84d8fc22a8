// The models the engine can run: the manifest plus, per kind, the code that opens a session.
import type { ModelInfo as WireModelInfo } from '../../shared/api.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MattingInputError } from './errors.js';
import { kindNeedsPlate } from './kinds.js';
import { fileInfo, readLocalFiles } from './local-files.js';
import { defaultModelsDir, loadManifest, type ManifestEntry } from './manifest.js';
import { openBgmv2Session } from './bgmv2/session.js';
import { openPlateSession } from './plate/session.js';
import { openRvmSession } from './rvm/session.js';
import type { MattingSession, ModelKind } from './types.js';

export interface ModelContext {
  readonly modelsDir: string;
  /** For a logical model: its variants whose files are present. */
  readonly variants?: readonly ManifestEntry[];
}

export type SessionOpener = (entry: ManifestEntry, ctx: ModelContext) => Promise<MattingSession>;

const openers: Partial<Record<ModelKind, SessionOpener>> = {
  plate: openPlateSession,
  bgmv2: openBgmv2Session,
  rvm: openRvmSession,
};

/** What the registry knows of a model: the wire description (less the provider, which only an
 * open session knows) plus the manifest's settings. */
export interface ModelInfo extends Omit<WireModelInfo, 'provider'> {
  readonly settings: Record<string, unknown>;
}

export class ModelRegistry {
  private constructor(
    private readonly entries: ManifestEntry[],
    readonly modelsDir: string,
  ) {}

  static async load(modelsDir = defaultModelsDir): Promise<ModelRegistry> {
    const manifest = await loadManifest(modelsDir);
    return new ModelRegistry(manifest.models, modelsDir);
  }

  get defaultId(): string {
    const entry = this.entries.find((e) => e.default) ?? this.entries[0];
    if (!entry) throw new Error('models/manifest.json lists no models');
    return entry.id;
  }

  list(): ModelInfo[] {
    const local = readLocalFiles(this.modelsDir);
    return this.entries.map((e) => {
      const reason = this.unavailableReason(e);
      const file = fileInfo(e, this.modelsDir, local);
      return {
        id: e.id,
        kind: e.kind,
        default: e.id === this.defaultId,
        available: reason === undefined,
        ...(reason ? { unavailableReason: reason } : {}),
        needsPlate: kindNeedsPlate(e.kind),
        licence: e.licence,
        source: e.source,
        ...(e.description ? { description: e.description } : {}),
        ...(file ? { file } : {}),
        settings: e.settings,
      };
    });
  }

  entry(id: string): ManifestEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  private unavailableReason(e: ManifestEntry): string | undefined {
    if (!openers[e.kind]) return `model kind "${e.kind}" is not supported by this engine`;
    if (e.variants && this.presentVariants(e).length === 0) {
      return `none of its variants (${e.variants.join(', ')}) is present: run "npm run models:fetch ${e.id}" or "npm run models:add <file>"`;
    }
    if (e.file !== null && !existsSync(path.join(this.modelsDir, e.file))) {
      // rvm is converted on the user's machine (GPL-3.0 weights are never shipped or downloaded as ONNX).
      if (e.kind === 'rvm') return `model file models/${e.file} is missing: run "npm run models:rvm" (converts RVM's weights on this machine)`;
      return `model file models/${e.file} is missing: run "npm run models:fetch ${e.id}" or "npm run models:add <file>"`;
    }
    return undefined;
  }

  private presentVariants(e: ManifestEntry): ManifestEntry[] {
    return (e.variants ?? []).flatMap((id) => {
      const v = this.entry(id);
      return v && this.unavailableReason(v) === undefined ? [v] : [];
    });
  }

  /** Opens a session on the named model (or the default). Unknown/unavailable ids are input errors. */
  async open(id: string = this.defaultId): Promise<MattingSession> {
    const entry = this.entry(id);
    if (!entry) throw new MattingInputError('unknown_model', `unknown model "${id}"; known: ${this.entries.map((e) => e.id).join(', ')}`);
    const reason = this.unavailableReason(entry);
    const opener = openers[entry.kind];
    if (reason || !opener) throw new MattingInputError('model_unavailable', `model "${id}" is not available: ${reason}`);
    return opener(entry, { modelsDir: this.modelsDir, ...(entry.variants ? { variants: this.presentVariants(entry) } : {}) });
  }
}
