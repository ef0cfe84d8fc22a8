// `cleanplate engine` as a user runs it: the engine in the foreground (answers, stops on SIGTERM)
// and the start-at-login files per OS, written, reported and removed only when they are ours.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfigFile } from '../../src/shared/api.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repo, 'bin', 'cleanplate.js');
let root: string;

function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'engine', ...args], { cwd: repo, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-cli-engine-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.concurrent('cleanplate engine', () => {
  it('runs the engine in the foreground: it answers, writes engine.json, and stops on SIGTERM', async () => {
    const config = path.join(root, 'run-config');
    const child = spawn(process.execPath, [bin, 'engine'], {
      cwd: repo,
      env: { ...process.env, CLEANPLATE_CONFIG_DIR: config, CLEANPLATE_DATA_DIR: path.join(root, 'run-data'), CLEANPLATE_PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    try {
      await expect.poll(() => stderr, { timeout: 60_000 }).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
      const info = JSON.parse(await readFile(path.join(config, 'engine.json'), 'utf8')) as EngineConfigFile;
      expect(info.pid).toBe(child.pid);
      const res = await fetch(`http://127.0.0.1:${info.port}/`, { headers: { accept: 'application/json' } });
      expect(await res.json()).toMatchObject({ name: 'cleanplate-engine' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(stat(path.join(config, 'engine.json'))).rejects.toThrow(); // removed on a clean stop
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('login install / status / remove: a systemd user unit on Linux, starting this bin', async () => {
    const home = path.join(root, 'home-linux');
    const env = { HOME: home, XDG_CONFIG_HOME: '' };
    const unit = path.join(home, '.config', 'systemd', 'user', 'cleanplate-engine.service');
    expect((await cli(env, 'login', 'status', '--platform', 'linux')).stdout).toMatch(/not installed/);
    const install = await cli(env, 'login', 'install', '--platform', 'linux');
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain(`wrote ${unit}`);
    expect(install.stdout).toContain('systemctl --user enable --now cleanplate-engine.service');
    const text = await readFile(unit, 'utf8');
    expect(text).toContain(`ExecStart="${process.execPath}" "${bin}" "engine"`);
    expect(text).toContain('WantedBy=default.target');
    expect((await cli(env, 'login', 'status', '--platform', 'linux')).stdout).toContain(`installed: ${unit}`);
    const remove = await cli(env, 'login', 'remove', '--platform', 'linux');
    expect(remove.code).toBe(0);
    expect(remove.stdout).toContain(`removed ${unit}`);
    await expect(stat(unit)).rejects.toThrow();
    expect((await cli(env, 'login', 'remove', '--platform', 'linux')).stdout).toMatch(/nothing to remove/);
  }, 120_000);

  it('writes a LaunchAgent on macOS and a Startup script on Windows; never replaces or removes a file it did not write', async () => {
    const home = path.join(root, 'home-other');
    const mac = await cli({ HOME: home }, 'login', 'install', '--platform', 'darwin');
    expect(mac.code, mac.stderr).toBe(0);
    const plist = await readFile(path.join(home, 'Library', 'LaunchAgents', 'com.cleanplate.engine.plist'), 'utf8');
    expect(plist).toContain(`<string>${bin}</string>`);
    expect(plist).toContain('<key>RunAtLoad</key><true/>');
    const appData = path.join(home, 'AppData');
    const win = await cli({ HOME: home, APPDATA: appData }, 'login', 'install', '--platform', 'win32');
    expect(win.code, win.stderr).toBe(0);
    const cmd = await readFile(path.join(appData, 'Microsoft', 'Windows', 'Start Menu', 'Programs', 'Startup', 'cleanplate-engine.cmd'), 'utf8');
    expect(cmd).toMatch(/^@rem Written by "cleanplate engine login install"/);
    expect(cmd).toContain(`"${bin}" "engine"`);

    // The user's own unit of that name: left alone, exit 1.
    const mine = path.join(home, '.config', 'systemd', 'user', 'cleanplate-engine.service');
    await mkdir(path.dirname(mine), { recursive: true });
    await writeFile(mine, '[Service]\nExecStart=/usr/local/bin/my-engine\n');
    for (const action of ['install', 'remove']) {
      const r = await cli({ HOME: home, XDG_CONFIG_HOME: '' }, 'login', action, '--platform', 'linux');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/was not written by cleanplate: left alone/);
    }
    expect(await readFile(mine, 'utf8')).toBe('[Service]\nExecStart=/usr/local/bin/my-engine\n');
    expect((await cli({}, 'login', 'start')).code).toBe(2);
  }, 120_000);
});
