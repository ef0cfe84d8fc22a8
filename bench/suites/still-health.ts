// Issue 14's 8192x8192 still: how promptly /v1/health answers while the engine mattes it (goal:
// under 100 ms throughout), the event loop's own delay over the same time, and RSS before,
// at the peak and after. Health is asked one request after another, 20 ms apart. The engine runs
// in this process (its loop delay and memory are read here); both clients run in a worker thread
// with its own event loop, as a panel's are another process's: in this thread they added their
// own work (the matte answer's parsing, every health request's client side) to the loop measured.
// For each answer the client also reads how long the engine's thread waited for a CPU meanwhile
// and how long the client's own thread did (Linux schedstat): time the engine could not have
// answered in however free its loop was, and time the answer sat unread.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { createEngine } from '../../src/engine/server.js';

const SIDE = Number(process.env.BENCH_STILL_SIDE ?? 8192);
const MiB = 2 ** 20;

interface ClientReport {
  readonly status: number;
  readonly ms: number;
  readonly latencies: number[];
  /** Per answer, ms the engine's thread was runnable but not running (NaN without /proc). */
  readonly cpuWaits: number[];
  /** The same for the client's thread. */
  readonly clientWaits: number[];
}

/** The clients (plain JavaScript: a worker evaluates it): the still, and health polled while it runs. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { url, token, image, enginePid } = workerData;
// Field 2 of schedstat: ns the thread spent runnable, waiting for a CPU.
const waited = (file) => { try { return Number(readFileSync(file, 'utf8').split(' ')[1]) / 1e6; } catch { return NaN; } };
const cpuWait = () => waited('/proc/self/task/' + enginePid + '/schedstat');
const clientWait = () => waited('/proc/thread-self/schedstat');
const api = (route, init = {}) => fetch(url + route, { ...init, headers: { authorization: 'Bearer ' + token } });
(async () => {
  const latencies = [];
  const cpuWaits = [];
  const clientWaits = [];
  let running = true;
  const poll = (async () => {
    while (running) {
      const w0 = cpuWait();
      const c0 = clientWait();
      const t0 = performance.now();
      await (await api('/v1/health')).arrayBuffer();
      latencies.push(performance.now() - t0);
      cpuWaits.push(cpuWait() - w0);
      clientWaits.push(clientWait() - c0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const fd = new FormData();
  fd.append('image', new Blob([image], { type: 'image/png' }), 'image.png');
  fd.append('background', new Blob([image], { type: 'image/png' }), 'plate.png');
  const t0 = performance.now();
  const res = await api('/v1/matte', { method: 'POST', body: fd });
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  running = false;
  await poll;
  parentPort.postMessage({ status: res.status, ms, latencies, cpuWaits, clientWaits });
})();
`;

function runClients(url: string, token: string, image: Buffer): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, { eval: true, workerData: { url, token, image, enginePid: process.pid } });
    worker.once('message', (report: ClientReport) => {
      resolve(report);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function oneModel(label: string, modelsDir: string, root: string): Promise<void> {
  const engine = await createEngine({ port: 0, configDir: path.join(root, `${label}-config`), dataDir: path.join(root, `${label}-data`), modelsDir, log: () => undefined });
  try {
    const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png()
      .toBuffer();
    await runClients(engine.url, engine.token, small); // the model is open, the clients' code warm
    const big = await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const idle = process.memoryUsage.rss();
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const { status, ms, latencies, cpuWaits, clientWaits } = await runClients(engine.url, engine.token, big);
    delay.disable();
    clearInterval(sampler);
    await new Promise((r) => setTimeout(r, 3000));
    const after = process.memoryUsage.rss();
    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    const worst = latencies.indexOf(sorted.at(-1)!);
    const slow = latencies.map((l, i) => [l, cpuWaits[i]! + clientWaits[i]!] as const).filter(([l]) => l >= 100);
    console.log(
      `| ${label} | ${status} | ${(ms / 1000).toFixed(1)} s | ${latencies.length} | ${q(0.5).toFixed(0)} | ${q(0.99).toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} (${cpuWaits[worst]!.toFixed(0)} / ${clientWaits[worst]!.toFixed(0)}) | ${slow.length} (${slow.filter(([l, w]) => w >= l / 2).length}) | ${(delay.max / 1e6).toFixed(0)} | ${(idle / MiB).toFixed(0)} / ${(peak / MiB).toFixed(0)} / ${(after / MiB).toFixed(0)} |`,
    );
  } finally {
    await engine.close();
  }
}

export default async function stillHealthBench(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-health-'));
  try {
    // "plate": the repository's manifest without model files (as the tests run); "default": this
    // checkout's models/ (fused when models/rvm.onnx is built).
    const plateOnly = path.join(root, 'models');
    await mkdir(plateOnly);
    await copyFile(path.join(defaultModelsDir, 'manifest.json'), path.join(plateOnly, 'manifest.json'));
    console.log(`${SIDE}x${SIDE} still (flat PNG, plate = frame), /v1/health asked every 20 ms while it runs (machine load ${os.loadavg()[0]!.toFixed(1)}):`);
    console.log(
      '| model | status | still | health answers | median ms | p99 ms | worst ms (engine / client thread waiting for a CPU) | answers >= 100 ms (of which engine + client waiting for a CPU >= half) | event-loop delay max ms | RSS MiB idle / peak / 3 s after |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    await oneModel('plate', plateOnly, root);
    await oneModel('default', defaultModelsDir, root);
    console.log(`(load after: ${os.loadavg()[0]!.toFixed(1)})`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
