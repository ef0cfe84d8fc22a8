// MattingSession for the built-in `plate` model. The graph is specialised to the frame size
// (fixed shapes let onnxruntime plan memory once), so sessions are built per size on first use
// and kept in a small cache.
import * as ort from 'onnxruntime-node';
import { MattingInputError } from '../errors.js';
import type { ManifestEntry } from '../manifest.js';
import { ARENA_MAX_PIXELS, openOrtSession, type ProviderName } from '../providers.js';
import type { OrtSession } from '../ort-transport.js';
import type { ProviderFallback } from '../../../shared/api.js';
import type { MatteResult, MattingSession, RunOptions } from '../types.js';
import type { Frame } from '../../frame.js';
import { buildPlatePrepGraph } from './geometry.js';
import { buildPlateGraph } from './graph.js';
import { defaultPlateSettings, type PlateSettings } from './settings.js';
import { checkFrame } from '../check-frame.js';
import { kindNeedsPlate } from '../kinds.js';

interface Compiled {
  readonly session: OrtSession;
  readonly errorWidth: number;
  readonly errorHeight: number;
}

/** A plate turned into the frame graph's plate inputs (planar uint8, low-resolution float). */
interface PreparedPlate {
  readonly feeds: Record<'bgr_planar' | 'bgr_low', ort.Tensor>;
}

/** Graphs kept compiled at once (a size needs a frame graph and a plate graph): a job uses one
 * size, a folder of stills a few. */
const CACHE_LIMIT = 6;

export class PlateSession implements MattingSession {
  readonly kind = 'plate' as const;
  readonly needsPlate = kindNeedsPlate('plate');
  private readonly cache = new Map<string, Promise<Compiled>>();
  // Plates are prepared once per plate buffer and size: a clip or a live session passes the same
  // plate for every frame. Weak keys: a plate nobody holds any more is forgotten.
  private readonly plates = new WeakMap<Uint8Array, Map<string, Promise<PreparedPlate>>>();
  private lastProvider: ProviderName = 'cpu';
  private lastFallbacks: readonly ProviderFallback[] = [];
  private disposed = false;

  constructor(
    readonly modelId: string,
    private readonly settings: PlateSettings,
    private readonly providers?: ProviderName[],
  ) {}

  get provider(): string {
    return this.lastProvider;
  }

  get fallbacks(): readonly ProviderFallback[] {
    return this.lastFallbacks;
  }

  /** Compiles the graph for a size ahead of the first frame (warm-up, health reporting). */
  async prepare(width: number, height: number, channels: 3 | 4 = 3, foreground = true): Promise<void> {
    await this.compiled(width, height, channels, foreground);
  }

  private compiled(width: number, height: number, channels: 3 | 4, foreground: boolean): Promise<Compiled> {
    return this.cached(`${width}x${height}x${channels}:${foreground ? 'fgr' : 'alpha'}`, async () => {
      const graph = buildPlateGraph({ width, height, channels, foreground, settings: this.settings });
      const opened = await openOrtSession(graph.bytes, this.providers, { memoryArena: width * height <= ARENA_MAX_PIXELS });
      this.lastProvider = opened.provider;
      this.lastFallbacks = opened.fallbacks;
      return { session: opened.session, errorWidth: graph.errorWidth, errorHeight: graph.errorHeight };
    });
  }

  /** Least-recently-used cache of compiled graphs (frame graphs and plate-preparation graphs). */
  private cached(key: string, build: () => Promise<Compiled>): Promise<Compiled> {
    let entry = this.cache.get(key);
    if (entry) {
      // Refresh its place in the insertion-ordered map (least recently used goes first).
      this.cache.delete(key);
      this.cache.set(key, entry);
      return entry;
    }
    entry = build();
    entry.catch(() => this.cache.delete(key));
    this.cache.set(key, entry);
    while (this.cache.size > CACHE_LIMIT) {
      const [oldKey, old] = this.cache.entries().next().value as [string, Promise<Compiled>];
      this.cache.delete(oldKey);
      void old.then((c) => c.session.release()).catch(() => undefined);
    }
    return entry;
  }

  private preparedPlate(bgr: Frame): Promise<PreparedPlate> {
    const { width: W, height: H, channels: C } = bgr;
    const key = `${W}x${H}x${C}`;
    let perSize = this.plates.get(bgr.data);
    if (!perSize) {
      perSize = new Map();
      this.plates.set(bgr.data, perSize);
    }
    let prepared = perSize.get(key);
    if (!prepared) {
      prepared = (async () => {
        const prep = await this.cached(`prep:${key}`, async () => {
          const opened = await openOrtSession(buildPlatePrepGraph(W, H, C, this.settings), this.providers, { memoryArena: W * H <= ARENA_MAX_PIXELS });
          return { session: opened.session, errorWidth: 0, errorHeight: 0 };
        });
        const out = await prep.session.run({ bgr: new ort.Tensor('uint8', bgr.data, [H, W, C]) });
        const { bgr_planar, bgr_low } = out;
        if (!bgr_planar || !bgr_low) throw new Error('plate preparation graph produced no outputs');
        return { feeds: { bgr_planar, bgr_low } };
      })();
      const forget = perSize;
      prepared.catch(() => forget.delete(key));
      perSize.set(key, prepared);
    }
    return prepared;
  }

  async run(src: Frame, bgr?: Frame, options: RunOptions = {}): Promise<MatteResult> {
    if (this.disposed) throw new Error('plate session used after dispose()');
    checkFrame(src, 'frame');
    if (!bgr) throw new MattingInputError('plate_required', 'the plate model needs a background plate (clean plate) for every frame');
    checkFrame(bgr, 'plate');
    if (bgr.width !== src.width || bgr.height !== src.height) {
      throw new MattingInputError('plate_size_mismatch', `plate is ${bgr.width}x${bgr.height} but the frame is ${src.width}x${src.height}; capture the plate at the frame's size`);
    }
    if (bgr.channels !== src.channels) {
      throw new MattingInputError('bad_frame', `plate has ${bgr.channels} channels but the frame has ${src.channels}`);
    }
    const foreground = options.foreground ?? true;
    const { width: W, height: H, channels: C } = src;
    const [c, plate] = await Promise.all([this.compiled(W, H, C, foreground), this.preparedPlate(bgr)]);
    const out = await c.session.run({ src: new ort.Tensor('uint8', src.data, [H, W, C]), ...plate.feeds });
    const tensor = (name: string): Uint8Array => {
      const t = out[name];
      if (!t) throw new Error(`plate graph produced no "${name}" output`);
      return t.data as Uint8Array;
    };
    return {
      alpha: { data: tensor('alpha'), width: W, height: H },
      error: { data: tensor('err'), width: c.errorWidth, height: c.errorHeight },
      ...(foreground ? { foreground: { data: tensor('fgr'), width: W, height: H, channels: 4 as const } } : {}),
    };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const entries = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(entries.map((e) => e.then((c) => c.session.release()).catch(() => undefined)));
  }
}

/** Registry opener: settings in the manifest entry override the defaults. */
export async function openPlateSession(entry: ManifestEntry): Promise<PlateSession> {
  const settings: PlateSettings = { ...defaultPlateSettings, ...(entry.settings as Partial<PlateSettings>) };
  return new PlateSession(entry.id, settings);
}
