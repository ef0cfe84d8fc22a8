// After a crash (kill -9) the engine's ffmpeg children live on as orphans, flushing the frames
// they had into the job's temp outputs; removing those outputs while they still write loses the
// race. At restart the engine stops them first. Linux exposes every process's command line in
// /proc; elsewhere this is a no-op (and the encoders exit on their own once their input closes).
import { readdir, readFile } from 'node:fs/promises';

/** Kills processes whose command line names any of `paths`; resolves once they are gone. */
export async function stopProcessesWriting(paths: readonly string[], timeoutMs = 5000): Promise<number[]> {
  if (process.platform !== 'linux' || paths.length === 0) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline && paths.some((p) => cmdline.split('\0').some((arg) => arg.includes(p)))) pids.push(pid);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const deadline = Date.now() + timeoutMs; pids.some(alive) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids;
}
