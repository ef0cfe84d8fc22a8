// Issue 14's 8192x8192 still: how promptly /v1/health answers while the engine mattes it (goal:
// under 100 ms throughout), the event loop's own delay over the same time, and RSS before,
// at the peak and after. Health is asked one request after another, 20 ms apart.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { createEngine } from '../../src/engine/server.js';

const SIDE = Number(process.env.BENCH_STILL_SIDE ?? 8192);
const MiB = 2 ** 20;

async function oneModel(label: string, modelsDir: string, root: string): Promise<void> {
  const engine = await createEngine({ port: 0, configDir: path.join(root, `${label}-config`), dataDir: path.join(root, `${label}-data`), modelsDir, log: () => undefined });
  const api = (route: string, init: RequestInit = {}): Promise<Response> => fetch(engine.url + route, { ...init, headers: { authorization: `Bearer ${engine.token}` } });
  const matte = async (image: Buffer): Promise<Response> => {
    const fd = new FormData();
    fd.append('image', new Blob([image], { type: 'image/png' }), 'image.png');
    fd.append('background', new Blob([image], { type: 'image/png' }), 'plate.png');
    const res = await api('/v1/matte', { method: 'POST', body: fd });
    await res.arrayBuffer();
    return res;
  };
  try {
    const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png()
      .toBuffer();
    await matte(small); // the model is open
    const big = await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const idle = process.memoryUsage().rss;
    let peak = idle;
    const latencies: number[] = [];
    let running = true;
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const poll = (async () => {
      while (running) {
        const t0 = performance.now();
        await (await api('/v1/health')).arrayBuffer();
        latencies.push(performance.now() - t0);
        peak = Math.max(peak, process.memoryUsage().rss);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t0 = performance.now();
    const res = await matte(big);
    const ms = performance.now() - t0;
    running = false;
    await poll;
    delay.disable();
    await new Promise((r) => setTimeout(r, 3000));
    const after = process.memoryUsage().rss;
    const sorted = [...latencies].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    console.log(
      `| ${label} | ${res.status} | ${(ms / 1000).toFixed(1)} s | ${latencies.length} | ${q(0.5).toFixed(0)} | ${q(0.99).toFixed(0)} | ${sorted.at(-1)!.toFixed(0)} | ${latencies.filter((l) => l >= 100).length} | ${(delay.max / 1e6).toFixed(0)} | ${(idle / MiB).toFixed(0)} / ${(peak / MiB).toFixed(0)} / ${(after / MiB).toFixed(0)} |`,
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
    console.log('| model | status | still | health answers | median ms | p99 ms | worst ms | answers >= 100 ms | event-loop delay max ms | RSS MiB idle / peak / 3 s after |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    await oneModel('plate', plateOnly, root);
    await oneModel('default', defaultModelsDir, root);
    console.log(`(load after: ${os.loadavg()[0]!.toFixed(1)})`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
