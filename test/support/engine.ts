// An in-process engine on 127.0.0.1 (port 0) with temporary config and data folders, and request
// helpers: an authed fetch, and raw http.request for what fetch forbids (a custom Host header).
import http from 'node:http';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/server.js';

export interface TestEngine {
  readonly engine: Engine;
  readonly url: string;
  readonly token: string;
  readonly configDir: string;
  readonly dataDir: string;
  /** fetch against the engine with the bearer token set. */
  api(route: string, init?: RequestInit): Promise<Response>;
  /** Stops the engine and removes its temp folders. */
  stop(): Promise<void>;
}

export async function startTestEngine(options: Partial<EngineOptions> = {}): Promise<TestEngine> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-engine-'));
  const configDir = path.join(root, 'config');
  const dataDir = path.join(root, 'data');
  const logs: string[] = [];
  // Unless a test names a models folder: the repository's manifest without any model files, so
  // the default model is "plate" whatever this machine has built or installed in models/.
  let modelsDir = options.modelsDir;
  if (!modelsDir) {
    modelsDir = path.join(root, 'models');
    await mkdir(modelsDir);
    await copyFile(path.join(defaultModelsDir, 'manifest.json'), path.join(modelsDir, 'manifest.json'));
  }
  const engine = await createEngine({ port: 0, configDir, dataDir, log: (l) => logs.push(l), ...options, modelsDir });
  return {
    engine,
    url: engine.url,
    token: engine.token,
    configDir,
    dataDir,
    api: (route, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${engine.token}`);
      return fetch(engine.url + route, { ...init, headers });
    },
    stop: async () => {
      await engine.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A request with full control over headers (fetch refuses to set Host). */
export function rawRequest(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A multipart body from files and text fields. */
export function form(parts: Record<string, string | { bytes: Uint8Array; name?: string; type?: string }>): FormData {
  const fd = new FormData();
  for (const [field, value] of Object.entries(parts)) {
    if (typeof value === 'string') fd.append(field, value);
    else fd.append(field, new Blob([value.bytes], { type: value.type ?? 'application/octet-stream' }), value.name ?? `${field}.png`);
  }
  return fd;
}

/** The `{error:{code,message}}` body of a failed response, checked for shape. */
export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  expectJson(res);
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string' || body.error.message.length === 0) {
    throw new Error(`not an API error body: ${JSON.stringify(body)}`);
  }
  return { code: body.error.code, message: body.error.message };
}

function expectJson(res: Response): void {
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/json')) throw new Error(`expected a JSON response, got Content-Type "${type}" (status ${res.status})`);
}
