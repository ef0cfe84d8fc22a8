// Child processes for ffmpeg/ffprobe: argument arrays only (never a shell), the last few KB of
// stderr kept for error messages, and an AbortSignal that kills the process (SIGKILL: ffmpeg
// spawns no children of its own, so killing it stops the whole tree). Every child has a deadline:
// runTool a total one; long-running ones (decoders, encoders) a stall deadline: killed when they
// keep the engine waiting that long without output (time the engine itself is busy, with the
// child waiting on it, is not counted: see ToolProcess.pause).
import { spawn, type ChildProcess } from 'node:child_process';
import { ToolFailedError } from './errors.js';

const STDERR_TAIL_BYTES = 8192;

export interface ToolProcess {
  readonly child: ChildProcess;
  /**
   * Resolves on exit code 0; rejects with ToolFailedError, with ToolTimeoutError when its stall
   * deadline passed (it was killed), or with the abort reason when aborted.
   */
  readonly done: Promise<void>;
  stderrTail(): string;
  kill(): void;
  /** The stall deadline stops counting: the engine is busy and the child waits on it. */
  pause(): void;
  /** The stall deadline counts again, from now: the engine waits on the child (or it just made progress). */
  resume(): void;
  /** Set once the stall deadline passed and the child was killed. */
  readonly timedOut: ToolTimeoutError | undefined;
}

/** Default stall deadline of decoders and encoders: far beyond any frame ffmpeg works on. */
export const DEFAULT_STALL_MS = 120_000;

export interface SpawnToolOptions {
  readonly signal?: AbortSignal;
  readonly stdin?: 'pipe' | 'ignore';
  readonly stdout?: 'pipe' | 'ignore';
  /** Working folder of the child (the engine's own unless given). */
  readonly cwd?: string;
  /**
   * Kill the child when it has kept the engine waiting this long: no stderr output, and no
   * resume() (callers reading stdout call it per chunk), while not paused.
   */
  readonly stallMs?: number;
}

export function spawnTool(file: string, args: readonly string[], options: SpawnToolOptions = {}): ToolProcess {
  const child = spawn(file, args, {
    stdio: [options.stdin ?? 'ignore', options.stdout ?? 'pipe', 'pipe'],
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    windowsHide: true,
  });
  let tail = '';
  const name = file.split(/[\\/]/).pop() ?? file;
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // The stall deadline: armed while resumed, re-armed by any output, cleared at exit.
  let timedOut: ToolTimeoutError | undefined;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  const stallMs = options.stallMs;
  const arm = (): void => {
    clearTimeout(timer);
    if (stallMs === undefined || paused || child.exitCode !== null || child.signalCode !== null) return;
    timer = setTimeout(() => {
      timedOut = new ToolTimeoutError(name, stallMs);
      kill();
    }, stallMs);
  };
  arm();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-STDERR_TAIL_BYTES);
    arm();
  });
  const signal = options.signal;
  signal?.addEventListener('abort', kill, { once: true });
  if (signal?.aborted) kill();
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(err));
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      if (timedOut) reject(timedOut);
      else if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      else if (code === 0) resolve();
      else reject(new ToolFailedError(name, sig ? `signal ${sig}` : `exit code ${code}`, tail));
    });
  });
  // Callers that never await `done` (after an earlier failure) must not crash the process.
  done.catch(() => undefined);
  return {
    child,
    done,
    stderrTail: () => tail,
    kill,
    pause: () => {
      paused = true;
      clearTimeout(timer);
    },
    resume: () => {
      paused = false;
      arm();
    },
    get timedOut() {
      return timedOut;
    },
  };
}

/** A tool that did not finish within its deadline (it was killed). */
export class ToolTimeoutError extends Error {
  readonly code = 'tool_timeout';
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(`${tool} did not answer within ${Math.round(timeoutMs / 1000)} s and was stopped`);
    this.name = 'ToolTimeoutError';
  }
}

/**
 * Runs a tool to completion and returns its stdout. With `timeoutMs`, a tool that has not
 * finished by then is killed and ToolTimeoutError thrown: a request never waits on a stuck tool.
 */
export async function runTool(file: string, args: readonly string[], signal?: AbortSignal, timeoutMs?: number): Promise<Buffer> {
  const deadline = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
  const combined = deadline && signal ? AbortSignal.any([signal, deadline]) : (deadline ?? signal);
  const proc = spawnTool(file, args, { signal: combined, stdout: 'pipe' });
  const chunks: Buffer[] = [];
  proc.child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  try {
    await proc.done;
  } catch (err) {
    if (deadline?.aborted && !signal?.aborted) throw new ToolTimeoutError(file.split(/[\\/]/).pop() ?? file, timeoutMs!);
    throw err;
  }
  return Buffer.concat(chunks);
}
