// The answers' schemas (src/shared/api/*): a real engine's answers to every client call fit them
// (the clients check each one), a server that answers otherwise fails as `bad_response` naming the
// field, and the shared engine locator finds a real engine from its engine.json and refuses a
// file the engine did not write.
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { BackgroundListSchema, LIVE_PROTOCOL, MatteResponseSchema } from '../../src/shared/api.js';
import { EngineError, getHealth, getJob, listModels, measureModelSpeed, uploadBackground, type EngineEndpoint } from '../../src/shared/engine-client.js';
import { engineFromConfig, parseEngineConfig } from '../../src/shared/engine-locator.js';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { texturedPlate, toPng, withSquare } from '../support/images.js';

const W = 64;
const H = 48;
const plate = texturedPlate(W, H, 3);
const frame = withSquare(plate, { x: 20, y: 10, size: 20, color: [230, 40, 170] });
const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;

let t: TestEngine;
let ep: EngineEndpoint;
let dir: string;

beforeAll(async () => {
  t = await startTestEngine();
  ep = { url: t.url, token: t.token };
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-wire-'));
});
afterAll(async () => {
  await t?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a real engine's answers fit their schemas", () => {
  it('health, models, speed, plates, a matte and a live session', async () => {
    const health = await getHealth(ep);
    expect(health.models.map((m) => m.id)).toContain('plate');
    const models = await listModels(ep);
    expect(models.models.find((m) => m.id === 'plate')).toMatchObject({ kind: 'plate', needsPlate: true, available: true });
    expect((await measureModelSpeed(ep, 'plate', { width: 32, height: 32 })).model).toBe('plate');
    const stored = await uploadBackground(ep, await toPng(plate));
    expect(stored).toEqual({ id: expect.any(String), width: W, height: H });
    // Routes the shared client does not wrap, checked here the way a client would.
    const list = v.parse(BackgroundListSchema, await (await t.api('/v1/backgrounds')).json());
    expect(list.backgrounds.map((b) => b.id)).toContain(stored.id);
    const form = new FormData();
    form.set('image', new Blob([await toPng(frame)], { type: 'image/png' }), 'f.png');
    form.set('backgroundId', stored.id);
    form.set('outputs', 'alpha,composite');
    const matte = v.parse(MatteResponseSchema, await (await t.api('/v1/matte', { method: 'POST', body: form })).json());
    expect(Object.keys(matte.outputs).sort()).toEqual(['alpha', 'composite']);
    expect(matte.align?.frames).toBe(1);
    const live = await LiveConnection.connect(ep, wsFactory);
    try {
      const info = await live.openSession({ width: W, height: H, backgroundId: stored.id });
      expect(info).toMatchObject({ model: 'plate', width: W, height: H, streamFormat: 'nut' });
      expect((await live.stats(info.sessionId)).received).toBe(0);
      await live.closeSession(info.sessionId);
    } finally {
      live.disconnect();
    }
  });

  it('an error answer keeps its code and message', async () => {
    await expect(getJob(ep, 'nope')).rejects.toMatchObject({ code: 'unknown_job', status: 404 });
  });
});

/** A loopback HTTP server that answers every request with `status` and `body`. */
async function fakeServer(status: number, body: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('answers that do not fit', () => {
  it('fail as bad_response naming the field; an error body without the shape falls back to the status', async () => {
    const wrong = await fakeServer(200, JSON.stringify({ version: '1', uptimeSeconds: 'long' }));
    try {
      const err = await getHealth({ url: wrong.url, token: 'x'.repeat(32) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect(err).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/GET \/v1\/health .*"uptimeSeconds"/) });
    } finally {
      await wrong.close();
    }
    const notJson = await fakeServer(200, '<html>');
    try {
      await expect(listModels({ url: notJson.url, token: 'x'.repeat(32) })).rejects.toMatchObject({ code: 'bad_response', message: expect.stringContaining('not JSON') });
    } finally {
      await notJson.close();
    }
    const odd = await fakeServer(500, JSON.stringify({ error: 'boom' }));
    try {
      await expect(listModels({ url: odd.url, token: 'x'.repeat(32) })).rejects.toMatchObject({ code: 'http_error', status: 500 });
    } finally {
      await odd.close();
    }
  });

  it('a live message outside the protocol ends the connection with the reason', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => LIVE_PROTOCOL });
    wss.on('connection', (socket) => socket.on('message', () => socket.send(JSON.stringify({ type: 'opened', requestId: '1', sessionId: 'one' }))));
    await new Promise((resolve) => wss.once('listening', resolve));
    try {
      const live = await LiveConnection.connect({ url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, token: 'x'.repeat(32) }, wsFactory);
      const closed = new Promise<string>((resolve) => (live.onClose = resolve));
      await expect(live.openSession({ width: W, height: H })).rejects.toMatchObject({ code: 'engine_unreachable', message: expect.stringContaining('"sessionId"') });
      expect(await closed).toMatch(/a live message does not fit/);
      expect(live.open).toBe(false);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});

describe('finding the running engine (src/shared/engine-locator.ts)', () => {
  it('from engine.json: connected to a real engine; a file it did not write or a half-written one is not a running engine', async () => {
    const file = path.join(dir, 'engine.json');
    await writeFile(file, JSON.stringify({ port: Number(new URL(t.url).port), token: t.token, pid: process.pid, version: 'x' }));
    const found = await engineFromConfig(file, (f) => readFile(f, 'utf8'));
    expect(found.state).toBe('connected');
    if (found.state === 'connected') expect(found.health.models.length).toBeGreaterThan(0);
    const read = (text: string) => () => Promise.resolve(text);
    expect(await engineFromConfig(file, read(JSON.stringify({ port: 'abc', token: t.token })))).toMatchObject({ state: 'not_running', reason: expect.stringContaining('not one the engine wrote') });
    expect(await engineFromConfig(file, read('{"port": 74'))).toMatchObject({ state: 'not_running', reason: 'The CleanPlate engine is not running.' });
    expect(await engineFromConfig(file, read(JSON.stringify({ port: 1, token: 'y'.repeat(32) })))).toMatchObject({
      state: 'not_running',
      reason: expect.stringContaining('does not answer on port 1'),
    });
    expect(parseEngineConfig(JSON.stringify({ port: 70000, token: 'z' }))).toBeUndefined();
  });
});
