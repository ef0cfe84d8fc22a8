// The engine's credentials and who may read its answers, over real HTTP and WebSocket on
// 127.0.0.1: the panel key (a second bearer credential, kept 0600 across restarts, rotatable from
// the CLI), CORS only on authed API answers, no CORS and no secret on pages, and the WebSocket
// Origin check.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { panelKeyPath, rotatePanelKey } from '../../src/engine/auth/panel-key.js';
import { createEngine } from '../../src/engine/server.js';
import { errorOf, startTestEngine, type TestEngine } from '../support/engine.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ warmUp: false });
});
afterAll(async () => {
  await t.stop();
});

const health = (secret: string, origin?: string): Promise<Response> => fetch(`${t.url}/v1/health`, { headers: { authorization: `Bearer ${secret}`, ...(origin ? { origin } : {}) } });

/** Status of a WebSocket upgrade: 101 when it opened, else the refusal's HTTP status. */
function upgrade(secret: string, origin?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/live`, ['cleanplate-live.v1', `cleanplate-token.${secret}`], origin ? { origin } : {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('error', () => undefined);
  });
}

describe('panel key', () => {
  it('is created 0600 in the config folder and accepted as a bearer credential beside the token', async () => {
    const file = panelKeyPath(t.configDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const key = (await readFile(file, 'utf8')).trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toBe(t.token);
    expect(t.engine.panelKey()).toBe(key);
    expect((await health(key)).status).toBe(200);
    expect((await health(t.token)).status).toBe(200);
  });

  it('the CLI prints the dock URL with the key in the fragment, and rotates the key', async () => {
    const env = { ...process.env, CLEANPLATE_CONFIG_DIR: t.configDir };
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, env, timeout: 60_000 });
    const url = (await cli('obs', 'dock-url')).stdout.trim();
    expect(url).toBe(`http://127.0.0.1:${t.engine.port}/obs/#key=${t.engine.panelKey()}`);
    const rotated = await cli('panel-key', '--rotate');
    const key = rotated.stdout.trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.stderr).not.toContain(key); // stderr may be logged: the key only goes to stdout
    expect(url).not.toContain(key);
    expect((await health(key)).status).toBe(200);
  }, 90_000);

  it('survives an engine restart; the token does not', async () => {
    const key = t.engine.panelKey()!;
    const second = await createEngine({ port: 0, configDir: t.configDir, dataDir: t.dataDir, warmUp: false });
    try {
      expect(second.panelKey()).toBe(key);
      expect(second.token).not.toBe(t.token);
      const res = await fetch(`${second.url}/v1/health`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      expect((await fetch(`${second.url}/v1/health`, { headers: { authorization: `Bearer ${t.token}` } })).status).toBe(401);
    } finally {
      await second.close();
    }
  });

  it('rotates without an engine restart: the old key is refused, the new one accepted', async () => {
    const old = t.engine.panelKey()!;
    const fresh = await rotatePanelKey(t.configDir);
    expect(fresh).not.toBe(old);
    expect((await stat(panelKeyPath(t.configDir))).mode & 0o777).toBe(0o600);
    expect((await health(old)).status).toBe(401);
    expect((await upgrade(old)).status).toBe(401);
    expect((await health(fresh)).status).toBe(200);
    expect((await upgrade(fresh)).status).toBe(101);
  });
});

describe('CORS', () => {
  it('gives Origin null (the CEP panel, but also any sandboxed iframe) CORS headers only with a credential', async () => {
    for (const origin of ['null', 'file://']) {
      const anonymous = await fetch(`${t.url}/v1/health`, { headers: { origin } });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('access-control-allow-origin'), origin).toBeNull();
      const wrong = await health('0'.repeat(64), origin);
      expect(wrong.headers.get('access-control-allow-origin'), origin).toBeNull();
      const authed = await health(t.token, origin);
      expect(authed.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('never gives pages CORS headers, whatever the origin', async () => {
    for (const origin of ['null', 'file://', `http://127.0.0.1:${t.engine.port}`, 'https://evil.example']) {
      for (const route of ['/obs/', '/obs/layer.html', '/obs', '/nothing']) {
        const res = await fetch(t.url + route, { headers: { origin }, redirect: 'manual' });
        expect(res.headers.get('access-control-allow-origin'), `${origin} ${route}`).toBeNull();
      }
    }
  });
});

describe('WebSocket /v1/live', () => {
  it('refuses foreign and null origins even with a valid credential; accepts its own origin and non-browser clients', async () => {
    for (const origin of ['https://evil.example', 'null', 'file://', `http://127.0.0.1:${t.engine.port + 1}`]) {
      const refused = await upgrade(t.token, origin);
      expect(refused.status, origin).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'forbidden_origin' } });
    }
    expect((await upgrade(t.token, `http://127.0.0.1:${t.engine.port}`)).status).toBe(101);
    expect((await upgrade(t.token, `http://localhost:${t.engine.port}`)).status).toBe(101);
    expect((await upgrade(t.token)).status).toBe(101);
    expect((await upgrade('0'.repeat(64))).status).toBe(401);
  });

  it('answers a refused upgrade with a JSON error body', async () => {
    const res = await fetch(`${t.url}/v1/live`, { headers: { authorization: 'Bearer nope' } });
    expect((await errorOf(res)).code).toBe('unauthorized');
  });
});
