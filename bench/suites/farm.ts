// The render farm on this one machine (a real redis-server, 2 `cleanplate worker` processes):
//   throughput: one clip job rendered locally vs split over 2 workers; on one 2-core machine this
//     measures the farm's overhead (queue, per-segment start-up, lossless join), not a speed-up.
//     Goal: farm time <= 1.1 x local time. Workers get 1 onnxruntime thread each, the local job
//     2, so both use the machine's 2 cores.
//   seams: rvm and fused (recurrent) over 2 workers with 0, 4 and 12 warm-up frames against a
//     single render of the same clip: alpha difference at the first frame of each segment, and the
//     frame-to-frame change there against the single render's (flicker at the seam).
// BENCH_FARM_SECONDS (default 3), BENCH_FARM_WIDTH (default 1920). rvm part skipped without
// models/rvm.onnx (npm run models:rvm).
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobRecord, JobRequest } from '../../src/shared/api.js';
import type { JobService } from '../../src/engine/services/jobs.js';
import { makeClip, runCapture } from '../../test/support/clips.js';
import { settle, startFarmRig } from '../../test/support/farm-rig.js';
import { personFrame } from '../../test/support/rvm.js';

const SECONDS = Number(process.env.BENCH_FARM_SECONDS ?? 3);
const WIDTH = Number(process.env.BENCH_FARM_WIDTH ?? 1920);
const HEIGHT = Math.round((WIDTH * 9) / 16 / 2) * 2;
const RATE = 24;

async function run(jobs: JobService, request: JobRequest): Promise<{ job: JobRecord; ms: number }> {
  const t0 = performance.now();
  const job = await settle(jobs, (await jobs.create(request)).id);
  if (job.state !== 'done') throw new Error(`bench job ${job.state}: ${job.error?.message}`);
  return { job, ms: performance.now() - t0 };
}

/** CPU seconds of a process and its finished children (/proc/<pid>/stat utime+stime+cutime+cstime; Linux). */
function cpuSeconds(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return fields.slice(11, 15).reduce((a, b) => a + b, 0) / 100; // USER_HZ
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

async function matteFrames(file: string, w: number, h: number): Promise<Uint8Array[]> {
  const raw = await runCapture('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
  const n = raw.length / (w * h);
  return Array.from({ length: n }, (_, i) => raw.subarray(i * w * h, (i + 1) * w * h));
}

const meanAbs = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length / 255;
};

export default async function farmBench(): Promise<void> {
  const rig = await startFarmRig({ prefix: 'cp-bench-farm-', workers: ['bench-w1', 'bench-w2'], workerEnv: { CLEANPLATE_THREADS: '1', CLEANPLATE_FARM_LOCK_MS: '30000' } });
  const { dir, registry, workers, local } = rig;
  let farms = 0;
  const farmJobs = (segmentFrames: number, warmUpFrames?: number): Promise<JobService> => rig.farmJobs(String(farms++), { segmentFrames, ...(warmUpFrames !== undefined ? { warmUpFrames } : {}) });
  try {
    const frames = Math.round(SECONDS * RATE);
    const clip = await makeClip(dir, 'clip', { width: WIDTH, height: HEIGHT, rate: String(RATE), frames });
    await Promise.all(workers.map((w) => w.ready));
    const request = (out: string, n = frames): JobRequest => ({
      mediaPath: clip.path,
      range: { in: 0, out: n, unit: 'frames' },
      background: { imagePath: clip.platePath },
      model: 'plate',
      outputs: ['prores4444'],
      outputDir: path.join(dir, out),
    });
    const farm = await farmJobs(Math.ceil(frames / 4));
    // Warm-up (not timed): each side compiles the plate model for this frame size.
    await run(local, request('warm-local', 4));
    const warm = await farmJobs(2);
    await run(warm, request('warm-farm', 4));
    console.log(
      `throughput: plate model, ${WIDTH}x${HEIGHT}, ${frames} frames, prores4444; local job (${os.availableParallelism()} cores) vs 2 workers x 1 thread, 4 segments; load before: ${load()}`,
    );
    // CPU seconds as well as wall time: on a loaded shared machine two processes get a bigger
    // share of the CPU than one, so wall time flatters the farm; CPU time per job does not.
    const treeCpu = (): number => cpuSeconds('self') + workers.reduce((n, w) => n + cpuSeconds(w.child.pid!), 0);
    let c0 = cpuSeconds('self');
    const l = await run(local, request('local'));
    const lc = cpuSeconds('self') - c0;
    c0 = treeCpu();
    const f = await run(farm, request('farm'));
    const fc = treeCpu() - c0;
    const lf = (frames * 1000) / l.ms;
    const ff = (frames * 1000) / f.ms;
    console.log(`  wall: local ${(l.ms / 1000).toFixed(1)} s (${lf.toFixed(2)} fps)   farm ${(f.ms / 1000).toFixed(1)} s (${ff.toFixed(2)} fps)   farm/local ${(f.ms / l.ms).toFixed(3)}`);
    console.log(`  CPU:  local ${lc.toFixed(1)} s   farm ${fc.toFixed(1)} s (engine + workers)   farm/local ${(fc / lc).toFixed(3)} (overhead ${((fc / lc - 1) * 100).toFixed(1)} %, goal <= 10 %)`);
    console.log(`  segments by worker: ${f.job.farm?.workers.join(', ')}; load after: ${load()}`);

    const recurrent = ['rvm', 'fused'].filter((id) => registry.list().find((m) => m.id === id)?.available);
    if (recurrent.length === 0) {
      console.log('\nseams: skipped, models/rvm.onnx is missing (npm run models:rvm)');
      return;
    }
    // A person moving across the room, lossless, so only the model differs between renders.
    const sw = 640;
    const sh = 360;
    const n = 48;
    const seg = 12;
    const moving = path.join(dir, 'person.mkv');
    const raw = Buffer.concat(Array.from({ length: n }, (_, t) => Buffer.from(personFrame(sw, sh, Math.round(6 * t - 140)).data)));
    await writeFile(path.join(dir, 'person.rgb'), raw);
    await runCapture('ffmpeg', [
      '-v',
      'error',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${sw}x${sh}`,
      '-framerate',
      String(RATE),
      '-i',
      path.join(dir, 'person.rgb'),
      '-c:v',
      'ffv1',
      '-pix_fmt',
      'bgr0',
      '-y',
      moving,
    ]);
    // The empty room, for fused (it uses the plate).
    const roomPlate = path.join(dir, 'room.png');
    const room = personFrame(sw, sh, 10_000);
    await writeFile(path.join(dir, 'room.rgb'), room.data);
    await runCapture('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${sw}x${sh}`, '-i', path.join(dir, 'room.rgb'), '-frames:v', '1', '-y', roomPlate]);
    const seams = Array.from({ length: n / seg - 1 }, (_, k) => (k + 1) * seg);
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`\nseams: ${sw}x${sh}, ${n} frames of a person crossing the room, segments of ${seg} (seams at frames ${seams.join(', ')}), 2 workers, vs one single render`);
    console.log('  model  warm-up   |a-single| at seam   max over 4 after   flicker at seam (farm / single)   |a-single| elsewhere');
    for (const model of recurrent) {
      const rvmRequest = (out: string): JobRequest => ({ mediaPath: moving, model, background: { imagePath: roomPlate }, align: 'off', outputs: ['matte'], outputDir: path.join(dir, out) });
      const single = await run(local, rvmRequest(`${model}-single`));
      const ref = await matteFrames(single.job.outputs[0]!.path, sw, sh);
      for (const w of [0, 4, 12]) {
        const jobs = await farmJobs(seg, w);
        const r = await run(jobs, rvmRequest(`${model}-farm-${w}`));
        const got = await matteFrames(r.job.outputs[0]!.path, sw, sh);
        const atSeam = seams.map((s) => meanAbs(got[s]!, ref[s]!));
        const after = seams.map((s) => Math.max(...[0, 1, 2, 3].map((d) => meanAbs(got[s + d]!, ref[s + d]!))));
        const flickFarm = seams.map((s) => meanAbs(got[s]!, got[s - 1]!));
        const flickSingle = seams.map((s) => meanAbs(ref[s]!, ref[s - 1]!));
        const away = got.map((g, i) => (seams.some((s) => i >= s && i < s + 4) ? undefined : meanAbs(g, ref[i]!))).filter((x): x is number => x !== undefined);
        console.log(
          `  ${model.padEnd(5)}  ${String(w).padStart(7)}   ${avg(atSeam).toFixed(5).padStart(18)}   ${Math.max(...after)
            .toFixed(5)
            .padStart(16)}   ${avg(flickFarm).toFixed(5)} / ${avg(flickSingle).toFixed(5)}              ${avg(away).toFixed(5)}`,
        );
      }
    }
    console.log(`  (alpha units 0..1, mean over pixels; load after: ${load()})`);
  } finally {
    await rig.close();
  }
}
