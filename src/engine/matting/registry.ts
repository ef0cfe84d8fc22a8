// The models the engine can run: the manifest plus, per kind, the code that opens a session.
import type { DefaultModelInfo, ModelInfo as WireModelInfo } from '../../shared/api.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { MattingInputError } from './errors.js';
import { kindNeedsPlate } from './kinds.js';
import { fileInfo, readLocalFiles } from './local-files.js';
import { defaultModelsDir, loadManifest, type ManifestEntry } from './manifest.js';
import { openBgmv2Session } from './bgmv2/session.js';
import { openFusedSession } from './fused/session.js';
import { openPlateSession } from './plate/session.js';
import { openRvmSession } from './rvm/session.js';
import type { ModelKind } from '../../shared/api.js';
import type { MattingSession } from './types.js';
import { fileStamp, verifyModelFile } from './verify.js';

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
  fused: openFusedSession,
};

/** What the registry knows of a model: the wire description (less the provider, which only an
 * open session knows) plus the manifest's settings. */
export interface ModelInfo extends Omit<WireModelInfo, 'provider'> {
  readonly settings: Record<string, unknown>;
}

/** Default preference, best first: the official network, the fused model, the plate model. */
const DEFAULT_ORDER: readonly ModelKind[] = ['bgmv2', 'fused', 'plate'];

/** Why a kind is the default, given the file it runs. */
const DEFAULT_REASON: Partial<Record<ModelKind, (file: string | null) => string>> = {
  bgmv2: () => 'the official BackgroundMattingV2 weights are installed',
  fused: (file) => `the plate's evidence with RVM's learned person prior: models/${file} opens`,
  plate: () => 'needs no model file',
};

const REBUILD: Partial<Record<ModelKind, string>> = {
  rvm: 'build it again with "npm run models:rvm"',
  fused: 'build it again with "npm run models:rvm"',
  bgmv2: 'fetch it again with "npm run models:fetch bgmv2" or add it with "npm run models:add <file>"',
};

export class ModelRegistry {
  /** Files that were opened and failed, by fileStamp (path, size, mtime): the reason. */
  private readonly broken = new Map<string, string>();

  private constructor(
    private readonly entries: ManifestEntry[],
    readonly modelsDir: string,
  ) {}

  /** Loads the manifest and opens every learned model file present once, so "available" means "opens". */
  static async load(modelsDir = defaultModelsDir): Promise<ModelRegistry> {
    const manifest = await loadManifest(modelsDir);
    const registry = new ModelRegistry(manifest.models, modelsDir);
    await registry.verifyFiles();
    return registry;
  }

  private async verifyFiles(): Promise<void> {
    await Promise.all(
      this.entries.map(async (e) => {
        if (e.file === null || !openers[e.kind]) return;
        const file = path.join(this.modelsDir, e.file);
        const stamp = fileStamp(file);
        if (stamp === undefined) return;
        const reason = await verifyModelFile(e, file, `models/${e.file}`);
        if (reason !== undefined) this.broken.set(stamp, reason);
      }),
    );
  }

  /** A model failed to open after load (its file changed): it is unavailable from now on, with the reason. */
  markBroken(id: string, reason: string): void {
    const e = this.entry(id);
    const files = e?.file ? [e.file] : (e?.variants ?? []).flatMap((v) => this.entry(v)?.file ?? []);
    for (const f of files) {
      const stamp = fileStamp(path.join(this.modelsDir, f));
      if (stamp !== undefined) this.broken.set(stamp, reason);
    }
  }

  /** The best model present: official BGMv2 weights, else fused, else plate (an explicit "default" in the manifest wins). */
  get defaultModel(): DefaultModelInfo {
    const explicit = this.entries.find((e) => e.default);
    if (explicit) return { id: explicit.id, reason: `"${explicit.id}" is marked default in models/manifest.json` };
    const missing: string[] = [];
    for (const kind of DEFAULT_ORDER) {
      // A logical model (variants) stands for its kind; otherwise the first entry of the kind.
      const candidates = this.entries.filter((e) => e.kind === kind);
      const entry = candidates.find((e) => e.variants) ?? candidates[0];
      if (!entry) continue;
      const why = this.unavailableReason(entry);
      if (why === undefined) {
        const passed = missing.length > 0 ? `; not ${missing.join('; not ')}` : '';
        return { id: entry.id, reason: `${entry.id}: the best model present (${DEFAULT_REASON[kind]?.(this.inUse(entry).file)})${passed}` };
      }
      missing.push(`${entry.id}: ${why}`);
    }
    const first = this.entries[0];
    if (!first) throw new Error('models/manifest.json lists no models');
    return { id: first.id, reason: `no preferred model is available (${missing.join('; ')})` };
  }

  get defaultId(): string {
    return this.defaultModel.id;
  }

  list(): ModelInfo[] {
    const local = readLocalFiles(this.modelsDir);
    return this.entries.map((e) => {
      const reason = this.unavailableReason(e);
      const file = fileInfo(this.preferred(e) ?? e, this.modelsDir, local);
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

  /** `e`'s preferred entry when that one's file is present and opens (undefined: `e` runs its own file). */
  private preferred(e: ManifestEntry): ManifestEntry | undefined {
    const preferred = e.prefer === undefined ? undefined : this.entry(e.prefer);
    return preferred && this.unavailableReason(preferred) === undefined ? preferred : undefined;
  }

  /**
   * The entry a request for `e` runs: the preferred entry of the same kind (rvm -> the authors'
   * export), or `e` itself running the preferred entry's file (fused's learned part), else `e`.
   */
  private inUse(e: ManifestEntry): ManifestEntry {
    const preferred = this.preferred(e);
    if (!preferred) return e;
    return preferred.kind === e.kind ? preferred : { ...e, file: preferred.file, sha256: preferred.sha256 };
  }

  private unavailableReason(e: ManifestEntry): string | undefined {
    if (!openers[e.kind]) return `model kind "${e.kind}" is not supported by this engine`;
    if (this.preferred(e)) return undefined;
    if (e.variants && this.presentVariants(e).length === 0) {
      const broken = e.variants.flatMap((id) => {
        const v = this.entry(id);
        const why = v ? this.unavailableReason(v) : undefined;
        return why?.includes('does not open') ? [why] : [];
      });
      if (broken.length > 0) return broken.join('; ');
      return `none of its variants (${e.variants.join(', ')}) is present: run "npm run models:fetch ${e.id}" or "npm run models:add <file>"`;
    }
    if (e.file !== null) {
      const stamp = fileStamp(path.join(this.modelsDir, e.file));
      const broken = stamp === undefined ? undefined : this.broken.get(stamp);
      if (broken !== undefined)
        return `models/${e.file} does not open (${broken}); ${e.url ? `move it away and fetch it again with "npm run models:fetch ${e.id}"` : (REBUILD[e.kind] ?? 'replace it')}`;
    }
    if (e.file !== null && !existsSync(path.join(this.modelsDir, e.file))) {
      // The converted rvm is made on the user's machine (CleanPlate never ships GPL-3.0 weights).
      if ((e.kind === 'rvm' && !e.url) || e.kind === 'fused') {
        const official = e.prefer ? `, or "npm run models:fetch ${e.prefer}" (the authors' own ONNX export)` : '';
        return `model file models/${e.file} is missing: run "npm run models:rvm" (converts RVM's weights on this machine)${official}`;
      }
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
    // A preferred entry runs under the id that was asked for, so sessions and health keep that id.
    const use = this.inUse(entry);
    return opener(use === entry ? entry : { ...use, id: entry.id }, { modelsDir: this.modelsDir, ...(entry.variants ? { variants: this.presentVariants(entry) } : {}) });
  }
}
