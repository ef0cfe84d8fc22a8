// models:fetch against a real HTTP server on 127.0.0.1 that serves the contract fixture, honours
// Range and If-Range (ETag = the body's sha256, as storage servers send), and can drop or stall
// the connection half-way.
import { execFile } from 'node:child_process';
import { readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/engine/matting/manifest.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { modelIdentity } from '../../src/engine/farm/model-identity.js';
import { FrameSequence } from '../../src/engine/matting/types.js';
import { addModel } from '../../src/engine/models/add-model.js';
import { downloadToPart } from '../../src/engine/models/download.js';
import { fetchModels, partFileFor } from '../../src/engine/models/fetch-model.js';
import { buildRvmOfficialFixture } from '../support/rvm-official-fixture.js';
import { fixtureFor, HD_ID, K4_ID, makeModelsDir, removeTempDirs, sha256, snapshot, tempDir } from '../support/bgmv2-models.js';

const run = promisify(execFile);
const RVM_OFFICIAL = 'rvm-mobilenetv3';

async function manifestEntriesIn(dir: string): Promise<ManifestEntry[]> {
  return (JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { models: ManifestEntry[] }).models;
}

interface Served {
  body: Uint8Array;
  /** Send this many bytes of the body, then cut (drop) or go silent (stall). */
  cutAt?: number;
  cut?: 'drop' | 'stall';
  /** Answer 200 with the whole body even to Range requests. */
  ignoreRange?: boolean;
  /** Send no ETag (nothing a client could resume against). */
  noValidator?: boolean;
}

/** A file server on loopback: path -> what to serve; records each request's Range header. */
class ModelServer {
  readonly files = new Map<string, Served>();
  /** path -> where it redirects (the official URLs redirect to a storage host). */
  readonly redirects = new Map<string, string>();
  readonly requests: { path: string; range: string | undefined }[] = [];
  /** The If-Range header of each request, in the same order. */
  readonly ifRanges: (string | undefined)[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  private readonly stalled = new Set<http.ServerResponse>();

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(p: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${p}`;
  }

  async stop(): Promise<void> {
    for (const res of this.stalled) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = req.url ?? '';
    this.requests.push({ path: p, range: req.headers.range });
    const ifRange = req.headers['if-range'];
    this.ifRanges.push(Array.isArray(ifRange) ? ifRange.join(', ') : ifRange);
    const redirect = this.redirects.get(p);
    if (redirect) {
      res.writeHead(302, { location: redirect }).end();
      return;
    }
    const served = this.files.get(p);
    if (!served) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const total = served.body.length;
    const etag = served.noValidator ? undefined : `"${sha256(served.body)}"`;
    const validator = etag ? { etag } : {};
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    // If-Range that does not match the current version: the Range is ignored (RFC 9110 13.1.5).
    const stale = ifRange !== undefined && ifRange !== etag;
    if (m && !served.ignoreRange && !stale) {
      start = Number(m[1]);
      if (start >= total) {
        res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': total - start, 'content-range': `bytes ${start}-${total - 1}/${total}`, 'accept-ranges': 'bytes', ...validator });
    } else {
      res.writeHead(200, { 'content-length': total, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream', ...validator });
    }
    const cutAt = served.cutAt;
    if (cutAt === undefined || cutAt <= start || cutAt >= total) {
      res.end(served.body.subarray(start));
      return;
    }
    // One cut per configuration: the next request gets the rest.
    served.cutAt = undefined;
    res.write(served.body.subarray(start, cutAt), () => {
      if (served.cut === 'stall') this.stalled.add(res);
      else setTimeout(() => res.socket?.destroy(), 50);
    });
  }
}

describe('models:fetch over loopback HTTP', () => {
  const server = new ModelServer();
  let fixture: Uint8Array;
  let fixture4k: Uint8Array;
  let downloadsDir: string;

  /** A models folder whose two preset entries point at the local server. */
  const modelsDir = (sha: { hd?: string | null; k4?: string | null } = {}, files: Record<string, Uint8Array> = {}) =>
    makeModelsDir(files, (models: ManifestEntry[]) =>
      models.map((m) =>
        m.id === HD_ID
          ? { ...m, url: server.url('/hd.onnx'), sha256: sha.hd === undefined ? sha256(fixture) : sha.hd }
          : m.id === K4_ID
            ? { ...m, url: server.url('/4k.onnx'), sha256: sha.k4 === undefined ? sha256(fixture4k) : sha.k4 }
            : m,
      ),
    );
  const partFiles = async () => (await readdir(downloadsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.part'));

  beforeAll(async () => {
    await server.start();
    fixture = await fixtureFor(HD_ID);
    fixture4k = await fixtureFor(K4_ID);
  });
  afterAll(async () => {
    await server.stop();
    await removeTempDirs();
  });
  beforeEach(async () => {
    server.files.clear();
    server.redirects.clear();
    server.files.set('/hd.onnx', { body: fixture });
    server.files.set('/4k.onnx', { body: fixture4k });
    server.requests.length = 0;
    server.ifRanges.length = 0;
    downloadsDir = await tempDir('cleanplate-downloads-');
  });

  it('downloads, verifies the sha256 and installs both presets of "bgmv2"; a second run finds them', async () => {
    const dir = await modelsDir();
    const manifestBefore = await readFile(path.join(dir, 'manifest.json'), 'utf8');
    const progress: number[] = [];
    const outcomes = await fetchModels('bgmv2', { modelsDir: dir, downloadsDir, onProgress: (_id, p) => progress.push(p.received) });
    expect(outcomes.map((o) => [o.id, o.status])).toEqual([
      [HD_ID, 'fetched'],
      [K4_ID, 'fetched'],
    ]);
    expect(sha256(await readFile(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx')))).toBe(sha256(fixture));
    expect(sha256(await readFile(path.join(dir, 'bgmv2-mobilenetv2-4k.onnx')))).toBe(sha256(fixture4k));
    expect(await readFile(path.join(dir, 'manifest.json'), 'utf8')).toBe(manifestBefore);
    expect(progress.at(-1)).toBe(fixture4k.length);
    expect(await partFiles()).toEqual([]);
    expect(Object.keys(await snapshot(dir))).toEqual(['bgmv2-mobilenetv2-4k.onnx', 'bgmv2-mobilenetv2-hd.onnx', 'manifest.json']);

    server.requests.length = 0;
    const again = await fetchModels(HD_ID, { modelsDir: dir, downloadsDir });
    expect(again).toEqual([{ id: HD_ID, status: 'present', file: path.join(dir, 'bgmv2-mobilenetv2-hd.onnx'), verified: true }]);
    expect(server.requests).toEqual([]);
  });

  it('a connection dropped half-way leaves models/ as it was; the next run resumes with a Range request', async () => {
    const dir = await modelsDir();
    const before = await snapshot(dir);
    const half = Math.floor(fixture.length / 2);
    server.files.set('/hd.onnx', { body: fixture, cutAt: half, cut: 'drop' });
    await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir })).rejects.toThrow(
      /download of http:\/\/127\.0\.0\.1:\d+\/hd\.onnx stopped after .* MB of .* MB \(.*\); run the same command again to resume/,
    );
    expect(await snapshot(dir)).toEqual(before);
    const [part] = await partFiles();
    expect((await stat(path.join(downloadsDir, part!))).size).toBe(half);

    const [outcome] = await fetchModels(HD_ID, { modelsDir: dir, downloadsDir });
    expect(outcome).toMatchObject({ status: 'fetched', resumedFrom: half, sha256: sha256(fixture) });
    expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${half}-`]);
    expect(sha256(await readFile(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx')))).toBe(sha256(fixture));
    expect(await partFiles()).toEqual([]);
  });

  it('follows a redirect, as the official release URLs do, and resumes through it', async () => {
    server.redirects.set('/release/hd.onnx', '/hd.onnx');
    const dir = await makeModelsDir({}, (models) => models.map((m) => (m.id === HD_ID ? { ...m, url: server.url('/release/hd.onnx'), sha256: sha256(fixture) } : m)));
    const third = Math.floor(fixture.length / 3);
    server.files.set('/hd.onnx', { body: fixture, cutAt: third, cut: 'drop' });
    await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir })).rejects.toThrow(/stopped after/);
    const [outcome] = await fetchModels(HD_ID, { modelsDir: dir, downloadsDir });
    expect(outcome).toMatchObject({ status: 'fetched', resumedFrom: third });
    expect(server.requests).toEqual([
      { path: '/release/hd.onnx', range: undefined },
      { path: '/hd.onnx', range: undefined },
      { path: '/release/hd.onnx', range: `bytes=${third}-` },
      { path: '/hd.onnx', range: `bytes=${third}-` },
    ]);
    expect(sha256(await readFile(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx')))).toBe(sha256(fixture));
  });

  it('a part file that is already whole (a run stopped before installing it) is installed without downloading again', async () => {
    const dir = await modelsDir();
    const entry = (await manifestEntriesIn(dir)).find((m) => m.id === HD_ID)!;
    await writeFile(partFileFor(entry, downloadsDir), fixture);
    const [outcome] = await fetchModels(HD_ID, { modelsDir: dir, downloadsDir });
    expect(outcome).toMatchObject({ status: 'fetched', resumedFrom: fixture.length });
    expect(server.requests).toEqual([]); // its sha256 proves it whole: no request at all
    expect(sha256(await readFile(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx')))).toBe(sha256(fixture));
  });

  it('a resume carries If-Range: a file that changed on the server comes back whole, never spliced from two versions', async () => {
    const v1 = new Uint8Array(200_000).map((_, i) => i % 251);
    const v2 = new Uint8Array(200_000).map((_, i) => (i * 7) % 253);
    const partFile = path.join(downloadsDir, 'changing.bin.part');
    server.files.set('/changing.bin', { body: v1, cutAt: 80_000, cut: 'drop' });
    await expect(downloadToPart({ url: server.url('/changing.bin'), partFile })).rejects.toThrow(/stopped after/);
    expect((await stat(partFile)).size).toBe(80_000);
    // The file is replaced on the server before the resume.
    server.files.set('/changing.bin', { body: v2 });
    const result = await downloadToPart({ url: server.url('/changing.bin'), partFile });
    expect(server.ifRanges).toEqual([undefined, `"${sha256(v1)}"`]);
    expect(server.requests.map((r) => r.range)).toEqual([undefined, 'bytes=80000-']);
    expect(result).toMatchObject({ resumedFrom: 0, bytes: v2.length, sha256: sha256(v2) });
    expect(sha256(await readFile(partFile))).toBe(sha256(v2));

    // The same version resumes; a server that gives no validator is not resumed against.
    server.files.set('/same.bin', { body: v1, cutAt: 50_000, cut: 'drop' });
    const samePart = path.join(downloadsDir, 'same.bin.part');
    await expect(downloadToPart({ url: server.url('/same.bin'), partFile: samePart })).rejects.toThrow(/stopped after/);
    expect(await downloadToPart({ url: server.url('/same.bin'), partFile: samePart })).toMatchObject({ resumedFrom: 50_000, sha256: sha256(v1) });
    server.files.set('/bare.bin', { body: v1, cutAt: 50_000, cut: 'drop', noValidator: true });
    const barePart = path.join(downloadsDir, 'bare.bin.part');
    await expect(downloadToPart({ url: server.url('/bare.bin'), partFile: barePart })).rejects.toThrow(/stopped after/);
    server.requests.length = 0;
    expect(await downloadToPart({ url: server.url('/bare.bin'), partFile: barePart })).toMatchObject({ resumedFrom: 0, sha256: sha256(v1) });
    expect(server.requests.map((r) => r.range)).toEqual([undefined]);
  });

  it('a server that stalls is given up on after the idle timeout, and the part kept for later', async () => {
    const dir = await modelsDir();
    const before = await snapshot(dir);
    server.files.set('/hd.onnx', { body: fixture, cutAt: 1000, cut: 'stall' });
    await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir, idleTimeoutMs: 300 })).rejects.toThrow(/stopped after .*\(no data for 0\.3 s\); run the same command again to resume/);
    expect(await snapshot(dir)).toEqual(before);
    const [part] = await partFiles();
    expect((await stat(path.join(downloadsDir, part!))).size).toBe(1000);
  });

  it('--restart discards the part; a server that ignores Range gets a clean restart too', async () => {
    const dir = await modelsDir();
    server.files.set('/hd.onnx', { body: fixture, cutAt: 5000, cut: 'drop' });
    await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir })).rejects.toThrow(/stopped after/);
    server.files.set('/hd.onnx', { body: fixture, ignoreRange: true });
    const [outcome] = await fetchModels(HD_ID, { modelsDir: dir, downloadsDir });
    expect(outcome).toMatchObject({ status: 'fetched', resumedFrom: 0, sha256: sha256(fixture) });
    expect(server.requests.at(-1)!.range).toBe('bytes=5000-');

    const other = await modelsDir();
    server.files.set('/hd.onnx', { body: fixture, cutAt: 5000, cut: 'drop' });
    await expect(fetchModels(HD_ID, { modelsDir: other, downloadsDir })).rejects.toThrow(/stopped after/);
    server.requests.length = 0;
    await fetchModels(HD_ID, { modelsDir: other, downloadsDir, restart: true });
    expect(server.requests.map((r) => r.range)).toEqual([undefined]);
  });

  it('a sha256 mismatch is refused: models/ as it was, the download discarded', async () => {
    const dir = await modelsDir({ hd: sha256(new Uint8Array([1, 2, 3])) });
    const before = await snapshot(dir);
    await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir })).rejects.toThrow(/sha256 of the download is [0-9a-f]{64}, the manifest expects [0-9a-f]{64}; the download was discarded/);
    expect(await snapshot(dir)).toEqual(before);
    expect(await partFiles()).toEqual([]);
  });

  it('an unknown sha256 needs --accept-unverified; then the file is checked, installed and its sha256 recorded', async () => {
    const dir = await modelsDir({ hd: null });
    const before = await snapshot(dir);
    await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir })).rejects.toThrow(/no sha256 for "bgmv2-mobilenetv2-hd".*--accept-unverified/);
    expect(server.requests).toEqual([]);
    expect(await snapshot(dir)).toEqual(before);

    const [outcome] = await fetchModels(HD_ID, { modelsDir: dir, downloadsDir, acceptUnverified: true });
    expect(outcome).toMatchObject({ status: 'fetched', recordedSha256: true, sha256: sha256(fixture) });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { models: ManifestEntry[] };
    expect(manifest.models.filter((m) => m.id === HD_ID)).toHaveLength(1);
    expect(manifest.models.find((m) => m.id === HD_ID)!.sha256).toBe(sha256(fixture));
    expect((await fetchModels(HD_ID, { modelsDir: dir, downloadsDir }))[0]).toMatchObject({ status: 'present', verified: true });
  });

  it('an unverified download that is not a BGMv2 model (a web page, a truncated file, wrong inputs) is discarded', async () => {
    for (const [body, message] of [
      [new TextEncoder().encode('<!DOCTYPE html><html>Sign in to continue</html>'), /is not an ONNX model/],
      [fixture.subarray(0, Math.floor(fixture.length * 0.6)), /is not an ONNX model/],
      [await fixtureFor(HD_ID, { inputNames: ['input', 'background'] }), /expected inputs "src" and "bgr"/],
    ] as const) {
      const dir = await modelsDir({ hd: null });
      const before = await snapshot(dir);
      server.files.set('/hd.onnx', { body });
      await expect(fetchModels(HD_ID, { modelsDir: dir, downloadsDir, acceptUnverified: true })).rejects.toThrow(message);
      expect(await snapshot(dir)).toEqual(before);
      expect(await partFiles()).toEqual([]);
    }
  });

  it('offline, a missing file, a file already there: each a clear message, models/ untouched', async () => {
    // A port nothing listens on: connection refused, as when offline or firewalled.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = await makeModelsDir({}, (models) => models.map((m) => (m.id === HD_ID ? { ...m, url: `http://127.0.0.1:${deadPort}/hd.onnx`, sha256: sha256(fixture) } : m)));
    const before = await snapshot(offline);
    await expect(fetchModels(HD_ID, { modelsDir: offline, downloadsDir })).rejects.toThrow(
      new RegExp(
        `cannot reach 127\\.0\\.0\\.1:${deadPort} \\(ECONNREFUSED\\); offline\\? download http://127\\.0\\.0\\.1:${deadPort}/hd\\.onnx by hand and run "npm run models:add <file> -- --id ${HD_ID}"`,
      ),
    );
    expect(await snapshot(offline)).toEqual(before);

    const missing = await modelsDir();
    server.files.delete('/hd.onnx');
    await expect(fetchModels(HD_ID, { modelsDir: missing, downloadsDir })).rejects.toThrow(/hd\.onnx: the server answered 404 Not Found/);

    const user = new TextEncoder().encode('my own file');
    const taken = await modelsDir({}, { [HD_ID]: user });
    const takenBefore = await snapshot(taken);
    await expect(fetchModels(HD_ID, { modelsDir: taken, downloadsDir })).rejects.toThrow(/models\/bgmv2-mobilenetv2-hd\.onnx is there but its sha256 .* it was left as it is/);
    expect(await snapshot(taken)).toEqual(takenBefore);

    await expect(fetchModels('plate', { modelsDir: taken, downloadsDir })).rejects.toThrow(/model "plate" has no download URL \(it is built in\)/);
    await expect(fetchModels('nope', { modelsDir: taken, downloadsDir })).rejects.toThrow(/unknown model "nope"; models that can be fetched: bgmv2-mobilenetv2-hd, bgmv2-mobilenetv2-4k/);
  });

  it("after a user's own file under the official name (models:add), the real file still fetches once the user's is moved away", async () => {
    const dir = await modelsDir({ hd: null });
    const mine = await fixtureFor(HD_ID, { weightCount: 1000 });
    const download = path.join(await tempDir('cleanplate-dl-'), 'onnx_mobilenetv2_hd.onnx');
    await writeFile(download, mine);
    expect(await addModel(download, { modelsDir: dir, id: HD_ID })).toMatchObject({ id: HD_ID, origin: 'user' });
    expect((await manifestEntriesIn(dir)).find((m) => m.id === HD_ID)!.sha256).toBeNull();
    expect(await fetchModels(HD_ID, { modelsDir: dir, downloadsDir, acceptUnverified: true })).toMatchObject([{ status: 'present', mine: { source: 'added by hand from onnx_mobilenetv2_hd.onnx' } }]);

    await rename(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx'), path.join(await tempDir('cleanplate-moved-'), 'mine.onnx'));
    expect(await fetchModels(HD_ID, { modelsDir: dir, downloadsDir, acceptUnverified: true })).toMatchObject([{ status: 'fetched', sha256: sha256(fixture), recordedSha256: true }]);
    expect((await manifestEntriesIn(dir)).find((m) => m.id === HD_ID)!.sha256).toBe(sha256(fixture));
    const local = JSON.parse(await readFile(path.join(dir, 'local-files.json'), 'utf8')) as { files: Record<string, unknown> };
    expect(local.files).toEqual({});
    expect((await ModelRegistry.load(dir)).list().find((m) => m.id === HD_ID)!.file).toMatchObject({ origin: 'official', sha256: sha256(fixture) });
  });

  it('"rvm": fetches the authors\' own export (contract checked by running it), which "rvm" then runs in preference to the conversion', async () => {
    const official = buildRvmOfficialFixture();
    server.files.set('/rvm_mobilenetv3_fp32.onnx', { body: official });
    server.files.set('/renamed.onnx', { body: buildRvmOfficialFixture({ phaName: 'alpha' }) });
    server.files.set('/half.onnx', { body: buildRvmOfficialFixture({ float16: true }) });
    const pointAt = (p: string) => (models: ManifestEntry[]) => models.map((m) => (m.id === RVM_OFFICIAL ? { ...m, url: server.url(p) } : m));

    // A wrong contract is refused and discarded; models/ stays as it was.
    for (const [p, message] of [
      ['/renamed.onnx', /the download of rvm-mobilenetv3 is neither the authors' RVM ONNX export nor a conversion .*outputs \[fgr, alpha, r1o.*the download was discarded/],
      ['/half.onnx', /the download of rvm-mobilenetv3: input "src" must be float32.*a float16 export: use the fp32 file.*the download was discarded/],
    ] as const) {
      const dir = await makeModelsDir({}, pointAt(p));
      const before = await snapshot(dir);
      await expect(fetchModels('rvm', { modelsDir: dir, downloadsDir, acceptUnverified: true }), p).rejects.toThrow(message);
      expect(await snapshot(dir), p).toEqual(before);
    }

    const dir = await makeModelsDir({}, pointAt('/rvm_mobilenetv3_fp32.onnx'));
    const registryBefore = (await ModelRegistry.load(dir)).list().find((m) => m.id === 'rvm')!;
    expect(registryBefore.available).toBe(false);
    expect(registryBefore.unavailableReason).toMatch(/run "npm run models:rvm".*or "npm run models:fetch rvm-mobilenetv3" \(the authors' own ONNX export\)/);

    const outcomes = await fetchModels('rvm', { modelsDir: dir, downloadsDir, acceptUnverified: true });
    expect(outcomes).toMatchObject([{ id: RVM_OFFICIAL, status: 'fetched', sha256: sha256(official), recordedSha256: true }]);
    expect(sha256(await readFile(path.join(dir, 'rvm-mobilenetv3-fp32.onnx')))).toBe(sha256(official));

    // With the conversion's file there too, "rvm" runs the authors' export (the stand-in below would not even load).
    await writeFile(path.join(dir, 'rvm.onnx'), 'a converted model');
    const registry = await ModelRegistry.load(dir);
    const rvm = registry.list().find((m) => m.id === 'rvm')!;
    expect(rvm).toMatchObject({ available: true, needsPlate: false, file: { name: 'rvm-mobilenetv3-fp32.onnx', origin: 'official', sha256: sha256(official) } });
    const session = await registry.open('rvm');
    try {
      expect(session.modelId).toBe('rvm');
      const W = 40;
      const H = 24;
      const data = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 7) % 200);
      const sequence = new FrameSequence();
      const first = await session.run({ data, width: W, height: H, channels: 3 }, undefined, { sequence });
      // First frame, zero state: alpha is the red channel, the foreground 1 - src (the fixture's functions).
      for (let i = 0; i < W * H; i++) {
        expect(Math.abs(first.alpha.data[i]! - data[i * 3]!)).toBeLessThanOrEqual(1);
        for (let c = 0; c < 3; c++) expect(Math.abs(first.foreground!.data[i * 4 + c]! - (255 - data[i * 3 + c]!))).toBeLessThanOrEqual(1);
      }
      // Second frame: the state carried the first frame's mean into alpha.
      const mean = data.reduce((a, v) => a + v, 0) / data.length;
      const second = await session.run({ data, width: W, height: H, channels: 3 }, undefined, { sequence });
      expect(Math.abs(second.alpha.data[0]! - Math.min(255, data[0]! + mean))).toBeLessThanOrEqual(1);
    } finally {
      await session.dispose();
    }
  });

  it('"fused": its learned part follows the same preference (the authors\' export when it opens, else the conversion), and "models:fetch fused" gets the export', async () => {
    const official = buildRvmOfficialFixture();
    server.files.set('/rvm_mobilenetv3_fp32.onnx', { body: official });
    const dir = await makeModelsDir({}, (models) => models.map((m) => (m.id === RVM_OFFICIAL ? { ...m, url: server.url('/rvm_mobilenetv3_fp32.onnx') } : m)));
    const before = (await ModelRegistry.load(dir)).list().find((m) => m.id === 'fused')!;
    expect(before.available).toBe(false);
    expect(before.unavailableReason).toMatch(/or "npm run models:fetch rvm-mobilenetv3" \(the authors' own ONNX export\)/);

    expect(await fetchModels('fused', { modelsDir: dir, downloadsDir, acceptUnverified: true })).toMatchObject([{ id: RVM_OFFICIAL, status: 'fetched', sha256: sha256(official) }]);
    // A conversion that would not even open sits beside it: fused runs the export, under its own id.
    await writeFile(path.join(dir, 'rvm.onnx'), 'a converted model');
    const registry = await ModelRegistry.load(dir);
    expect(registry.list().find((m) => m.id === 'fused')).toMatchObject({
      available: true,
      needsPlate: true,
      file: { name: 'rvm-mobilenetv3-fp32.onnx', origin: 'official', sha256: sha256(official) },
    });
    expect(registry.defaultModel).toMatchObject({ id: 'fused', reason: expect.stringContaining('models/rvm-mobilenetv3-fp32.onnx opens') });
    expect((await modelIdentity(registry, 'fused')).sha256).toBe(sha256(official));
    const W = 48;
    const H = 32;
    const plate = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 13) % 180);
    const frame = Uint8Array.from(plate, (v, i) => (Math.floor(i / 3) % W > 20 ? 250 : v));
    const session = await registry.open('fused');
    try {
      expect(session.modelId).toBe('fused');
      const out = await session.run({ data: frame, width: W, height: H, channels: 3 }, { data: plate, width: W, height: H, channels: 3 }, { sequence: new FrameSequence() });
      expect([out.alpha.width, out.alpha.height]).toEqual([W, H]);
    } finally {
      await session.dispose();
    }

    // Without the export, fused runs the conversion again (here the broken one, so it says so).
    await rename(path.join(dir, 'rvm-mobilenetv3-fp32.onnx'), path.join(await tempDir('cleanplate-moved-'), 'x.onnx'));
    const without = (await ModelRegistry.load(dir)).list().find((m) => m.id === 'fused')!;
    expect(without).toMatchObject({ available: false, file: { name: 'rvm.onnx' } });
    expect(without.unavailableReason).toMatch(/models\/rvm.onnx does not open/);
  });

  it('npm run models:fetch: progress on stderr, exit 0; a failure is one sentence and exit 1', async () => {
    const dir = await modelsDir();
    const env = { ...process.env, CLEANPLATE_DATA_DIR: downloadsDir };
    const tsx = path.resolve('node_modules/.bin/tsx');
    const ok = await run(tsx, ['scripts/models-fetch.ts', HD_ID, '--models-dir', dir], { env });
    expect(ok.stdout).toMatch(new RegExp(`${HD_ID}: installed .*bgmv2-mobilenetv2-hd\\.onnx \\(sha256 ${sha256(fixture)}\\)`));
    expect(ok.stderr).toMatch(new RegExp(`${HD_ID}: downloading 1\\.\\d MB\\n[^]*\\] +\\d+/\\d+ 100%.*kB/s.*${HD_ID}`));

    server.files.set('/4k.onnx', { body: fixture4k, cutAt: 4000, cut: 'drop' });
    const failed = await run(tsx, ['scripts/models-fetch.ts', K4_ID, '--models-dir', dir], { env }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/models:fetch: download of .*4k\.onnx stopped after .*; run the same command again to resume; or download .* by hand/);
    expect(await readdir(dir)).not.toContain('bgmv2-mobilenetv2-4k.onnx');
  });
});
