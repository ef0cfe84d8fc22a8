// MattingSession for the official BackgroundMattingV2 ONNX exports. A manifest entry with a file
// is one export at one preset; the logical entry (file null, `variants`) picks among the presets
// whose files are present by frame size, opening each on first use.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { MattingInputError } from '../errors.js';
import { checkFrame } from '../check-frame.js';
import type { ManifestEntry } from '../manifest.js';
import { openOrtSession, type OpenedSession, type ProviderName } from '../providers.js';
import type { OrtSession } from '../ort-transport.js';
import type { MatteResult, MattingSession, RunOptions } from '../types.js';
import type { Frame } from '../../frame.js';
import { decodeModel, ModelContractError, type Bgmv2Contract } from './contract.js';
import { bgmv2Settings, paddedSize, pickPreset, type Bgmv2Settings } from './presets.js';
import { IO, spliceBgmv2 } from './splice.js';
import { kindNeedsPlate } from '../kinds.js';
import { messageOf } from '../../../shared/error-message.js';

/** What the registry hands an opener (structurally the registry's ModelContext). */
export interface Bgmv2OpenContext {
  readonly modelsDir: string;
  /** For a logical entry: the manifest entries of its variants whose files are present. */
  readonly variants?: readonly ManifestEntry[];
}

/** The settings that decide which frame sizes an export accepts (see paddedSize). */
export type Bgmv2SizeSettings = Pick<Bgmv2Settings, 'refineMode' | 'refineSamplePixels'>;

/**
 * Runs one small frame through the spliced graph and checks the real shapes of what the export
 * made: the contract check reads declared shapes, which may be symbolic or absent. The wrapper
 * crops and converts, so the export's `pha` channels show as the alpha's channels and `fgr`'s as
 * the foreground's channels less those.
 */
async function probeShapes(session: OrtSession, contract: Bgmv2Contract, settings: Bgmv2SizeSettings, label: string): Promise<void> {
  const { width: W, height: H } = paddedSize(64, 64, settings);
  const frame = new Uint8Array(W * H * 3).map((_, i) => (i * 29) % 256);
  const plate = new Uint8Array(W * H * 3).map((_, i) => (i * 13) % 256);
  let out: Record<string, ort.Tensor>;
  try {
    out = await session.run(
      {
        [IO.frame]: new ort.Tensor('uint8', frame, [1, H, W, 3]),
        [IO.plate]: new ort.Tensor('uint8', plate, [1, H, W, 3]),
        [IO.pads]: new ort.Tensor('int64', new BigInt64Array(8), [8]),
      },
      [IO.alpha, IO.foreground, ...(contract.hasError ? [IO.error] : [])],
    );
  } catch (err) {
    throw new ModelContractError(`${label}: onnxruntime cannot run it on a ${W}x${H} probe frame (${messageOf(err)})`);
  }
  const dims = (name: string) => (out[name]?.dims ?? []).map(Number);
  const alpha = dims(IO.alpha);
  const fg = dims(IO.foreground);
  const pha = alpha[1] ?? 0;
  if (alpha.length !== 4 || pha !== 1 || alpha[2] !== H || alpha[3] !== W) {
    throw new ModelContractError(
      `${label}: output "pha" must be float32 (B, 1, H, W) (NCHW, channels first), but on a ${W}x${H} probe frame it came out as (${[1, pha, ...alpha.slice(2)].join(', ')}) after cropping`,
    );
  }
  if (fg.length !== 4 || fg[3] !== 4) {
    throw new ModelContractError(`${label}: output "fgr" must be float32 (B, 3, H, W) (NCHW, channels first), but on a ${W}x${H} probe frame it has ${(fg[3] ?? 1) - 1} channels`);
  }
  if (contract.hasError && dims(IO.error)[1] !== 1) {
    throw new ModelContractError(`${label}: output "err_sm" must be float32 (B, 1, H, W) (NCHW, channels first), but on a ${W}x${H} probe frame it has ${dims(IO.error)[1]} channels`);
  }
}

/**
 * Reads, checks and splices an export, opens it on the best execution provider and checks its
 * real output shapes on a probe frame of a size `settings` accept.
 */
export async function loadBgmv2Model(
  file: string,
  label: string,
  settings: Bgmv2SizeSettings,
  providers?: ProviderName[],
): Promise<{ session: OrtSession; provider: ProviderName; fallbacks: OpenedSession['fallbacks']; contract: Bgmv2Contract }> {
  const bytes = await readFile(file);
  const spliced = spliceBgmv2(decodeModel(bytes, label), label);
  let opened;
  try {
    opened = await openOrtSession(spliced.bytes, providers);
  } catch (err) {
    throw new ModelContractError(`${label}: onnxruntime cannot load it (${messageOf(err)})`);
  }
  try {
    // What onnxruntime made of the graph must be what the contract check found.
    const expected = [IO.alpha, IO.foreground, ...(spliced.contract.hasError ? [IO.error] : [])];
    if (expected.some((name) => !opened.session.outputNames.includes(name))) {
      throw new ModelContractError(`${label}: the wrapped model's outputs are [${opened.session.outputNames.join(', ')}], expected [${expected.join(', ')}]`);
    }
    await probeShapes(opened.session, spliced.contract, settings, label);
  } catch (err) {
    await opened.session.release();
    throw err;
  }
  return { session: opened.session, provider: opened.provider, fallbacks: opened.fallbacks, contract: spliced.contract };
}

export class Bgmv2Session implements MattingSession {
  readonly kind = 'bgmv2' as const;
  readonly needsPlate = kindNeedsPlate('bgmv2');
  private disposed = false;

  constructor(
    readonly modelId: string,
    readonly settings: Bgmv2Settings,
    private readonly session: OrtSession,
    readonly provider: string,
    readonly contract: Bgmv2Contract,
    /** Providers tried before the one in use, and why they failed (health reports them). */
    readonly fallbacks: OpenedSession['fallbacks'] = [],
  ) {}

  /** The preset baked into this export ("hd", "4k"). */
  get preset(): string {
    return this.settings.preset;
  }

  async run(src: Frame, bgr?: Frame, options: RunOptions = {}): Promise<MatteResult> {
    if (this.disposed) throw new Error(`${this.modelId} session used after dispose()`);
    checkFrame(src, 'frame');
    if (!bgr) throw new MattingInputError('plate_required', `${this.modelId} needs a background plate (clean plate) for every frame`);
    checkFrame(bgr, 'plate');
    if (bgr.width !== src.width || bgr.height !== src.height) {
      throw new MattingInputError('plate_size_mismatch', `plate is ${bgr.width}x${bgr.height} but the frame is ${src.width}x${src.height}; capture the plate at the frame's size`);
    }
    const { width: W, height: H } = src;
    const padded = paddedSize(W, H, this.settings);
    const pads = BigInt64Array.from([0, 0, 0, 0, 0, padded.height - H, padded.width - W, 0].map(BigInt));
    const foreground = options.foreground ?? true;
    const fetches: string[] = [IO.alpha, ...(foreground ? [IO.foreground] : []), ...(this.contract.hasError ? [IO.error] : [])];
    const out = await this.session.run(
      {
        [IO.frame]: new ort.Tensor('uint8', src.data, [1, H, W, src.channels]),
        [IO.plate]: new ort.Tensor('uint8', bgr.data, [1, H, W, bgr.channels]),
        [IO.pads]: new ort.Tensor('int64', pads, [8]),
      },
      fetches,
    );
    const tensor = (name: string): ort.Tensor => {
      const t = out[name];
      if (!t) throw new Error(`${this.modelId}: the spliced graph produced no "${name}" output`);
      return t;
    };
    const error = this.contract.hasError ? tensor(IO.error) : undefined;
    return {
      alpha: { data: tensor(IO.alpha).data as Uint8Array, width: W, height: H },
      ...(foreground ? { foreground: { data: tensor(IO.foreground).data as Uint8Array, width: W, height: H, channels: 4 as const } } : {}),
      ...(error ? { error: { data: error.data as Uint8Array, width: Number(error.dims[3]), height: Number(error.dims[2]) } } : {}),
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

async function openPreset(entry: ManifestEntry, modelsDir: string): Promise<Bgmv2Session> {
  if (entry.file === null) throw new Error(`model ${entry.id} has no file`);
  const settings = bgmv2Settings(entry);
  try {
    const loaded = await loadBgmv2Model(path.join(modelsDir, entry.file), `models/${entry.file}`, settings);
    return new Bgmv2Session(entry.id, settings, loaded.session, loaded.provider, loaded.contract, loaded.fallbacks);
  } catch (err) {
    if (err instanceof ModelContractError) {
      const fix = entry.url ? `fetch it again with "npm run models:fetch ${entry.id}"` : `replace it with "npm run models:add <file> -- --id ${entry.id}"`;
      throw new MattingInputError('model_unavailable', `model "${entry.id}" cannot run: ${err.message}; move the file away and ${fix}`);
    }
    throw err;
  }
}

/**
 * The logical model: one session that picks the preset for each frame's size (pickPreset) among
 * the variants present. The first variant is opened at once so a broken file shows up when the
 * model is opened, not at the first frame.
 */
export class Bgmv2PresetSession implements MattingSession {
  readonly kind = 'bgmv2' as const;
  readonly needsPlate = kindNeedsPlate('bgmv2');
  private readonly open = new Map<string, Promise<Bgmv2Session>>();
  private current: Bgmv2Session;
  private ran = false;
  private disposed = false;

  private constructor(
    readonly modelId: string,
    private readonly variants: readonly { entry: ManifestEntry; settings: Bgmv2Settings }[],
    private readonly modelsDir: string,
    first: Bgmv2Session,
  ) {
    this.current = first;
    this.open.set(first.modelId, Promise.resolve(first));
  }

  static async create(entry: ManifestEntry, ctx: Bgmv2OpenContext): Promise<Bgmv2PresetSession> {
    const variants = (ctx.variants ?? []).map((e) => ({ entry: e, settings: bgmv2Settings(e) }));
    const smallest = [...variants].sort((a, b) => (a.settings.maxPixels ?? Infinity) - (b.settings.maxPixels ?? Infinity))[0];
    if (!smallest) {
      throw new MattingInputError('model_unavailable', `model "${entry.id}" has none of its preset files (${(entry.variants ?? []).join(', ')}); run "npm run models:fetch ${entry.id}"`);
    }
    return new Bgmv2PresetSession(entry.id, variants, ctx.modelsDir, await openPreset(smallest.entry, ctx.modelsDir));
  }

  /** The execution provider of the preset used last. */
  get provider(): string {
    return this.current.provider;
  }

  /** The preset of the last frame ("hd", "4k"); null before the first frame. */
  get preset(): string | null {
    return this.ran ? this.current.preset : null;
  }

  get fallbacks(): OpenedSession['fallbacks'] {
    return this.current.fallbacks;
  }

  /** The variant a frame of this size runs on. */
  variantFor(width: number, height: number): string {
    return pickPreset(this.variants, width, height).entry.id;
  }

  async run(src: Frame, bgr?: Frame, options?: RunOptions): Promise<MatteResult> {
    if (this.disposed) throw new Error(`${this.modelId} session used after dispose()`);
    checkFrame(src, 'frame');
    const { entry } = pickPreset(this.variants, src.width, src.height);
    let session = this.open.get(entry.id);
    if (!session) {
      session = openPreset(entry, this.modelsDir);
      session.catch(() => this.open.delete(entry.id));
      this.open.set(entry.id, session);
    }
    this.current = await session;
    this.ran = true;
    return this.current.run(src, bgr, options);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const sessions = [...this.open.values()];
    this.open.clear();
    await Promise.all(sessions.map((s) => s.then((x) => x.dispose()).catch(() => undefined)));
  }
}

/** Registry opener for kind "bgmv2". */
export async function openBgmv2Session(entry: ManifestEntry, ctx: Bgmv2OpenContext): Promise<MattingSession> {
  if (entry.file === null) return Bgmv2PresetSession.create(entry, ctx);
  return openPreset(entry, ctx.modelsDir);
}
