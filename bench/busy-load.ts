// A synthetic background load for benches: N busy-loop processes this bench starts, owns and
// stops by their pid. Each also ends itself after `maxSeconds`, so a crashed bench leaves nothing
// running.
import { spawn, type ChildProcess } from 'node:child_process';

export interface BusyLoad {
  readonly pids: number[];
  stop(): Promise<void>;
}

export function startBusyLoad(count: number, maxSeconds = 600): BusyLoad {
  const loop = `const end = Date.now() + ${maxSeconds * 1000}; let x = 0; while (Date.now() < end) x++;`;
  const children: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }));
  return {
    pids: children.flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
