// Child processes for ffmpeg/ffprobe: argument arrays only (never a shell), the last few KB of
// stderr kept for error messages, and an AbortSignal that kills the process (SIGKILL: ffmpeg
// spawns no children of its own, so killing it stops the whole tree).
import { spawn, type ChildProcess } from 'node:child_process';
import { ToolFailedError } from './errors.js';

const STDERR_TAIL_BYTES = 8192;

export interface ToolProcess {
  readonly child: ChildProcess;
  /** Resolves on exit code 0; rejects with ToolFailedError, or with the abort reason when aborted. */
  readonly done: Promise<void>;
  stderrTail(): string;
  kill(): void;
}

export interface SpawnToolOptions {
  readonly signal?: AbortSignal;
  readonly stdin?: 'pipe' | 'ignore';
  readonly stdout?: 'pipe' | 'ignore';
}

export function spawnTool(file: string, args: readonly string[], options: SpawnToolOptions = {}): ToolProcess {
  const child = spawn(file, args, {
    stdio: [options.stdin ?? 'ignore', options.stdout ?? 'pipe', 'pipe'],
    windowsHide: true,
  });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-STDERR_TAIL_BYTES);
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const signal = options.signal;
  signal?.addEventListener('abort', kill, { once: true });
  if (signal?.aborted) kill();
  const name = file.split(/[\\/]/).pop() ?? file;
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(err));
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      else if (code === 0) resolve();
      else reject(new ToolFailedError(name, sig ? `signal ${sig}` : `exit code ${code}`, tail));
    });
  });
  // Callers that never await `done` (after an earlier failure) must not crash the process.
  done.catch(() => undefined);
  return { child, done, stderrTail: () => tail, kill };
}

/** A tool that did not finish within its deadline (it was killed). */
export class ToolTimeoutError extends Error {
  constructor(
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(`${tool} did not answer within ${Math.round(timeoutMs / 1000)} s`);
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
