// The engine as its own process, as users run it (`npm start`): the live bench's controller then
// shares no JavaScript thread with inference, so screenshots are read while the model runs, as
// with the CLI or the OBS dock. Temporary config and data folders, the checkout's models, a free
// port and a fixed token; stopped with SIGTERM (then SIGKILL) by the pid started here.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, waitExit } from '../../test/support/obs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface EngineProcess {
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

export async function startEngineProcess(): Promise<EngineProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-engine-'));
  const port = await freeLoopbackPort();
  const token = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts'], {
    cwd: root,
    env: { ...process.env, CLEANPLATE_PORT: String(port), CLEANPLATE_TOKEN: token, CLEANPLATE_CONFIG_DIR: path.join(dir, 'config'), CLEANPLATE_DATA_DIR: path.join(dir, 'data') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5000);
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the engine did not start within 60 s:\n${log.slice(-2000)}`)), 60_000);
      child.stderr?.on('data', (d: Buffer) => {
        log = (log + d.toString()).slice(-8000);
        if (log.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the engine exited (${code}) before listening:\n${log.slice(-2000)}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, token, stop };
}
