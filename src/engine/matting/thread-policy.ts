// How many threads onnxruntime gets for one piece of work. The model is not alone on the CPU: a
// clip job decodes (ffmpeg), aligns the plate (OpenCV on the engine's thread) and encodes (ffmpeg)
// while the model runs, and a live session decodes screenshots and muxes NUT. onnxruntime's
// intra-op pool splits each op across its threads and waits for the slowest, so one thread that
// loses its core to ffmpeg stalls the whole op: on 2 cores, 2 threads plus a job's ffmpeg ran the
// clip pipeline at about half the model's pace (docs/performance.md). The policy leaves cores for
// the side work; CLEANPLATE_THREADS overrides it for everything.
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';

/** The CPU work that runs beside the model for one job or session. */
export interface SideWork {
  /** Frames decoded by ffmpeg (a clip) or from screenshots (live). */
  readonly decode?: boolean;
  /** Frames encoded or muxed by ffmpeg. */
  readonly encode?: boolean;
  /** Plate alignment per frame (OpenCV on the engine's thread). */
  readonly align?: boolean;
}

/** Work with nothing beside the model (a still, a warm-up): every core. */
export const NO_SIDE_WORK: SideWork = {};

/** The user's override, when set to a positive integer. */
export function threadOverride(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const n = Number(env.CLEANPLATE_THREADS);
  return env.CLEANPLATE_THREADS !== undefined && Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Intra-op threads for the model: every core minus one per kind of side work, but the side work
 * never takes more than half the cores (it is lighter than the model) and the model keeps at
 * least one. On 2 cores or fewer always 1: a 2-thread pool lost to 1 thread in every run measured
 * there, even for a still (fused 1080p 1.6 vs 4.9 fps at load 6, docs/performance.md).
 */
export function inferenceThreads(work: SideWork, cores: number = os.availableParallelism(), env: NodeJS.ProcessEnv = process.env): number {
  const forced = threadOverride(env);
  if (forced !== undefined) return forced;
  const total = Math.max(1, Math.floor(cores));
  if (total <= 2) return 1;
  const side = [work.decode, work.encode, work.align].filter(Boolean).length;
  const reserved = Math.min(side, Math.floor(total / 2));
  return Math.max(1, total - reserved);
}

/**
 * Whether onnxruntime's idle intra-op threads spin (busy-wait for the next op) or sleep. Spinning
 * only when onnxruntime has every core: with fewer, the cores left are meant for the side work
 * (or, with CLEANPLATE_THREADS, for the user's other programs), and a spinning thread takes CPU
 * time from them. Measured on 2 cores with 2 threads (docs/performance.md): spinning cost 1.4x
 * the CPU per frame of sleeping, for no gain in wall time. With 1 thread there is no pool.
 */
export function intraOpSpinning(threads: number, cores: number = os.availableParallelism()): boolean {
  return threads >= cores;
}

/**
 * The thread count sessions opened inside a call get. Models compile graphs lazily (per frame
 * size, inside run), deep in model code; the budget follows the call instead of being passed
 * through every model's constructor. The matting service keeps one session per model and thread
 * count and makes every call on it inside its budget.
 */
const budget = new AsyncLocalStorage<number>();

export function withThreadBudget<T>(threads: number, fn: () => T): T {
  return budget.run(threads, fn);
}

/** The budget of the current call, if any. */
export function currentThreadBudget(): number | undefined {
  return budget.getStore();
}

/**
 * How many onnxruntime runs may go at once, each in its own inference worker (ort-transport.ts):
 * the fused model's learned prior runs in the second worker while the plate graph runs in the
 * first. 2 on exactly 2 cores, where the policy gives every run 1 intra-op thread and a second
 * run fills the otherwise idle core (fused 1080p 1.3x faster measured, docs/performance.md); 1
 * on more cores (the one run already has a pool of threads), on 1 core, and when
 * CLEANPLATE_THREADS sets the thread count (the user sized it for one run).
 * CLEANPLATE_PARALLEL=1|2 overrides.
 */
export function parallelRuns(cores: number = os.availableParallelism(), env: NodeJS.ProcessEnv = process.env): 1 | 2 {
  if (env.CLEANPLATE_PARALLEL === '1' || env.CLEANPLATE_PARALLEL === '2') return Number(env.CLEANPLATE_PARALLEL) as 1 | 2;
  if (threadOverride(env) !== undefined) return 1;
  return Math.floor(cores) === 2 ? 2 : 1;
}

/**
 * A run whose inputs exceed this many bytes runs alone, with no other run beside it: its peak
 * (inputs, intermediates, outputs) is what bounds the engine's memory, and two of them at once
 * would double it (an 8192x8192 frame is 192 MiB; a 4K frame and plate 47 MiB still overlap).
 */
export const ALONE_INPUT_BYTES = 64 << 20;
