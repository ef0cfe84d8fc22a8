// Farm worker processes for tests: the real `cleanplate worker` command (via tsx), each with its
// stderr kept, stopped or killed by the PID this helper started, never by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestWorker {
  readonly name: string;
  readonly child: ChildProcess;
  log(): string;
  /** Resolves once the worker said it serves its queues. */
  readonly ready: Promise<void>;
  alive(): boolean;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function startWorker(redisUrl: string, name: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): TestWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--redis', redisUrl, '--name', name, ...extraArgs], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'pipe'],
    // A short segment lock, so a killed worker's segment comes back quickly.
    env: { ...process.env, CLEANPLATE_THREADS: '1', CLEANPLATE_FARM_LOCK_MS: '3000', ...env },
  });
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes(`worker "${name}" serving`)) resolve();
    });
    child.once('exit', (code, sig) => reject(new Error(`worker ${name} exited (${code ?? sig}) before it was ready: ${log.slice(-800)}`)));
  });
  ready.catch(() => undefined);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    log: () => log,
    ready,
    alive,
    kill: async (signal) => {
      if (!alive()) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
