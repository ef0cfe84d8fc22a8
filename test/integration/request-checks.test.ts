// Requests refused (or accepted) at request time, found by the fault run of issue 14: relative
// paths, an output folder Node's recursive mkdir never returns on, a symlinked output folder,
// and Node's own parser errors, which must come back as JSON like every other error.
import net from 'node:net';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/shared/api.js';
import { makeClip, type GeneratedClip } from '../support/clips.js';
import { errorOf, startTestEngine, type TestEngine } from '../support/engine.js';

let t: TestEngine;
let dir: string;
let clip: GeneratedClip;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-checks-'));
  t = await startTestEngine({ warmUp: false });
  clip = await makeClip(dir, 'clip', { rate: '25', frames: 6 });
});
afterAll(async () => {
  await t?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (route: string, body: unknown): Promise<Response> => t.api(route, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const job = (fields: Record<string, unknown>): Record<string, unknown> => ({
  mediaPath: clip.path,
  range: { in: 0, out: 3, unit: 'frames' },
  background: { imagePath: clip.platePath },
  outputs: ['matte'],
  ...fields,
});

describe('request-time checks', () => {
  it("refuses relative paths (they would resolve against the engine's working folder) and NUL bytes", async () => {
    for (const [route, body, field] of [
      ['/v1/jobs', job({ outputDir: 'out' }), 'outputDir'],
      ['/v1/jobs', job({ mediaPath: 'clip.mp4' }), 'mediaPath'],
      ['/v1/jobs', job({ background: { imagePath: './plate.png' } }), 'background.imagePath'],
      ['/v1/jobs', job({ outputDir: `${dir}/a\u0000b` }), 'outputDir'],
      ['/v1/backgrounds', { mediaPath: '../clip.mp4' }, 'mediaPath'],
    ] as const) {
      const res = await post(route, body);
      expect(res.status, field).toBe(400);
      const err = await errorOf(res);
      expect(err.code).toBe('bad_field');
      expect(err.message).toContain(field);
    }
    expect(await readdir(process.cwd())).not.toContain('out');
  });

  it("answers an output folder that cannot be made at once (Node's recursive mkdir loops on /proc/self/x)", async () => {
    const res = await t.api('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify(job({ outputDir: '/proc/self/x' })),
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).code).toBe('output_dir_unwritable');
  });

  it('accepts a symlinked output folder and writes the outputs through it', async () => {
    const real = path.join(dir, 'real-out');
    await mkdir(real);
    const link = path.join(dir, 'linked-out');
    await symlink(real, link);
    const res = await post('/v1/jobs', job({ outputDir: link }));
    expect(res.status).toBe(201);
    const created = (await res.json()) as JobRecord;
    await expect.poll(async () => ((await (await t.api(`/v1/jobs/${created.id}`)).json()) as JobRecord).state, { timeout: 60_000 }).toBe('done');
    const done = (await (await t.api(`/v1/jobs/${created.id}`)).json()) as JobRecord;
    expect(done.outputs.length).toBe(1);
    expect(path.dirname(done.outputs[0]!.path)).toBe(link);
    expect(await readdir(real)).toEqual([path.basename(done.outputs[0]!.path)]);
  });

  it("answers Node's parser refusals as JSON: 431 for oversized headers, 400 for a broken request", async () => {
    const { port } = new URL(t.url);
    const send = (raw: string): Promise<string> =>
      new Promise((resolve) => {
        let got = '';
        const s = net.connect(Number(port), '127.0.0.1', () => s.write(raw));
        s.on('data', (c: Buffer) => (got += c.toString('latin1')));
        s.on('close', () => resolve(got));
        s.on('error', () => undefined);
      });
    const big = await send(`GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'headers_too_large' } });
    const broken = await send('GARBAGE\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(broken.slice(broken.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'bad_request' } });
  });
});
