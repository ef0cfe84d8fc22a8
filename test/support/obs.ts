// A real OBS (Debian's 29.0.2 with obs-websocket 5.1.0) for integration tests and benches, from
// the facts in OBS-CI.md: a private HOME with the profile, scene collection and global.ini; an
// Xvfb of its own (-displayfd picks a free display, -nolisten tcp); OBS's wildcard binds turned
// into loopback binds by an LD_PRELOAD shim built from bind-loopback.c (chosen over `unshare -n`
// because only OBS moves: the test process, the engine and ffmpeg stay in the normal namespace
// and still reach OBS on 127.0.0.1). Ready = the websocket answers GetVersion (OBS exits 0 when
// it cannot start, so its exit code proves nothing). Stopped with SIGINT, then SIGKILL, by the
// PIDs started here only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import OBSWebSocket from 'obs-websocket-js';
import { messageOf } from '../../src/shared/error-message.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NAME = 'CleanPlateTest';

export interface ObsItem {
  /** Source name. */
  readonly name: string;
  /** Settings of the source (input kind below). */
  readonly kind: 'ffmpeg_source' | 'image_source' | 'color_source_v3';
  readonly settings: Record<string, unknown>;
  readonly pos?: { x: number; y: number };
  readonly scale?: { x: number; y: number };
  readonly visible?: boolean;
}

export interface ObsOptions {
  readonly canvas: { width: number; height: number };
  readonly scene: string;
  /** Bottom to top, as OBS stacks scene items. */
  readonly items: readonly ObsItem[];
  readonly password?: string;
}

/** True when this machine can run the harness (obs and Xvfb on PATH, gcc for the shim). */
export function obsAvailable(): boolean {
  return ['/usr/bin/obs', '/usr/bin/Xvfb', '/usr/bin/gcc'].every((p) => existsSync(p));
}

/** Builds the bind shim once per content into the temp dir (tests may run in parallel CI jobs). */
async function bindShim(): Promise<string> {
  const source = path.join(here, 'bind-loopback.c');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const lib = path.join(os.tmpdir(), `cleanplate-bind-loopback-${hash}.so`);
  if (existsSync(lib)) return lib;
  const temp = `${lib}.${process.pid}.tmp`;
  await promisify(execFile)('gcc', ['-shared', '-fPIC', '-O2', '-o', temp, source, '-ldl']);
  await rename(temp, lib);
  return lib;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function ini(sections: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(sections)
    .map(
      ([name, keys]) =>
        `[${name}]\n${Object.entries(keys)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
    )
    .join('\n');
}

async function writeConfig(home: string, options: ObsOptions, port: number): Promise<void> {
  const base = path.join(home, '.config', 'obs-studio');
  const profile = path.join(base, 'basic', 'profiles', NAME);
  const scenes = path.join(base, 'basic', 'scenes');
  await mkdir(profile, { recursive: true });
  await mkdir(scenes, { recursive: true });
  await writeFile(
    path.join(base, 'global.ini'),
    ini({
      General: { FirstRun: true, LastVersion: 486539266, EnableAutoUpdates: false, ConfirmOnExit: false },
      Basic: { Profile: NAME, ProfileDir: NAME, SceneCollection: NAME, SceneCollectionFile: NAME },
      BasicWindow: { SysTrayEnabled: false },
      OBSWebSocket: {
        FirstLoad: false,
        ServerEnabled: true,
        ServerPort: port,
        AlertsEnabled: false,
        AuthRequired: options.password !== undefined,
        ServerPassword: options.password ?? '',
      },
    }),
  );
  const { width, height } = options.canvas;
  await writeFile(
    path.join(profile, 'basic.ini'),
    ini({
      General: { Name: NAME },
      Video: { BaseCX: width, BaseCY: height, OutputCX: width, OutputCY: height, FPSType: 0, FPSCommon: 30 },
      Output: { Mode: 'Simple' },
    }),
  );
  const items = options.items.map((item, i) => ({
    name: item.name,
    id: i + 1,
    visible: item.visible ?? true,
    locked: false,
    rot: 0,
    align: 5, // top left
    pos: item.pos ?? { x: 0, y: 0 },
    scale: item.scale ?? { x: 1, y: 1 },
    bounds_type: 0,
  }));
  const collection = {
    name: NAME,
    current_scene: options.scene,
    current_program_scene: options.scene,
    scene_order: [{ name: options.scene }],
    sources: [
      { name: options.scene, id: 'scene', versioned_id: 'scene', settings: { items, id_counter: items.length, custom_size: false } },
      ...options.items.map((item) => ({ name: item.name, id: item.kind, versioned_id: item.kind, settings: item.settings })),
    ],
  };
  await writeFile(path.join(scenes, `${NAME}.json`), JSON.stringify(collection, null, 2));
}

/** True once `child` has exited, false if it has not within `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops a child we started: `signal`, then SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (!(await waitExit(child, graceMs))) {
    child.kill('SIGKILL');
    await waitExit(child, 5000);
  }
}

async function startXvfb(): Promise<{ xvfb: ChildProcess; display: string }> {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x720x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const fd3 = xvfb.stdio[3] as NodeJS.ReadableStream;
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb gave no display within 20 s: ${stderr}`)), 20_000);
    fd3.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /^(\d+)\n/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${stderr}`));
    });
  });
  return { xvfb, display };
}

export class ObsInstance {
  private obs: ChildProcess | undefined;
  private startedAt = 0;
  private log = '';

  private constructor(
    readonly home: string,
    readonly port: number,
    readonly options: ObsOptions,
    private readonly xvfb: ChildProcess,
    private readonly display: string,
    private readonly shim: string,
  ) {}

  /** Writes the config into a fresh private HOME, starts Xvfb and OBS, waits until ready. */
  static async start(options: ObsOptions, home?: string): Promise<ObsInstance> {
    const dir = home ?? (await mkdtemp(path.join(os.tmpdir(), 'cleanplate-obs-')));
    const [port, shim] = await Promise.all([freeLoopbackPort(), bindShim()]);
    await writeConfig(dir, options, port);
    const { xvfb, display } = await startXvfb();
    const instance = new ObsInstance(dir, port, options, xvfb, display, shim);
    try {
      await instance.launch();
    } catch (err) {
      await instance.stop();
      throw err;
    }
    return instance;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** OBS's own pid (for checks in tests). */
  get pid(): number | undefined {
    return this.obs?.pid;
  }

  get running(): boolean {
    return this.obs !== undefined && this.obs.exitCode === null && this.obs.signalCode === null;
  }

  private async launch(): Promise<void> {
    const args = ['--multi', '--disable-missing-files-check', '--collection', NAME, '--profile', NAME, '--scene', this.options.scene];
    args.push('--websocket_port', String(this.port), '--websocket_ipv4_only');
    if (this.options.password !== undefined) args.push('--websocket_password', this.options.password);
    this.log = '';
    const obs = spawn('obs', args, {
      cwd: this.home,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.home,
        DISPLAY: this.display,
        QT_QPA_PLATFORM: 'xcb',
        LIBGL_ALWAYS_SOFTWARE: '1',
        LD_PRELOAD: this.shim,
        XDG_RUNTIME_DIR: this.home,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString()).slice(-8000);
    };
    obs.stdout?.on('data', keep);
    obs.stderr?.on('data', keep);
    this.obs = obs;
    this.startedAt = Date.now();
    await this.waitReady(60_000);
  }

  /** Polls until the websocket answers GetVersion; fails early when OBS exits. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`OBS exited before its websocket was ready (code ${this.obs?.exitCode}):\n${this.log.slice(-3000)}`);
      const client = new OBSWebSocket();
      try {
        await client.connect(this.url, this.options.password);
        await client.call('GetVersion');
        await client.disconnect();
        return;
      } catch (err) {
        lastError = messageOf(err);
        await client.disconnect().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`OBS websocket not ready on ${this.url} within ${timeoutMs} ms (${lastError}):\n${this.log.slice(-3000)}`);
  }

  /** Stops OBS only (Xvfb and HOME stay): SIGINT, SIGKILL after 10 s. */
  async stopObs(): Promise<void> {
    // SIGINT in OBS's first second can crash it: give it that second.
    const age = Date.now() - this.startedAt;
    if (age < 1500) await new Promise((r) => setTimeout(r, 1500 - age));
    await stopChild(this.obs, 'SIGINT', 10_000);
  }

  /** Stops OBS and starts it again on the same port, HOME and display (the saved scene collection loads). */
  async restart(): Promise<void> {
    await this.stopObs();
    await this.launch();
  }

  /** Starts OBS again after stopObs. */
  async startObs(): Promise<void> {
    if (this.running) throw new Error('OBS is already running');
    await this.launch();
  }

  /** Stops OBS and Xvfb and removes the private HOME. */
  async stop(): Promise<void> {
    await this.stopObs();
    await stopChild(this.xvfb, 'SIGTERM', 5000);
    await rm(this.home, { recursive: true, force: true });
  }

  /** A connected client for the test itself. */
  async client(): Promise<OBSWebSocket> {
    const c = new OBSWebSocket();
    await c.connect(this.url, this.options.password);
    return c;
  }
}
