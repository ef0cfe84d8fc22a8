// A restarted engine cleans up after a crash only what it can prove it made. Forged and corrupt
// job records point at a decoy folder (user files, the folder itself, "/") and at decoy processes
// this test started (a node process and an ffmpeg of another user, both naming the temp path):
// every decoy survives and every such record is set aside with a warning. Well-formed forgeries
// (a temp-like user file in the folder they name, a farm folder) are not acted on either: their
// cleanup fields lack the engine's seal. Genuine leftovers (a running job's record with its live
// encoder and temp outputs; a farm job's .cleanplate-farm.partial-* folder) are still removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobList } from '../../src/shared/api.js';
import { locateMediaTools, type MediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { JobService } from '../../src/engine/services/jobs.js';
import { cleanupSeal, loadCleanupKey } from '../../src/engine/services/cleanup-seal.js';

let root: string;
let tools: MediaTools;
let registry: ModelRegistry;
const started: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cp-restart-'));
  await chmod(root, 0o755); // the other-user decoy must reach its ffmpeg arguments' folder
  tools = await locateMediaTools();
  registry = await ModelRegistry.load();
});
afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

function startDecoy(file: string, args: string[], options: { uid?: number; gid?: number } = {}): ChildProcess {
  const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'ignore'], ...options });
  started.push(child);
  return child;
}

/** ffmpeg reading stdin forever and writing NUT to `out`, as an encoder does (-f null for a decoy). */
function ffmpegArgs(out: string, muxer: 'nut' | 'null'): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', '16x16', '-framerate', '5', '-i', 'pipe:0', '-f', muxer, out];
}

function record(id: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id,
    state: 'running',
    request: { mediaPath: path.join(root, 'clip.mp4'), outputs: ['prores4444'] },
    model: 'plate',
    device: 'cpu',
    createdAt: new Date().toISOString(),
    progress: { framesDone: 3, framesTotal: 10, fps: 1, etaSeconds: 7 },
    outputs: [],
    ...fields,
  };
}

describe('restart after a crash, with forged and corrupt job records', () => {
  it('touches no decoy file or process, sets the bad records aside, and still cleans its own leftovers', async () => {
    const dataDir = path.join(root, 'data');
    const jobsDir = path.join(dataDir, 'jobs');
    await mkdir(jobsDir, { recursive: true });

    // The decoy folder: user files, one with a name like a temp name but not the engine's pattern.
    const decoy = path.join(root, 'decoy');
    await mkdir(path.join(decoy, 'sub'), { recursive: true });
    const decoyFiles = { 'important.txt': 'keep me', 'sub/nested.txt': 'keep me too', '.take.mov.partial-notours': 'not hex' };
    for (const [name, text] of Object.entries(decoyFiles)) await writeFile(path.join(decoy, name), text);
    const decoyTemp = path.join(decoy, '.take.mov.partial-0badf00d');
    await writeFile(decoyTemp, 'a temp name, but the records naming it are forged');

    // The engine's own leftovers: a temp movie being written by its (still running) encoder and a
    // temp PNG folder, in the job's output folder.
    const out = path.join(root, 'out');
    await mkdir(out);
    const ownMov = path.join(out, '.clip_f0-9_prores4444.mov.partial-1a2b3c4d');
    const ownPng = path.join(out, '.clip_f0-9_png.partial-5e6f7a8b');
    await mkdir(ownPng);
    for (let i = 0; i < 3; i++) await writeFile(path.join(ownPng, `frame_00000${i}.png`), 'png');
    const encoder = startDecoy(tools.ffmpeg.path, [...ffmpegArgs(ownMov, 'nut'), '-map', '0', '-f', 'image2', path.join(ownPng, 'frame_%06d.png')]);
    encoder.stdin!.write(Buffer.alloc(256)); // ffmpeg opens its outputs once a frame arrives

    // Decoy processes naming the decoy temp path: a node process, and an ffmpeg of another user.
    const nodeDecoy = startDecoy(process.execPath, ['-e', 'setInterval(() => {}, 1000)', decoyTemp]);
    const asRoot = process.getuid?.() === 0;
    const otherUser = asRoot ? startDecoy(tools.ffmpeg.path, ffmpegArgs(decoyTemp, 'null'), { uid: 65534, gid: 65534 }) : undefined;
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(encoder) && alive(nodeDecoy)).toBe(true);
    if (otherUser) expect(alive(otherUser)).toBe(true);

    const forged: Record<string, Record<string, unknown> | string> = {
      // The report's case: "/" as a temp path.
      a000000000000001: record('a000000000000001', { tempPaths: ['/'] }),
      a000000000000002: record('a000000000000002', { request: { mediaPath: path.join(decoy, 'x.mp4'), outputDir: decoy }, tempPaths: [decoy] }),
      a000000000000003: record('a000000000000003', { request: { mediaPath: path.join(decoy, 'x.mp4'), outputDir: decoy }, tempPaths: [path.join(decoy, 'important.txt'), path.join(decoy, 'sub')] }),
      a000000000000004: record('a000000000000004', { request: { mediaPath: path.join(decoy, 'x.mp4'), outputDir: decoy }, tempPaths: [path.join(decoy, '.take.mov.partial-notours')] }),
      // A temp-named path outside the job's output folder, and a path that climbs out of it.
      a000000000000005: record('a000000000000005', { request: { mediaPath: path.join(out, 'x.mp4'), outputDir: out }, tempPaths: [decoyTemp] }),
      a000000000000006: record('a000000000000006', { request: { mediaPath: path.join(out, 'x.mp4'), outputDir: out }, tempPaths: [`${out}/../decoy/.take.mov.partial-0badf00d`] }),
      // A record whose encoder pid is a decoy: a node process, or an ffmpeg of another user.
      a000000000000007: record('a000000000000007', {
        request: { mediaPath: path.join(decoy, 'x.mp4'), outputDir: decoy },
        tempPaths: [decoyTemp],
        encoder: { pid: nodeDecoy.pid, executable: process.execPath },
      }),
      a000000000000008: record('a000000000000008', {
        request: { mediaPath: path.join(decoy, 'x.mp4'), outputDir: decoy },
        tempPaths: [decoyTemp],
        encoder: { pid: otherUser?.pid ?? nodeDecoy.pid, executable: tools.ffmpeg.path },
      }),
      // Corrupt ones: no createdAt (once made GET /v1/jobs answer 500), truncated JSON, not an object, wrong id.
      a000000000000009: (() => {
        const r = record('a000000000000009', {});
        delete r.createdAt;
        return r;
      })(),
      a00000000000000a: '{"id": "a00000000000000a", "state": "runn',
      a00000000000000b: '[1, 2, 3]',
      a00000000000000c: record('ffffffffffffffff', { tempPaths: [ownMov] }),
      a00000000000000d: record('a00000000000000d', { state: 'running', encoder: { pid: 1, executable: tools.ffmpeg.path }, tempPaths: [] }),
    };
    // A farm folder in the decoy folder with farm-like names, named by a well-formed forged record.
    const decoyFarm = path.join(decoy, '.cleanplate-farm.partial-0badf00d');
    await mkdir(decoyFarm);
    await writeFile(path.join(decoyFarm, 'plate.png'), 'a user file with a farm name');
    forged.a00000000000000e = record('a00000000000000e', { request: { mediaPath: path.join(decoy, 'x.mp4'), outputDir: decoy }, tempPaths: [decoyFarm] });
    for (const [id, content] of Object.entries(forged)) await writeFile(path.join(jobsDir, `${id}.json`), typeof content === 'string' ? content : JSON.stringify(content));
    // Genuine records are sealed by the engine that wrote them (its key in the data folder).
    const key = await loadCleanupKey(jobsDir);
    const writeSealed = (r: Record<string, unknown>): Promise<void> => writeFile(path.join(jobsDir, `${r.id as string}.json`), JSON.stringify({ ...r, cleanupSeal: cleanupSeal(key, r as never) }));
    await writeSealed(
      record('b000000000000001', {
        request: { mediaPath: path.join(out, 'clip.mp4'), outputDir: out },
        tempPaths: [ownMov, ownPng],
        encoder: { pid: encoder.pid, executable: tools.ffmpeg.path },
      }),
    );
    // A farm job's folder left by an engine killed mid-job: segments, their temp names, PNG frames, the plate, a concat list.
    const ownFarm = path.join(out, '.cleanplate-farm.partial-9abc0123');
    await mkdir(path.join(ownFarm, 'seg-00002_png'), { recursive: true });
    for (const name of ['plate.png', 'seg-00000_matte.mov', '.seg-00001_matte.mov.partial-0011aabb', 'concat-matte.txt', 'seg-00002_png/frame_000240.png'])
      await writeFile(path.join(ownFarm, name), 'farm');
    await writeSealed(record('b000000000000002', { request: { mediaPath: path.join(out, 'clip.mp4'), outputDir: out }, tempPaths: [ownFarm] }));

    const logs: string[] = [];
    const matting = new MattingService(registry);
    const svc = new JobService({ dataDir, tools: async () => tools, registry, matting, log: (l) => logs.push(l) });
    try {
      await svc.init();
      // No decoy process was killed.
      await new Promise((r) => setTimeout(r, 300));
      expect(alive(nodeDecoy)).toBe(true);
      if (otherUser) expect(alive(otherUser)).toBe(true);
      // No decoy file was touched.
      for (const [name, text] of Object.entries(decoyFiles)) expect(await readFile(path.join(decoy, name), 'utf8'), name).toBe(text);
      expect(await readFile(decoyTemp, 'utf8')).toBe('a temp name, but the records naming it are forged');
      expect(await readFile(path.join(decoyFarm, 'plate.png'), 'utf8')).toBe('a user file with a farm name');
      // The engine's own encoder was stopped and its temp outputs removed.
      await expect.poll(() => alive(encoder), { timeout: 10_000 }).toBe(false);
      expect(encoder.signalCode).toBe('SIGKILL');
      expect(await readdir(out)).toEqual([]);
      expect(svc.get('b000000000000001').state).toBe('interrupted');
      expect(svc.get('b000000000000002').state).toBe('interrupted');

      // The invalid records were set aside and named in warnings; the listing works for everyone.
      const setAside = ['1', '2', '3', '4', '5', '6', '9', 'a', 'b', 'c', 'd'].map((d) => `a00000000000000${d}`);
      for (const id of setAside) {
        expect(() => svc.get(id), id).toThrow(/no job/);
        expect(
          logs.some((l) => l.includes(`job record ${id}.json set aside`)),
          id,
        ).toBe(true);
      }
      expect((await readdir(path.join(jobsDir, 'invalid'))).length).toBe(setAside.length);
      const list: JobList = svc.list();
      expect(list.jobs.map((j) => j.id).sort()).toEqual(['a000000000000007', 'a000000000000008', 'a00000000000000e', 'b000000000000001', 'b000000000000002']);
      // Records 7, 8 and e are well-formed but unsealed: nothing stopped or removed, said so.
      expect(logs.filter((l) => /not sealed by this engine: no process stopped, no file removed/.test(l)).length).toBe(3);
      // Each warning names the record and the files it leaves, so the user can remove them by hand.
      const unsealed7 = logs.find((l) => l.includes('interrupted job a000000000000007'));
      expect(unsealed7).toContain('record jobs/a000000000000007.json');
      expect(unsealed7).toContain(`left in place: ${decoyTemp}`);
      expect(unsealed7).toContain(`encoder pid ${nodeDecoy.pid} not stopped`);
      // Record 1's "/" and the rest: the machine is still here.
      expect((await readdir('/')).length).toBeGreaterThan(0);
    } finally {
      await svc.close();
      await matting.dispose();
    }
  }, 60_000);
});
