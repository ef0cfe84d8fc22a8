// One open MattingSession per model id and thread count, shared by every caller (http routes,
// jobs, live, CLI), with its runs serialised: a session is not safe for concurrent run() calls,
// and opening a model (graph build, provider probing) is too slow to repeat per request. The
// thread count comes from the caller's side work (thread-policy.ts): on 8 cores a still gets an
// 8-thread session and clip jobs a 5-thread one; on 2 cores every caller shares a 1-thread one.
import { providerOrder } from '../matting/providers.js';
import { inferenceThreads, NO_SIDE_WORK, withThreadBudget, type SideWork } from '../matting/thread-policy.js';
import { MattingInputError } from '../matting/errors.js';
import type { ModelRegistry } from '../matting/registry.js';
import type { MatteResult, MattingSession, RunOptions } from '../matting/types.js';
import type { Frame } from '../frame.js';
import { ShuttingDownError } from './shutting-down.js';
import { messageOf } from '../../shared/error-message.js';

/** Runs tasks one at a time in arrival order; a failed task does not block the next. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    // Not the result: the tail would keep the last run's output (an 8192x8192 alpha is 64 MiB)
    // alive until the next run.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  drained(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

interface OpenModel {
  readonly session: Promise<MattingSession>;
  readonly queue: SerialQueue;
  /** onnxruntime intra-op threads of every graph this session opens. */
  readonly threads: number;
}

/** Sessions that compile per frame size can do so ahead of the first frame. */

const WARM_UP_SIDE = 64;

export interface OpenSessionInfo {
  readonly modelId: string;
  readonly provider: string;
  readonly fallbacks: { provider: string; reason: string }[];
}

export interface TimedResult {
  readonly result: MatteResult;
  readonly modelId: string;
  readonly provider: string;
  /** Milliseconds inside session.run (queue wait excluded). */
  readonly ms: number;
}

export class MattingService {
  private readonly models = new Map<string, OpenModel>();
  /** Sessions that finished opening, for synchronous status reports (health). */
  private readonly ready = new Map<string, MattingSession>();
  private disposed = false;
  private warmUpFailure: string | undefined;

  constructor(readonly registry: ModelRegistry) {}

  /**
   * The open session for a model, opening it on first use. Without an id, the default model; if
   * that fails to open (its file changed since the engine checked it), the registry marks it
   * broken and the next best default is used, so a request that names no model does not fail.
   */
  async session(modelId?: string, work: SideWork = NO_SIDE_WORK): Promise<MattingSession> {
    const id = modelId ?? this.registry.defaultId;
    try {
      return await this.model(id, work).session;
    } catch (err) {
      if (modelId !== undefined || !(err instanceof MattingInputError && err.code === 'model_unavailable') || this.registry.defaultId === id) throw err;
      return this.session(undefined, work);
    }
  }

  private model(modelId: string, work: SideWork): OpenModel {
    if (this.disposed) throw new ShuttingDownError('this matte');
    const threads = inferenceThreads(work);
    const key = `${modelId}#${threads}`;
    let model = this.models.get(key);
    if (!model) {
      const session = withThreadBudget(threads, () => this.registry.open(modelId));
      const opened: OpenModel = { session, queue: new SerialQueue(), threads };
      this.models.set(key, opened);
      session.then(
        (s) => this.ready.set(modelId, s),
        // Forget failed opens so a later request (e.g. after the model file is added) retries.
        (err: unknown) => {
          if (this.models.get(key) === opened) this.models.delete(key);
          // A file that does not open is unavailable (and no longer the default) until it changes.
          if (err instanceof MattingInputError && err.code === 'model_unavailable') this.registry.markBroken(modelId, err.message);
        },
      );
      model = opened;
    }
    return model;
  }

  /**
   * Runs a model on one frame, after any runs already queued on the same session. `work` is what
   * runs beside the model for this caller (a clip job's decode, align and encode); it picks the
   * session's thread count.
   */
  async run(modelId: string | undefined, src: Frame, bgr?: Frame, options?: RunOptions, work: SideWork = NO_SIDE_WORK): Promise<TimedResult> {
    const session = await this.session(modelId, work);
    const id = session.modelId;
    const model = this.model(id, work);
    // Graphs compiled lazily inside run (a new frame size) get the session's thread count.
    return model.queue.run(() =>
      withThreadBudget(model.threads, async () => {
        const started = performance.now();
        const result = await session.run(src, bgr, options);
        return { result, modelId: id, provider: session.provider, ms: performance.now() - started };
      }),
    );
  }

  /**
   * The provider a clip of this frame size will run on, known before the job is queued (jobs queue
   * per device): opens the session and, for sessions that compile per frame size (the plate
   * model learns its provider only then), compiles that size.
   */
  async deviceFor(modelId: string, width: number, height: number, work: SideWork): Promise<string> {
    const session = await this.session(modelId, work);
    if (typeof session.prepare === 'function') {
      const model = this.model(session.modelId, work);
      await model.queue.run(() => withThreadBudget(model.threads, () => session.prepare!(width, height)));
    }
    return session.provider;
  }

  /**
   * Opens the default model now so the first request is fast and health can name its provider.
   * Sessions that compile per frame size (the plate model) learn their provider only when they
   * compile, so a small size is compiled too.
   */
  async warmUp(): Promise<void> {
    try {
      const session = await this.session();
      if (typeof session.prepare === 'function') {
        const model = this.model(session.modelId, NO_SIDE_WORK);
        await model.queue.run(() => withThreadBudget(model.threads, () => session.prepare!(WARM_UP_SIDE, WARM_UP_SIDE)));
      }
      this.warmUpFailure = undefined;
    } catch (err) {
      this.warmUpFailure = messageOf(err);
      throw err;
    }
  }

  get warmUpError(): string | undefined {
    return this.warmUpFailure;
  }

  /** Execution provider of a model's open session; null when it has not been opened (yet). */
  providerOf(modelId: string): string | null {
    return this.ready.get(modelId)?.provider ?? null;
  }

  /** The preset ("hd", "4k") a bgmv2 model's open session ran last; null when not open or not preset-based. */
  presetOf(modelId: string): string | null {
    const preset = (this.ready.get(modelId) as { readonly preset?: unknown } | undefined)?.preset;
    return typeof preset === 'string' ? preset : null;
  }

  /** For health: the order new sessions try providers in, what open sessions run on, and why others failed. */
  providerStatus(): { order: string[]; inUse: string[]; fallbacks: Record<string, { provider: string; reason: string }[]> } {
    const open = this.openSessions();
    return {
      order: providerOrder(),
      inUse: [...new Set(open.map((s) => s.provider))],
      fallbacks: Object.fromEntries(open.filter((s) => s.fallbacks.length > 0).map((s) => [s.modelId, s.fallbacks])),
    };
  }

  openSessions(): OpenSessionInfo[] {
    return [...this.ready.values()].map((s) => ({
      modelId: s.modelId,
      provider: s.provider,
      fallbacks: [...s.fallbacks],
    }));
  }

  /** Waits for queued runs, then disposes every session. Later calls fail. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const models = [...this.models.values()];
    this.models.clear();
    this.ready.clear();
    await Promise.all(
      models.map(async (m) => {
        await m.queue.drained();
        const session = await m.session.catch(() => undefined);
        await session?.dispose();
      }),
    );
  }
}
