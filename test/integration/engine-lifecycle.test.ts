// Starting and stopping the engine: the 0600 config file clients find it by, its removal on
// close (only when it is still ours), port clashes, and the real entry point under SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineConfigFile, Health } from '../../src/shared/api.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = (JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

const engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('config file', () => {
  it('is written with mode 0600 and {port, token, pid, version}, and lets a client connect', async () => {
    const t = await startTestEngine({ warmUp: false });
    engines.push(t);
    const file = path.join(t.configDir, 'engine.json');
    expect(t.engine.configFile).toBe(file);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(file, 'utf8')) as EngineConfigFile;
    expect(config).toEqual({ port: t.engine.port, token: t.token, pid: process.pid, version });
    expect(config.token).toMatch(/^[0-9a-f]{64}$/);
    expect(config.port).toBeGreaterThan(0);

    const res = await fetch(`http://127.0.0.1:${config.port}/v1/health`, { headers: { authorization: `Bearer ${config.token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Health).version).toBe(version);
  });

  it('is removed on close, and the port stops answering', async () => {
    const t = await startTestEngine({ warmUp: false });
    const file = path.join(t.configDir, 'engine.json');
    expect(await exists(file)).toBe(true);
    await t.engine.close();
    expect(await exists(file)).toBe(false);
    await expect(fetch(`${t.url}/v1/health`)).rejects.toThrow();
    await t.stop();
  });

  it('is left alone on close when another engine has replaced it meanwhile', async () => {
    const t = await startTestEngine({ warmUp: false });
    engines.push(t);
    const file = path.join(t.configDir, 'engine.json');
    const other: EngineConfigFile = { port: 1, token: 'f'.repeat(64), pid: process.pid + 1, version };
    await writeFile(file, JSON.stringify(other));
    await t.engine.close();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(other);
  });

  it('makes a new token at every start', async () => {
    const a = await startTestEngine({ warmUp: false });
    const b = await startTestEngine({ warmUp: false });
    engines.push(a, b);
    expect(a.token).not.toBe(b.token);
  });
});

describe('start-up errors', () => {
  it('refuses to start on a port that is taken, saying so, and the first engine keeps serving', async () => {
    const first = await startTestEngine({ warmUp: false });
    engines.push(first);
    await expect(startTestEngine({ port: first.engine.port, warmUp: false })).rejects.toThrow(/already in use/);
    expect((await first.api('/v1/health')).status).toBe(200);
  });

  it('reports a default model that cannot open in health instead of failing to start', async () => {
    const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-models-'));
    await writeFile(
      path.join(modelsDir, 'manifest.json'),
      JSON.stringify({ models: [{ id: 'gone', kind: 'bgmv2', default: true, file: 'missing.onnx', sha256: null, licence: 'MIT', source: 'test', settings: {} }] }),
    );
    const t = await startTestEngine({ modelsDir });
    engines.push(t);
    const health = (await (await t.api('/v1/health')).json()) as Health;
    expect(health.models).toHaveLength(1);
    expect(health.models[0]).toMatchObject({ id: 'gone', kind: 'bgmv2', available: false, provider: null });
    expect(health.warmUpError).toMatch(/gone/);
    await rm(modelsDir, { recursive: true, force: true });
  });
});

describe('npm start entry point (src/engine/main.ts)', () => {
  it('serves, then on SIGTERM shuts down cleanly: exit 0, config file removed', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-main-'));
    const configDir = path.join(root, 'config');
    const file = path.join(configDir, 'engine.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts'], {
      cwd: repo,
      env: { ...process.env, CLEANPLATE_PORT: '0', CLEANPLATE_CONFIG_DIR: configDir, CLEANPLATE_DATA_DIR: path.join(root, 'data'), CLEANPLATE_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The config file appears once the engine serves.
      const deadline = Date.now() + 30_000;
      while (!(await exists(file))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`engine did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const config = JSON.parse(await readFile(file, 'utf8')) as EngineConfigFile;
      expect(config.pid).toBe(child.pid);
      const res = await fetch(`http://127.0.0.1:${config.port}/v1/health`, { headers: { authorization: `Bearer ${config.token}` } });
      expect(res.status).toBe(200);
      expect(stderr).toContain(`listening on http://127.0.0.1:${config.port}`);
      expect(stderr).toContain(file);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await exists(file)).toBe(false);
      expect(stderr).toMatch(/SIGTERM: shutting down/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    }
  });
});
