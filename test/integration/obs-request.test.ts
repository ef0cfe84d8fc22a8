// OBS requests that always settle, against a real OBS (test/support/obs.ts) that is frozen with
// SIGSTOP and then killed while requests are in flight: obs-websocket-js alone leaves such a
// request pending forever; settledCall rejects it (closed), and times out on a silent OBS.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObsRequestError, settledCall } from '../../src/obs/obs-request.js';
import { obsAvailable, ObsInstance } from '../support/obs.js';

let obs: ObsInstance;

/** Resolves once every thread of `pid` is stopped: SIGSTOP is only a request, and on a loaded
 * machine OBS's WebSocket thread once answered a request sent right after it. */
async function stopped(pid: number): Promise<void> {
  const state = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  for (let i = 0; i < 500; i++) {
    const tasks = readdirSync(`/proc/${pid}/task`);
    if (tasks.every((t) => state(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')) === 'T')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`OBS (pid ${pid}) did not stop within 5 s of SIGSTOP`);
}

beforeAll(async () => {
  if (!obsAvailable()) throw new Error('these tests need obs-studio, xvfb and gcc (".ci/run" installs them)');
  obs = await ObsInstance.start({
    canvas: { width: 640, height: 360 },
    scene: 'Scene',
    items: [{ name: 'Color', kind: 'color_source_v3', settings: { color: 0xff3366cc, width: 320, height: 180 } }],
  });
});

afterAll(async () => {
  await obs?.stop();
});

describe('settledCall against a real OBS that freezes, then dies', () => {
  it('times out on a frozen OBS and rejects (closed) when it dies, where a plain call stays pending', async () => {
    const client = await obs.client();
    expect((await settledCall(client, 'GetVersion', undefined, 10_000)).obsVersion).toMatch(/^\d+\.\d+/);
    const pid = obs.pid!;
    process.kill(pid, 'SIGSTOP');
    await stopped(pid);

    const timedOut = await settledCall(client, 'GetVersion', undefined, 300).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ObsRequestError);
    expect(timedOut).toMatchObject({ reason: 'timeout', message: 'OBS did not answer GetVersion within 0.3 s' });

    const plain = client.call('GetSourceScreenshot', { sourceName: 'Color', imageFormat: 'jpg', imageWidth: 160, imageHeight: 90 }).then(
      () => 'answered',
      () => 'rejected',
    );
    const settled = settledCall(client, 'GetSourceScreenshot', { sourceName: 'Color', imageFormat: 'jpg', imageWidth: 160, imageHeight: 90 }).catch((e: unknown) => e);
    process.kill(pid, 'SIGKILL');

    expect(await settled).toMatchObject({ reason: 'closed', message: 'the OBS connection closed before GetSourceScreenshot was answered' });
    // The library's own promise never settles: what made frame loops and removals hang.
    expect(await Promise.race([plain, new Promise((r) => setTimeout(() => r('pending'), 500))])).toBe('pending');
    // A request on the closed connection fails at once.
    await expect(settledCall(client, 'GetVersion')).rejects.toThrow();
  });
});
