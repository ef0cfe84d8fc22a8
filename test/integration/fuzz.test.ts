// The fuzz suite: seeded malformed input against a real engine on 127.0.0.1 (images, JSON
// bodies, multipart, job ranges, output paths, raw HTTP, live WebSocket frames and messages).
// Every answer must be a 2xx, or a 4xx with a JSON {error:{code,message}} whose code is specific
// (never `internal`); nothing may hang, and the engine must still answer health afterwards.
// CLEANPLATE_FUZZ_SEED reproduces a run; the seed is in every failure message.
import net from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeLiveFrame } from '../../src/shared/live-frame.js';
import { makeClip, type GeneratedClip } from '../support/clips.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { brokenJsonText, mutateBytes, mutateObject, randomJson, Rng } from '../support/fuzz.js';
import { pngClaimingSize, texturedPlate, toJpeg, toPng } from '../support/images.js';
import { messageOf } from '../../src/shared/error-message.js';

const SEED = Number(process.env.CLEANPLATE_FUZZ_SEED ?? 20261206);
const REQUEST_TIMEOUT_MS = 20_000;
const W = 64;
const H = 48;

let t: TestEngine;
let dir: string;
let clip: GeneratedClip;
let png: Buffer;
let jpeg: Buffer;
let plateId: string;
const failures: string[] = [];
const counts: Record<string, number> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-fuzz-'));
  t = await startTestEngine({ warmUp: false });
  clip = await makeClip(dir, 'clip', { rate: '25', frames: 12 });
  png = await toPng(texturedPlate(W, H, 3));
  jpeg = await toJpeg(texturedPlate(W, H, 4));
  plateId = ((await (await t.api('/v1/backgrounds', { method: 'POST', body: png, headers: { 'content-type': 'image/png' } })).json()) as { id: string }).id;
  await writeFile(path.join(dir, 'a-file.txt'), 'not a folder');
});
afterAll(async () => {
  await t?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Sends one request and checks its answer; records a failure instead of throwing. */
async function probe(category: string, label: string, route: string, init: RequestInit): Promise<void> {
  counts[category] = (counts[category] ?? 0) + 1;
  const where = `[seed ${SEED}] ${category} ${label}: ${init.method ?? 'GET'} ${route}`;
  let res: Response;
  try {
    res = await t.api(route, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    failures.push(`${where}: no answer (${messageOf(err)})`);
    return;
  }
  const text = await res.text().catch(() => '');
  if (res.status === 201 && route === '/v1/jobs') {
    const id = (JSON.parse(text) as { id: string }).id;
    await t.api(`/v1/jobs/${id}`, { method: 'DELETE' }); // accepted: do not spend the run on it
  }
  if (res.status < 400) return;
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  if (res.status >= 500 || typeof code !== 'string' || !/^[a-z][a-z_]+$/.test(code) || code === 'internal' || !(res.headers.get('content-type') ?? '').startsWith('application/json')) {
    failures.push(`${where}: ${res.status} ${text.slice(0, 300)}`);
  }
}

/** Runs `n` cases made by `make`, a few at a time. */
async function run(n: number, make: (rng: Rng, i: number) => Promise<void>, rng: Rng, parallel = 4): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < n; i = next++) await make(rng, i);
    }),
  );
}

function multipart(parts: { name: string; filename?: string; type?: string; body: Buffer | string }[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const validJob = (): Record<string, unknown> => ({
  mediaPath: clip.path,
  range: { in: 0, out: 3, unit: 'frames' },
  background: { imagePath: clip.platePath },
  outputs: ['matte'],
  outputDir: path.join(dir, 'out'),
});

describe(`fuzz (seed ${SEED})`, () => {
  it('images: mutated, noisy and oversized-header PNG/JPEG as uploads and raw bodies', async () => {
    await run(
      130,
      async (rng, i) => {
        const source = rng.pick([png, jpeg]);
        const bytes = i % 13 === 0 ? pngClaimingSize(rng.pick([8193, 20000, 65535, 2 ** 31 - 1]), rng.int(1, 70000)) : mutateBytes(rng, source);
        if (i % 2 === 0) {
          const fd = new FormData();
          fd.append('image', new Blob([bytes], { type: 'image/png' }), 'f.png');
          if (rng.next() < 0.5) fd.append('background', new Blob([mutateBytes(rng, png)], { type: 'image/png' }), 'b.png');
          else fd.append('backgroundId', rng.next() < 0.7 ? plateId : String(randomJson(rng)));
          await probe('images', `#${i}`, '/v1/matte', { method: 'POST', body: fd });
        } else {
          await probe('images', `#${i}`, '/v1/backgrounds', { method: 'POST', body: bytes, headers: { 'content-type': rng.pick(['image/png', 'image/jpeg', 'image/webp', 'image/x-nonsense']) } });
        }
      },
      new Rng(SEED),
    );
  }, 180_000);

  it('JSON bodies: mutated job and plate requests, random values, broken JSON text', async () => {
    await run(
      130,
      async (rng, i) => {
        const route = i % 3 === 0 ? '/v1/backgrounds' : '/v1/jobs';
        const base = route === '/v1/jobs' ? { ...validJob(), mediaPath: path.join(dir, 'missing.mp4') } : { mediaPath: clip.path, timeSeconds: 0.1 };
        const r = rng.next();
        const body = r < 0.6 ? JSON.stringify(mutateObject(rng, base)) : r < 0.8 ? JSON.stringify(randomJson(rng)) : brokenJsonText(rng, JSON.stringify(base));
        await probe('json', `#${i}`, route, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      },
      new Rng(SEED + 1),
    );
  }, 180_000);

  it('multipart: wrong boundaries, cut bodies, repeated and unknown fields, odd text fields', async () => {
    await run(
      80,
      async (rng, i) => {
        const boundary = `b${rng.int(0, 1e9)}`;
        const parts: { name: string; filename?: string; type?: string; body: Buffer | string }[] = [{ name: 'image', filename: 'f.png', type: 'image/png', body: png }];
        const extra = rng.int(0, 4);
        for (let k = 0; k < extra; k++) {
          parts.push(
            rng.pick([
              { name: 'image', filename: 'again.png', type: 'image/png', body: png },
              { name: 'background', filename: 'b.png', type: 'image/png', body: mutateBytes(rng, png) },
              { name: 'backgroundId', body: rng.next() < 0.5 ? plateId : String(randomJson(rng)) },
              { name: 'outputs', body: String(rng.pick(['alpha,composite', 'alpha,alpha', '', 'everything', ',,,'])) },
              { name: 'compositeColor', body: String(rng.pick(['#00ff00', '#zzz', '', 'red', '#12345678'])) },
              { name: 'model', body: String(rng.pick(['plate', '', 'nope', '../../x'])) },
              { name: 'align', body: String(rng.pick(['auto', 'on', 'off', 'sideways'])) },
              { name: 'x'.repeat(rng.int(1, 300)), body: 'v' },
              { name: 'unknownFile', filename: 'u.bin', body: rng.bytes(64) },
            ]),
          );
        }
        let body = multipart(parts, boundary);
        let type = `multipart/form-data; boundary=${boundary}`;
        switch (rng.int(0, 5)) {
          case 0:
            body = body.subarray(0, rng.int(0, body.length - 1)); // cut off
            break;
          case 1:
            type = `multipart/form-data; boundary=other${boundary}`; // boundary not in the body
            break;
          case 2:
            type = 'multipart/form-data'; // no boundary at all
            break;
          case 3:
            body = Buffer.concat([rng.bytes(rng.int(1, 100)), body]); // preamble noise
            break;
          case 4:
            body = Buffer.from(body.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'); // bare newlines
            break;
          default:
            for (let k = 0; k < 30; k++) parts.push({ name: `f${k}`, body: 'x' }); // over the part limit
            body = multipart(parts, boundary);
        }
        await probe('multipart', `#${i}`, '/v1/matte', { method: 'POST', body, headers: { 'content-type': type } });
      },
      new Rng(SEED + 2),
    );
  }, 180_000);

  it('job ranges: random in/out/unit on a real clip', async () => {
    await run(
      60,
      async (rng, i) => {
        const r = rng.next();
        const range =
          r < 0.4
            ? { in: randomJson(rng), out: randomJson(rng), unit: rng.pick(['frames', 'seconds', 'timecode', 'parsecs', undefined]) }
            : r < 0.8
              ? { in: rng.pick([-5, 0, 3, 11, 12, 13, 1e9, 0.5, 2 ** 53]), out: rng.pick([-1, 0, 2, 11, 12, 400, 1e308, 0.49]), unit: rng.pick(['frames', 'seconds']) }
              : randomJson(rng);
        await probe('ranges', `#${i} ${JSON.stringify(range).slice(0, 80)}`, '/v1/jobs', {
          method: 'POST',
          body: JSON.stringify({ ...validJob(), range }),
          headers: { 'content-type': 'application/json' },
        });
      },
      new Rng(SEED + 3),
    );
  }, 180_000);

  it('output paths: relative, files, devices, NUL, too long, unwritable', async () => {
    const long = path.join(dir, 'x'.repeat(300), 'y'.repeat(300));
    const candidates = [
      'out',
      './out',
      '../out',
      '~/out',
      '',
      ' ',
      '/dev/null',
      '/proc/self/x',
      path.join(dir, 'a-file.txt'),
      path.join(dir, 'a-file.txt', 'sub'),
      `${dir}/bad\u0000name`,
      long,
      path.join(dir, 'ok', 'é 🙂'),
      'C:\\Users\\x',
      42,
      null,
      ['a'],
      { p: 1 },
    ];
    await run(
      50,
      async (rng, i) => {
        const outputDir = rng.pick(candidates);
        const mediaPath = rng.next() < 0.8 ? clip.path : rng.pick(['clip.mp4', `${clip.path}\u0000.txt`, dir, '/dev/zero']);
        await probe('paths', `#${i} ${JSON.stringify(outputDir).slice(0, 60)}`, '/v1/jobs', {
          method: 'POST',
          body: JSON.stringify({ ...validJob(), mediaPath, outputDir }),
          headers: { 'content-type': 'application/json' },
        });
      },
      new Rng(SEED + 4),
    );
  }, 180_000);

  it('raw HTTP: oversized headers, broken request lines and bodies get JSON errors', async () => {
    const { port } = new URL(t.url);
    const auth = `Authorization: Bearer ${t.token}\r\n`;
    const cases = [
      `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}${Array.from({ length: 3000 }, (_, k) => `X-${k}: v`).join('\r\n')}\r\n\r\n`,
      'GARBAGE\r\n\r\n',
      'GET /v1/health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n',
      `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n`,
      `POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}`,
      `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Length: -1\r\n\r\n`,
      `GET /%%%% HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}\r\n`,
      `GET /v1/jobs/${'%'.repeat(3)}zz HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}\r\n`,
    ];
    for (const [i, raw] of cases.entries()) {
      counts.http = (counts.http ?? 0) + 1;
      const answer = await new Promise<string>((resolve) => {
        let got = '';
        const s = net.connect(Number(port), '127.0.0.1', () => s.write(raw));
        s.on('data', (c: Buffer) => (got += c.toString('latin1')));
        s.on('close', () => resolve(got));
        s.on('error', () => undefined);
        s.setTimeout(REQUEST_TIMEOUT_MS, () => (s.destroy(), resolve(got || 'TIMEOUT')));
        setTimeout(() => s.end(), 2000); // half-close: the engine answers what it has
      });
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      let code: unknown;
      try {
        code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
      } catch {
        code = undefined;
      }
      if (!(status >= 400 && status < 500 && typeof code === 'string' && code !== 'internal')) failures.push(`[seed ${SEED}] http #${i}: ${answer.slice(0, 200)}`);
    }
  }, 120_000);

  it('live WebSocket: random binary frames and text messages', async () => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/live`, ['cleanplate-live.v1', `cleanplate-token.${t.token}`]);
    const inbox: { type: string; code?: string }[] = [];
    let waiter: (() => void) | undefined;
    let closed: number | undefined;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      inbox.push(JSON.parse(data.toString()) as { type: string; code?: string });
      waiter?.();
    });
    ws.on('close', (code) => (closed = code));
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    const nextMessage = (from: number): Promise<boolean> =>
      new Promise((resolve) => {
        if (inbox.length > from) return resolve(true);
        const timer = setTimeout(() => resolve(false), 10_000);
        waiter = () => {
          if (inbox.length > from) {
            clearTimeout(timer);
            resolve(true);
          }
        };
      });
    ws.send(JSON.stringify({ type: 'open', backgroundId: plateId, width: W, height: H, requestId: 'fuzz' }));
    expect(await nextMessage(0)).toBe(true);
    const opened = inbox[0] as unknown as { type: string; sessionId: number };
    expect(opened.type).toBe('opened');

    const rng = new Rng(SEED + 5);
    for (let i = 0; i < 90; i++) {
      counts.wsBinary = (counts.wsBinary ?? 0) + 1;
      const header = {
        sessionId: rng.next() < 0.7 ? opened.sessionId : rng.int(0, 2 ** 32 - 1),
        seq: rng.int(0, 2 ** 32 - 1),
        timestamp: rng.pick([Date.now(), 0, -1, 1e300]),
        format: rng.pick(['rgba', 'jpeg', 'png', 'rgb'] as const),
        ...(rng.next() < 0.3 ? { captureMs: rng.pick([0, 1, 70000, -5, NaN]) } : {}),
        width: rng.pick([W, 0, 1, 65535, 2 ** 32 - 1]),
        height: rng.pick([H, 0, 1, 65535]),
      };
      const payload = rng.pick([png, jpeg, rng.bytes(rng.int(0, 256)), Buffer.alloc(W * H * 4), Buffer.alloc(W * H * 3)]);
      const frame = Buffer.from(encodeLiveFrame(header, payload));
      ws.send(rng.next() < 0.5 ? frame : mutateBytes(rng, frame));
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 40; i++) {
      counts.wsText = (counts.wsText ?? 0) + 1;
      const r = rng.next();
      const valid = rng.pick([
        { type: 'open', backgroundId: plateId, width: W, height: H },
        { type: 'stats', sessionId: opened.sessionId },
        { type: 'watch', sessionId: 999 },
        { type: 'close', sessionId: 12345 },
      ]);
      const text = r < 0.5 ? JSON.stringify(mutateObject(rng, valid)) : r < 0.8 ? JSON.stringify(randomJson(rng)) : brokenJsonText(rng, JSON.stringify(valid));
      const before = inbox.length;
      ws.send(text);
      if (!(await nextMessage(before))) failures.push(`[seed ${SEED}] ws text #${i}: no answer to ${text.slice(0, 120)}`);
    }
    for (const m of inbox) if (m.type === 'error' && (m.code === 'internal' || !m.code)) failures.push(`[seed ${SEED}] ws: ${JSON.stringify(m)}`);
    expect(closed, 'the connection stays open').toBeUndefined();
    ws.close();
  }, 120_000);

  it(`no crash, hang, 5xx or vague refusal in ${'>'}= 500 cases, and the engine still answers`, async () => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(`fuzz seed ${SEED}: ${total} cases ${JSON.stringify(counts)}, ${failures.length} failures`);
    expect(total).toBeGreaterThanOrEqual(500);
    expect(failures.slice(0, 15)).toEqual([]);
    const started = performance.now();
    expect((await t.api('/v1/health')).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5000);
    await mkdir(path.join(dir, 'out'), { recursive: true });
  });
});
