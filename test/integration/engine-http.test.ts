// The engine's HTTP guards and plumbing over real HTTP on 127.0.0.1: bearer token, Host check,
// CORS, JSON errors for unknown routes and malformed bodies, health and models.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Health, ModelList, ModelSpeed } from '../../src/shared/api.js';
import { errorOf, rawRequest, startTestEngine, type TestEngine } from '../support/engine.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t.stop();
});
// Every bad request below must leave the daemon serving.
afterEach(async () => {
  const res = await t.api('/v1/health');
  expect(res.status).toBe(200);
});

describe('bearer token', () => {
  it('refuses /v1 routes without a token: 401 JSON with a WWW-Authenticate challenge', async () => {
    for (const route of ['/v1/health', '/v1/models', '/v1/backgrounds']) {
      const res = await fetch(t.url + route);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const err = await errorOf(res);
      expect(err.code).toBe('unauthorized');
      expect(err.message).toMatch(/Authorization/);
    }
  });

  it('refuses a wrong token, a token of another length and a non-bearer scheme', async () => {
    const wrong = t.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    for (const header of [`Bearer ${wrong}`, 'Bearer short', `Basic ${t.token}`, t.token]) {
      const res = await fetch(`${t.url}/v1/health`, { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
      expect((await errorOf(res)).code).toBe('unauthorized');
    }
  });

  it('refuses POST routes without a token before reading the body', async () => {
    const res = await fetch(`${t.url}/v1/matte`, { method: 'POST', body: new Uint8Array(1024), headers: { 'content-type': 'image/png' } });
    expect(res.status).toBe(401);
  });
});

describe('Host header (DNS rebinding guard)', () => {
  it('refuses foreign host names with 403 JSON, on /v1 and elsewhere, even with the right token', async () => {
    const port = new URL(t.url).port;
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, `192.168.1.10:${port}`]) {
      for (const path of ['/v1/health', '/']) {
        const res = await rawRequest(t.url, { path, headers: { host, authorization: `Bearer ${t.token}` } });
        expect(res.status, `${host} ${path}`).toBe(403);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'forbidden_host' } });
      }
    }
  });

  it('accepts the loopback names 127.0.0.1, localhost and [::1], with or without a port', async () => {
    const port = new URL(t.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, 'localhost']) {
      const res = await rawRequest(t.url, { path: '/v1/health', headers: { host, authorization: `Bearer ${t.token}` } });
      expect(res.status, host).toBe(200);
    }
  });
});

describe('CORS', () => {
  it('lets the CEP panel (Origin null and file://) read responses', async () => {
    for (const origin of ['null', 'file://']) {
      const res = await t.api('/v1/health', { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toMatch(/Origin/i);
    }
  });

  it("lets the engine's own pages read responses", async () => {
    const port = new URL(t.url).port;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const res = await t.api('/v1/health', { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('answers preflights from allowed origins, without a token, allowing the Authorization header', async () => {
    const res = await fetch(`${t.url}/v1/matte`, {
      method: 'OPTIONS',
      headers: { origin: 'null', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('null');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
  });

  it('gives foreign origins no CORS headers and refuses their preflights', async () => {
    const port = new URL(t.url).port;
    for (const origin of ['https://evil.example', `http://127.0.0.1:${Number(port) + 1}`, 'http://localhost']) {
      const res = await t.api('/v1/health', { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      const preflight = await fetch(`${t.url}/v1/health`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.status, origin).toBe(403);
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect((await errorOf(preflight)).code).toBe('cors_refused');
    }
  });
});

describe('JSON errors', () => {
  it('answers unknown routes with 404 JSON, inside and outside /v1', async () => {
    for (const [path, method] of [
      ['/v1/nothing-here', 'GET'],
      ['/v1/health', 'DELETE'],
      ['/nothing', 'GET'],
    ] as const) {
      const res = await t.api(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      const err = await errorOf(res);
      expect(err.code).toBe('not_found');
      expect(err.message).toContain(path);
    }
  });

  it('answers a malformed JSON body with 400 bad_json', async () => {
    const res = await t.api('/v1/backgrounds', { method: 'POST', body: '{"mediaPath": ', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('bad_json');
  });

  it('answers a JSON body over the limit with 413', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(2 * 2 ** 20) });
    const res = await t.api('/v1/backgrounds', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });
});

describe('the root page', () => {
  it('says what the engine is and where the dock and docs are, without any credential', async () => {
    const html = await fetch(`${t.url}/`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const page = await html.text();
    expect(page).toContain(`CleanPlate engine ${t.engine.version}`);
    expect(page).toContain('npx cleanplate obs dock-url');
    expect(page).toContain('docs/obs.md');
    const json = await fetch(`${t.url}/`, { headers: { accept: 'application/json' } });
    const info = (await json.json()) as { name: string; version: string; obsDock: string };
    expect(info).toMatchObject({ name: 'cleanplate-engine', version: t.engine.version, obsDock: expect.stringContaining('cleanplate obs dock-url') });
    for (const body of [page, JSON.stringify(info)]) {
      expect(body).not.toContain(t.token);
      const key = t.engine.panelKey();
      if (key) expect(body).not.toContain(key);
    }
  });
});

describe('health and models', () => {
  it('reports version, uptime, models and the execution provider the default model runs on', async () => {
    const res = await t.api('/v1/health');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const health = (await res.json()) as Health;
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const plate = health.models.find((m) => m.id === 'plate');
    expect(plate).toMatchObject({ kind: 'plate', available: true });
    // Warm-up opened the default model, so its provider is known and is one that was tried.
    expect(health.providers.order).toContain(plate!.provider);
    expect(health.providers.order.at(-1)).toBe('cpu');
    expect(health.providers.inUse).toContain(plate!.provider);
    expect(health.warmUpError).toBeUndefined();
  });

  it('lists models with their manifest facts and provider', async () => {
    const res = await t.api('/v1/models');
    expect(res.status).toBe(200);
    const { models } = (await res.json()) as ModelList;
    const plate = models.find((m) => m.id === 'plate');
    expect(plate).toMatchObject({ kind: 'plate', default: true, available: true, needsPlate: true });
    expect(typeof plate!.licence).toBe('string');
    expect(typeof plate!.provider).toBe('string');
    expect(models.filter((m) => m.default)).toHaveLength(1);
  });

  it("measures a model's time per frame at a size (POST /v1/models/:id/speed); bad sizes and unknown models are refused", async () => {
    const post = (id: string, body: unknown) => t.api(`/v1/models/${id}/speed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await post('plate', { width: 64, height: 36 });
    expect(res.status, await res.clone().text()).toBe(200);
    const speed = (await res.json()) as ModelSpeed;
    expect(speed).toMatchObject({ model: 'plate', width: 64, height: 36, runs: 3 });
    expect(speed.msPerFrame).toBeGreaterThan(0);
    // Measured once per size: the same answer again.
    expect(await (await post('plate', { width: 64, height: 36 })).json()).toEqual(speed);
    const bad = await post('plate', { width: 10, height: 36 });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ code: 'bad_field', message: expect.stringContaining('"width"') });
    const unknown = await post('nope', { width: 64, height: 36 });
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ code: 'unknown_model' });
  });
});
