// The CEP panel's engine locator with real Node modules and real processes: with no engine
// running it starts the installed `cleanplate` command (a real launcher of this checkout's bin on
// the PATH it is given) and connects; with none installed it says "not installed" and how.
import { createRequire } from 'node:module';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfigFile } from '../../src/shared/api.js';
import type { CepNode } from '../../panels/premiere/src/cep-types.js';
import { installedEngineCommand, locateEngine } from '../../panels/premiere/src/engine-locator.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const nodeRequire = createRequire(import.meta.url);
let root: string;
let startedPid: number | undefined;

/** CEP's Node as the panel sees it: real modules, this process's platform, the given environment. */
function cepNode(env: Record<string, string | undefined>): CepNode {
  return { require: ((id: string) => nodeRequire(id)) as CepNode['require'], process: { platform: process.platform, env } };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-panel-start-'));
});
afterAll(async () => {
  if (startedPid) {
    try {
      process.kill(startedPid, 'SIGTERM'); // the engine this test's locator started (pid from its own engine.json)
    } catch {
      // already gone
    }
  }
  await rm(root, { recursive: true, force: true });
});

describe('the CEP panel starts an installed engine', () => {
  it('with none installed: "not installed", with how to install it', async () => {
    const env = { PATH: path.join(root, 'empty-bin'), HOME: path.join(root, 'home-none'), CLEANPLATE_CONFIG_DIR: path.join(root, 'config-none') };
    const found = await locateEngine(cepNode(env));
    expect(found).toMatchObject({ state: 'not_installed', reason: expect.stringMatching(/not running.*not installed.*npm install -g/) });
  });

  it('with the command installed and no engine running: starts it (detached) and connects', async () => {
    const bin = path.join(root, 'bin');
    await mkdir(bin);
    const launcher = path.join(bin, 'cleanplate');
    await writeFile(launcher, `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, 'bin', 'cleanplate.js')}" "$@"\n`);
    await chmod(launcher, 0o755);
    const config = path.join(root, 'config');
    const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin`, HOME: path.join(root, 'home'), CLEANPLATE_CONFIG_DIR: config, CLEANPLATE_DATA_DIR: path.join(root, 'data'), CLEANPLATE_PORT: '0' };
    const node = cepNode(env);
    expect(installedEngineCommand(node)).toBe(launcher);
    const found = await locateEngine(node);
    const info = JSON.parse(await readFile(path.join(config, 'engine.json'), 'utf8').catch(() => '{}')) as Partial<EngineConfigFile>;
    startedPid = info.pid;
    expect(found.state, JSON.stringify(found)).toBe('connected');
    if (found.state !== 'connected') return;
    expect(found.endpoint.url).toBe(`http://127.0.0.1:${info.port}`);
    expect(found.health.version).toMatch(/^\d+\.\d+\.\d+/);
    // Found again without starting a second one.
    expect(await locateEngine(node)).toMatchObject({ state: 'connected', endpoint: found.endpoint });
  }, 90_000);
});
