// The live path against a real OBS (Debian's, under Xvfb, test/support/obs.ts) in one run:
//  - OBS's bare screenshot rate (jpg, one request at a time and 3 in flight), the ceiling;
//  - the live matte as the controller runs it (screenshots -> WS -> default model -> NUT stream
//    -> OBS Media Source): achieved fps, latency from screenshot request to matte served
//    (median / p95), drop rate; at 640x360 and 1280x720.
// The source is a 1280x720 clip; 640x360 mattes scale the screenshots in OBS (--width 640).
// BENCH_LIVE_SECONDS sets the measuring window per configuration (default 8).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { ObsController } from '../../src/obs/controller.js';
import type { WebSocketLike } from '../../src/obs/engine-client.js';
import { startTestEngine } from '../../test/support/engine.js';
import { makeLiveMedia } from '../../test/support/live-media.js';
import { obsAvailable, ObsInstance } from '../../test/support/obs.js';

const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 8);
const SOURCE = 'Camera';
const SIZES = [
  [640, 360],
  [1280, 720],
] as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;
const f1 = (v: number | null): string => (v === null ? '-' : v.toFixed(1));

/** Screenshots per second with `inFlight` requests outstanding, for SECONDS/2. */
async function bareRate(obs: ObsInstance, width: number, height: number, inFlight: number): Promise<number> {
  const client = await obs.client();
  let shots = 0;
  const end = performance.now() + (SECONDS * 1000) / 2;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await client.call('GetSourceScreenshot', { sourceName: SOURCE, imageFormat: 'jpg', imageWidth: width, imageHeight: height, imageCompressionQuality: 85 });
      shots++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = (shots * 1000) / (performance.now() - started);
  await client.disconnect();
  return rate;
}

export default async function liveBench(): Promise<void> {
  if (!obsAvailable()) {
    console.log('skipped: needs obs-studio, xvfb and gcc (see .ci/run)');
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-live-'));
  const media = await makeLiveMedia(dir, 1280, 720, 10, 2);
  const engine = await startTestEngine();
  const obs = await ObsInstance.start({
    canvas: { width: 1280, height: 720 },
    scene: 'Live',
    items: [{ name: SOURCE, kind: 'ffmpeg_source', settings: { is_local_file: true, local_file: media.clip, looping: true } }],
  });
  const controller = new ObsController({ obsUrl: obs.url, engine: { url: engine.url, token: engine.token }, webSocket: wsFactory });
  try {
    await controller.connect();
    await sleep(2500); // the clip's empty start: capture the plate then
    await controller.captureBackground(SOURCE);
    console.log(`OBS ${(await controller.status()).obsVersion}, canvas 1280x720, source 1280x720 clip; ${SECONDS} s per configuration; ${os.cpus().length} cores`);
    console.log('| size | OBS bare jpg shots/s (1 / 3 in flight) | live fps | latency median ms | latency p95 ms | engine-only median ms | drop rate | shots/s in loop |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [width, height] of SIZES) {
      const bare1 = await bareRate(obs, width, height, 1);
      const bare3 = await bareRate(obs, width, height, 3);
      await controller.addLiveMatte(SOURCE, { width });
      await sleep(3000); // warm-up: model graph for this size, media source connecting
      const a = (await controller.status()).mattes[0]!.stats!;
      const t0 = performance.now();
      await sleep(SECONDS * 1000);
      const status = (await controller.status()).mattes[0]!;
      const b = status.stats!;
      const secs = (performance.now() - t0) / 1000;
      const fps = (b.matted - a.matted) / secs;
      const received = b.received - a.received;
      const dropRate = received > 0 ? (b.dropped - a.dropped) / received : 0;
      console.log(
        `| ${width}x${height} | ${bare1.toFixed(1)} / ${bare3.toFixed(1)} | ${fps.toFixed(1)} | ${f1(b.latencyMs.median)} | ${f1(b.latencyMs.p95)} | ${f1(b.engineMs.median)} | ${(dropRate * 100).toFixed(0)}% | ${status.shotRate.toFixed(1)} |`,
      );
      await controller.removeLiveMatte(SOURCE);
    }
    console.log('latency: screenshot requested -> matte handed to the stream (the OBS Media Source adds its own display delay on top).');
  } finally {
    await controller.close();
    await obs.stop();
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
