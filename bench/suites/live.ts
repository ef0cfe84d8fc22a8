// The live path against a real OBS (Debian's, under Xvfb, test/support/obs.ts) in one run, with
// the engine in its own process with the models this checkout has (models/: the default model is
// fused when rvm.onnx is built):
//  1. OBS's screenshot ceiling per format at 1280x720 (1 and 3 requests in flight), the bytes of
//     a shot and the engine's decode time: which format to ask for;
//  2. the live matte as the controller runs it (screenshots -> WS -> engine -> NUT stream -> OBS
//     Media Source) per model, size and format: fps against the ceiling measured just before it
//     (same format and size), against 1/model time, latency from screenshot request to matte
//     served against the model's time, drop rate;
//  3. where a frame's time goes, per hop (the session's stats().hops, median / p95);
//  4. the last hop: a matte handed to the stream until OBS's Media Source shows it (media-probe).
// The source is a 1280x720 clip; 640x360 mattes scale the screenshots in OBS (--width 640).
// BENCH_LIVE_SECONDS sets the measuring window per configuration (default 8).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { LIVE_HOPS, type LiveStats } from '../../src/shared/api.js';
import { ObsController } from '../../src/obs/controller.js';
import type { WebSocketLike } from '../../src/obs/engine-client.js';
import { dataUriBytes, type ScreenshotFormat } from '../../src/obs/frame-loop.js';
import { ppmPixels } from '../../src/obs/ppm.js';
import { listModels } from '../../src/shared/engine-client.js';
import { findSubject, makeLiveMedia } from '../../test/support/live-media.js';
import { obsAvailable, ObsInstance } from '../../test/support/obs.js';
import { startEngineProcess, type EngineProcess } from '../live/engine-process.js';
import { probeMediaSource } from '../live/media-probe.js';
import { caseName, decodeCost, shotRate, type FormatCase } from '../live/screenshots.js';

const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 8);
const SOURCE = 'Camera';
const SCENE = 'Live';
const FORMAT_CASES: readonly FormatCase[] = [{ format: 'jpg', quality: 85 }, { format: 'jpg', quality: 50 }, { format: 'png', quality: 100 }, { format: 'ppm' }, { format: 'bmp' }];
/** Screenshot quality the frame loop asks for per format (src/obs/obs-connection.ts). */
const LOOP_CASE: Record<ScreenshotFormat, FormatCase> = { jpg: { format: 'jpg', quality: 85 }, png: { format: 'png' }, ppm: { format: 'ppm' } };

interface LiveConfig {
  readonly model: string;
  readonly width: number;
  readonly height: number;
  readonly format: ScreenshotFormat;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;
const f1 = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function configs(models: string[]): LiveConfig[] {
  const out: LiveConfig[] = [];
  for (const model of models) {
    out.push({ model, width: 640, height: 360, format: 'ppm' });
    for (const format of ['ppm', 'jpg'] as const) out.push({ model, width: 1280, height: 720, format });
  }
  return out;
}

async function formatTable(obs: ObsInstance): Promise<void> {
  const client = await obs.client();
  try {
    console.log(`\nOBS screenshots of the 1280x720 source at 1280x720 (${SECONDS / 2} s per rate; load ${load()})`);
    console.log('| format | bytes/shot | shots/s 1 in flight | shots/s 3 in flight | round trip ms (1 in flight) | engine decode ms |');
    console.log('|---|---|---|---|---|---|');
    for (const c of FORMAT_CASES) {
      const one = await shotRate(client, SOURCE, c, 1280, 720, 1, (SECONDS * 1000) / 2);
      const three = await shotRate(client, SOURCE, c, 1280, 720, 3, (SECONDS * 1000) / 2);
      const cost = await decodeCost(client, SOURCE, c, 1280, 720);
      console.log(
        `| ${caseName(c)} | ${(cost.bytes / 1024).toFixed(0)} KiB | ${f1(one.perSecond)} | ${f1(three.perSecond)} | ${f1(one.medianMs)} | ${Number.isNaN(cost.decodeMs) ? 'not read by the engine' : f1(cost.decodeMs)} |`,
      );
    }
  } finally {
    await client.disconnect();
  }
}

interface LiveRow {
  readonly config: LiveConfig;
  readonly ceiling1: number;
  readonly ceiling3: number;
  readonly fps: number;
  readonly dropRate: number;
  readonly stats: LiveStats;
}

async function liveRun(obs: ObsInstance, engine: EngineProcess, config: LiveConfig): Promise<LiveRow> {
  const client = await obs.client();
  const c = LOOP_CASE[config.format];
  const ceiling1 = (await shotRate(client, SOURCE, c, config.width, config.height, 1, (SECONDS * 1000) / 2)).perSecond;
  const ceiling3 = (await shotRate(client, SOURCE, c, config.width, config.height, 3, (SECONDS * 1000) / 2)).perSecond;
  await client.disconnect();
  const controller = new ObsController({ obsUrl: obs.url, engine: { url: engine.url, token: engine.token }, webSocket: wsFactory, screenshotFormat: config.format });
  try {
    await controller.connect();
    await controller.addLiveMatte(SOURCE, { width: config.width, model: config.model });
    await sleep(3000); // warm-up: model graph for this size, media source connecting
    const a = (await controller.status()).mattes[0]!.stats!;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const b = (await controller.status()).mattes[0]!.stats!;
    const secs = (performance.now() - t0) / 1000;
    const received = b.received - a.received;
    await controller.removeLiveMatte(SOURCE);
    return { config, ceiling1, ceiling3, fps: (b.matted - a.matted) / secs, dropRate: received > 0 ? (b.dropped - a.dropped) / received : 0, stats: b };
  } finally {
    await controller.close();
  }
}

function printLive(rows: LiveRow[]): void {
  console.log("\nLive matte (ceiling: OBS shots/s of the same format and size, measured just before; model ms: the session's median)");
  console.log(
    '| model | size | format | ceiling shots/s (1 / 3 in flight) | live fps | fps / ceiling | model ms | fps / (1/model) | latency median / p95 ms | latency median - model ms | drop rate |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const { model, width, height, format } = r.config;
    const ceiling = Math.max(r.ceiling1, r.ceiling3);
    const modelMs = r.stats.hops?.model?.median ?? NaN;
    const lat = r.stats.latencyMs;
    console.log(
      `| ${model} | ${width}x${height} | ${format} | ${f1(r.ceiling1)} / ${f1(r.ceiling3)} | ${f1(r.fps)} | ${f2(r.fps / ceiling)} | ${f1(modelMs)} | ${f2((r.fps * modelMs) / 1000)} | ${f1(lat.median)} / ${f1(lat.p95)} | ${f1((lat.median ?? NaN) - modelMs)} | ${(r.dropRate * 100).toFixed(0)}% |`,
    );
  }
  console.log("\nPer hop, median / p95 ms (capture: OBS encoding the screenshot and the controller reading it; wait: for the model; mux: matte to the player's ffmpeg)");
  console.log(`| model | size | format | ${LIVE_HOPS.join(' | ')} | end to end |`);
  console.log(`|---|---|---|${LIVE_HOPS.map(() => '---|').join('')}---|`);
  for (const r of rows) {
    const { model, width, height, format } = r.config;
    const hops = LIVE_HOPS.map((h) => {
      const s = r.stats.hops?.[h];
      return s ? `${f1(s.median)} / ${f1(s.p95)}` : '-';
    });
    console.log(`| ${model} | ${width}x${height} | ${format} | ${hops.join(' | ')} | ${f1(r.stats.latencyMs.median)} / ${f1(r.stats.latencyMs.p95)} |`);
  }
}

/** The plate, captured by the controller (remembered in OBS's profile) while the clip shows no subject. */
async function capturePlate(obs: ObsInstance, engine: EngineProcess): Promise<void> {
  const client = await obs.client();
  const controller = new ObsController({ obsUrl: obs.url, engine: { url: engine.url, token: engine.token }, webSocket: wsFactory });
  try {
    await controller.connect();
    const deadline = performance.now() + 30_000;
    for (;;) {
      const { imageData } = await client.call('GetSourceScreenshot', { sourceName: SOURCE, imageFormat: 'ppm', imageWidth: 320, imageHeight: 180 });
      const { pixels } = ppmPixels(dataUriBytes(imageData));
      if (findSubject(pixels, 320, 180, 3).count === 0) break;
      if (performance.now() > deadline) throw new Error('the clip never showed its empty start');
      await sleep(100);
    }
    await controller.captureBackground(SOURCE);
  } finally {
    await controller.close();
    await client.disconnect();
  }
}

async function mediaHop(obs: ObsInstance): Promise<void> {
  const client = await obs.client();
  try {
    const probe = await probeMediaSource(client, SCENE, 1280, 720, 30);
    const sorted = [...probe.shownMs].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    console.log(
      `\nStream to screen (1280x720 @30, ${sorted.length} colour switches): setFrame -> shown by the OBS Media Source median ${f1(at(0.5))} / p95 ${f1(at(0.95))} ms, of which mux (to the player's ffmpeg) ${f1(probe.muxMs.median)} / ${f1(probe.muxMs.p95)} ms`,
    );
  } finally {
    await client.disconnect();
  }
}

export default async function liveBench(): Promise<void> {
  if (!obsAvailable()) {
    console.log('skipped: needs obs-studio, xvfb and gcc (see .ci/run)');
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-live-'));
  const media = await makeLiveMedia(dir, 1280, 720, 10, 2);
  const engine = await startEngineProcess();
  const obs = await ObsInstance.start({
    canvas: { width: 1280, height: 720 },
    scene: SCENE,
    items: [{ name: SOURCE, kind: 'ffmpeg_source', settings: { is_local_file: true, local_file: media.clip, looping: true } }],
  });
  try {
    const { models } = await listModels({ url: engine.url, token: engine.token });
    const def = models.find((m) => m.default)!.id;
    const chosen = [...new Set([def, 'plate'])];
    const version = (await (await obs.client()).call('GetVersion')).obsVersion;
    console.log(`OBS ${version}, canvas 1280x720, source 1280x720 clip; ${SECONDS} s per configuration; ${os.cpus().length} cores; load ${load()}; models: ${chosen.join(', ')} (default ${def})`);
    await capturePlate(obs, engine);
    await formatTable(obs);
    const rows: LiveRow[] = [];
    for (const config of configs(chosen)) rows.push(await liveRun(obs, engine, config));
    printLive(rows);
    await mediaHop(obs);
    console.log(`\nload at the end: ${load()}`);
  } finally {
    await obs.stop();
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
