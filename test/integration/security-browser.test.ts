// A hostile web page in real Chromium against a real engine: a page on a foreign origin
// (another loopback port) and a sandboxed iframe inside it (Origin: null, as any site can make)
// try to read the dock pages, call the API, store a plate from a local file, open the live
// socket (even holding a leaked token) and read a live session's stream (its port, even its
// URL). None of it may reveal a secret or data.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { texturedPlate, toPng } from '../support/images.js';
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import { uploadBackground } from '../../src/shared/engine-client.js';

let engine: TestEngine;
let browser: Browser;
let attacker: http.Server;
let attackerUrl: string;
let dir: string;
let platePath: string;
let live: LiveConnection;
let streamUrl: string;
let plateId: string;

/** The probes, as page script: each resolves to "blocked" or what it could read. */
const PROBES = String.raw`
async function probes(engine, leakedToken, platePath, streamUrl) {
  const out = { origin: self.origin };
  const read = async (name, work) => {
    try { out[name] = 'read:' + String(await work()).slice(0, 300); } catch (e) { out[name] = 'blocked'; }
  };
  await read('dock page', () => fetch(engine + '/obs/').then((r) => r.text()));
  await read('layer page', () => fetch(engine + '/obs/layer.html').then((r) => r.text()));
  await read('health', () => fetch(engine + '/v1/health').then((r) => r.text()));
  await read('jobs', () => fetch(engine + '/v1/jobs').then((r) => r.text()));
  await read('store plate', () => fetch(engine + '/v1/backgrounds', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mediaPath: platePath }) }).then((r) => r.text()));
  // A "simple" request needs no preflight: it reaches the engine, which must refuse it.
  await read('store plate (no-cors)', () => fetch(engine + '/v1/backgrounds', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ mediaPath: platePath }) }).then((r) => r.type === 'opaque' ? Promise.reject(new Error('opaque')) : r.text()));
  const streamPort = new URL(streamUrl).port;
  await read('stream port', () => fetch('http://127.0.0.1:' + streamPort + '/').then((r) => r.text()));
  await read('stream (leaked URL)', () => fetch(streamUrl).then((r) => r.arrayBuffer()).then((b) => b.byteLength));
  const socket = (protocols) => new Promise((resolve) => {
    const ws = new WebSocket(engine.replace('http', 'ws') + '/v1/live', protocols);
    ws.onopen = () => { ws.close(); resolve('read:open'); };
    ws.onerror = () => resolve('blocked');
  });
  out['live socket'] = await socket(['cleanplate-live.v1']);
  out['live socket with leaked token'] = await socket(['cleanplate-live.v1', 'cleanplate-token.' + leakedToken]);
  out['frame dock'] = await new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.src = engine + '/obs/';
    f.onload = () => { try { resolve('read:' + f.contentDocument.body.innerHTML); } catch { resolve('blocked'); } };
    document.body.appendChild(f);
    setTimeout(() => resolve('blocked'), 3000);
  });
  return out;
}`;

const ATTACK_PAGE = (engineUrl: string, token: string, plate: string, streamUrl: string): string => `<!doctype html>
<html><body><script>
${PROBES}
const args = [${JSON.stringify(engineUrl)}, ${JSON.stringify(token)}, ${JSON.stringify(plate)}, ${JSON.stringify(streamUrl)}];
window.results = { top: null, sandboxed: null };
probes(...args).then((r) => (window.results.top = r));
window.addEventListener('message', (ev) => (window.results.sandboxed = ev.data));
const frame = document.createElement('iframe');
frame.setAttribute('sandbox', 'allow-scripts');
frame.srcdoc = '<script>' + ${JSON.stringify(PROBES)} + '; probes(' + args.map((a) => JSON.stringify(a)).join(',') + ').then((r) => parent.postMessage(r, "*"));</' + 'script>';
document.body.appendChild(frame);
</script></body></html>`;

beforeAll(async () => {
  if (!chromiumAvailable()) throw new Error('this test needs chromium (".ci/run" installs it)');
  dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-attack-'));
  platePath = path.join(dir, 'plate.png');
  await writeFile(platePath, await toPng(texturedPlate(64, 48, 3)));
  engine = await startTestEngine({ warmUp: false });
  // A live session the page may know the stream port of (ports are easy to scan), or even the URL.
  live = await LiveConnection.connect({ url: engine.url, token: engine.token }, (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike);
  plateId = (await uploadBackground({ url: engine.url, token: engine.token }, await toPng(texturedPlate(64, 48, 3)))).id;
  streamUrl = (await live.openSession({ backgroundId: plateId, width: 64, height: 48 })).streamUrl;
  attacker = http.createServer((_req, res) => res.setHeader('content-type', 'text/html').end(ATTACK_PAGE(engine.url, engine.token, platePath, streamUrl)));
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  live?.disconnect();
  attacker?.close();
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a foreign web page in Chromium', () => {
  it('gets neither a secret nor data from the engine, from its own origin or a sandboxed iframe (Origin: null)', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(attackerUrl);
      type Results = { top: Record<string, string> | null; sandboxed: Record<string, string> | null };
      await expect
        .poll(
          () =>
            page.evaluate(() => {
              const r = (globalThis as unknown as { results: Results }).results;
              return r.top !== null && r.sandboxed !== null;
            }),
          { timeout: 60_000 },
        )
        .toBe(true);
      const results = await page.evaluate(() => (globalThis as unknown as { results: Results }).results);
      // The iframe is an opaque origin: its requests carry `Origin: null`, like the CEP panel's.
      expect(results.top!.origin).toBe(attackerUrl.replace(/\/$/, ''));
      expect(results.sandboxed!.origin).toBe('null');
      for (const [where, { origin: _origin, ...probes }] of Object.entries(results) as [string, Record<string, string>][]) {
        expect(Object.keys(probes).length, where).toBe(11);
        for (const [probe, outcome] of Object.entries(probes)) expect(outcome, `${where}: ${probe}`).toBe('blocked');
      }
      const everything = JSON.stringify(results);
      expect(everything).not.toContain(engine.engine.panelKey()!);
    } finally {
      await page.close();
    }
    // Nothing was stored, and the probes did reach the engine (they were refused there, not lost).
    const list = (await (await engine.api('/v1/backgrounds')).json()) as { backgrounds: { id: string }[] };
    expect(list.backgrounds.map((b) => b.id)).toEqual([plateId]); // only the test's own
  }, 120_000);
});
