// `cleanplate obs <action>`: the OBS controller from the command line (Debian's OBS has no
// browser docks). It talks to the engine over HTTP/WS like the dock does: the running engine
// (found through engine.json), or one started in this process when none runs.
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { engineFromConfig } from '../../shared/engine-locator.js';
import { configFilePath, dataDir } from '../../engine/config.js';
import { createEngine, type Engine } from '../../engine/server.js';
import { ControllerError } from '../../obs/controller-error.js';
import type { ControllerStatus, MatteStatus } from '../../obs/controller-types.js';
import { ObsController } from '../../obs/controller.js';
import type { Leftover } from '../../obs/scene-layers.js';
import type { WebSocketLike } from '../../obs/engine-client.js';
import type { EngineEndpoint } from '../../shared/engine-client.js';
import { EXIT_FAILED, EXIT_OK, parseCommandLine, UsageError, type Command } from '../command.js';
import { currentDockUrl } from './panel-key.js';

const ACTIONS = ['sources', 'capture', 'run', 'add', 'remove', 'status', 'dock-url'] as const;
type Action = (typeof ACTIONS)[number];

const HELP = `usage: cleanplate obs <action> [options]

actions:
  sources                 list OBS's video sources
  capture --source NAME   store NAME's clean plate (step out of the picture first)
  run --source NAME       add the live matte layer above NAME and keep it live until Ctrl-C,
                          then remove it (add is the same)
  remove --source NAME    remove NAME's live matte layer and show a hidden original again
                          (also repairs what a killed controller left behind)
  status                  OBS connection; per source: background captured or not, matte
                          layer, and anything a stopped controller left behind
  dock-url                the URL for OBS's Docks > Custom Browser Docks (it carries the panel
                          key: paste it into OBS, nowhere else; see cleanplate panel-key)

options:
  --url URL          obs-websocket address (default $OBS_WEBSOCKET_URL or ws://127.0.0.1:4455)
  --password P       obs-websocket password (default $OBS_WEBSOCKET_PASSWORD; the variable keeps
                     it out of the process list)
  --source NAME      the OBS source (input) name
  --hide-original    run: hide the source while its matte layer shows
  --width N          run: matte at this width (height keeps the aspect; at most the source's).
                     Default: the largest width at which the model, measured on this machine,
                     keeps up with --target-fps
  --target-fps N     run: the matted frame rate the default width aims for (default 15)
  --model ID         run: model id (default: the engine's default)
  --layer KIND       run: media (default: a Media Source, every OBS build) or browser (a
                     Browser Source showing the engine's layer page; official builds only)
  --keep             run: leave the layer in the scene on exit
  --duration S       run: stop after S seconds instead of waiting for Ctrl-C
  --engine-wait S    run: how long to wait for a restarted engine before giving up
                     (default 60); the originals are shown while it is away

The engine: the one running (engine.json), else one started inside this command.
Exit codes: 0 done, 1 failed (OBS unreachable, wrong password, the engine did not come
back, ...), 2 bad command line.`;

const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;

/** The running engine from engine.json, if it answers; otherwise undefined. */
async function runningEngine(): Promise<EngineEndpoint | undefined> {
  const found = await engineFromConfig(configFilePath(), (file) => readFile(file, 'utf8'));
  return found.state === 'connected' ? found.endpoint : undefined;
}

/** The run's status line every 2 s: the matte's figures, or what it waits for. */
function statusLine(s: ControllerStatus): string | undefined {
  if (s.obs !== 'connected') return `OBS ${s.obs}: ${s.lastError ?? ''}`;
  if (s.engineLostAt !== undefined) return `engine away for ${Math.round((Date.now() - s.engineLostAt) / 1000)} s, reconnecting (originals shown meanwhile): ${s.lastError ?? ''}`;
  return s.mattes.map(formatMatte).join('\n') || undefined;
}

function formatMatte(m: MatteStatus): string {
  const s = m.stats;
  if (!s) return `${m.source}: waiting for the engine`;
  const ms = (v: number | null): string => (v === null ? '-' : String(Math.round(v)));
  return `${m.source}: ${s.fps} fps, latency ${ms(s.latencyMs.median)}/${ms(s.latencyMs.p95)} ms (median/p95), drops ${Math.round(s.dropRate * 100)}%, screenshots ${m.shotRate}/s, players ${s.streamClients}`;
}

export const obsCommand: Command = {
  summary: "OBS live matte: capture a source's plate, add/remove the matte layer, status",
  help: () => HELP,
  async run(args) {
    const parsed = parseCommandLine({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        url: { type: 'string' },
        password: { type: 'string' },
        source: { type: 'string' },
        'hide-original': { type: 'boolean' },
        width: { type: 'string' },
        model: { type: 'string' },
        layer: { type: 'string' },
        keep: { type: 'boolean' },
        duration: { type: 'string' },
        'engine-wait': { type: 'string' },
        'target-fps': { type: 'string' },
      },
    });
    const v = parsed.values;
    if (v.help) {
      process.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    const [action, ...extra] = parsed.positionals;
    if (!action || !(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`obs needs an action: ${ACTIONS.join(', ')}`);
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (action === 'dock-url') {
      process.stdout.write(`${await currentDockUrl()}\n`);
      return EXIT_OK;
    }
    const needsSource = ['capture', 'run', 'add', 'remove'].includes(action);
    if (needsSource && !v.source) throw new UsageError(`obs ${action} needs --source NAME (see "cleanplate obs sources")`);
    const width = v.width === undefined ? undefined : Number(v.width);
    if (width !== undefined && !(Number.isInteger(width) && width >= 16 && width <= 4096)) throw new UsageError(`--width must be an integer from 16 to 4096, got "${v.width}"`);
    if (v.layer !== undefined && v.layer !== 'media' && v.layer !== 'browser') throw new UsageError(`--layer must be media or browser, got "${v.layer}"`);
    const duration = v.duration === undefined ? undefined : Number(v.duration);
    if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration must be a positive number of seconds, got "${v.duration}"`);
    const targetFps = v['target-fps'] === undefined ? undefined : Number(v['target-fps']);
    if (targetFps !== undefined && !(targetFps >= 1 && targetFps <= 60)) throw new UsageError(`--target-fps must be a number from 1 to 60, got "${v['target-fps']}"`);
    const engineWait = v['engine-wait'] === undefined ? DEFAULT_ENGINE_WAIT_S : Number(v['engine-wait']);
    if (!(engineWait > 0)) throw new UsageError(`--engine-wait must be a positive number of seconds, got "${v['engine-wait']}"`);

    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    let engine: Engine | undefined;
    let endpoint = needsSource ? await runningEngine() : undefined;
    if (needsSource && !endpoint) {
      say('no running engine found: starting one in this process');
      engine = await createEngine({ port: 0, dataDir: dataDir(), log: () => undefined });
      endpoint = { url: engine.url, token: engine.token };
    }
    const controller = new ObsController({
      obsUrl: v.url ?? process.env.OBS_WEBSOCKET_URL ?? 'ws://127.0.0.1:4455',
      ...((v.password ?? process.env.OBS_WEBSOCKET_PASSWORD) !== undefined ? { obsPassword: v.password ?? process.env.OBS_WEBSOCKET_PASSWORD } : {}),
      engine: endpoint ?? { url: 'http://127.0.0.1:0', token: '' },
      // A restarted engine writes a new engine.json (new token, maybe a new port): read it again.
      ...(engine ? {} : { resolveEngine: runningEngine }),
      webSocket: wsFactory,
      // Retry at least every 2 s: a restarted engine is picked up soon after it is back.
      reconnectMs: { first: 500, max: 2000 },
      log: say,
    });
    try {
      await controller.connect();
      return await runAction(controller, action as Exclude<Action, 'dock-url'>, v.source ?? '', {
        hideOriginal: v['hide-original'] ?? false,
        keep: v.keep ?? false,
        ...(width !== undefined ? { width } : {}),
        ...(v.model !== undefined ? { model: v.model } : {}),
        ...(v.layer !== undefined ? { layer: v.layer as 'media' | 'browser' } : {}),
        ...(duration !== undefined ? { duration } : {}),
        engineWait,
        ...(targetFps !== undefined ? { targetFps } : {}),
      });
    } catch (err) {
      if (err instanceof ControllerError) {
        say(`cleanplate obs: ${err.message}`);
        return EXIT_FAILED;
      }
      throw err;
    } finally {
      await controller.close();
      await engine?.close();
    }
  },
};

interface RunOptions {
  readonly hideOriginal: boolean;
  readonly keep: boolean;
  readonly width?: number;
  readonly model?: string;
  readonly layer?: 'media' | 'browser';
  readonly duration?: number;
  readonly engineWait: number;
  readonly targetFps?: number;
}

const DEFAULT_ENGINE_WAIT_S = 60;

const repairHint = (source: string): string => `cleanplate obs remove --source "${source}"`;

/** One line per thing a stopped controller left in the scene, with the command that repairs it. */
function leftoverLines(leftovers: Leftover[]): string[] {
  return leftovers.map((l) => {
    const what = [l.layer ? 'a matte layer' : '', l.originalHidden ? 'the original moved off the canvas' : ''].filter(Boolean).join(' and ');
    return `"${l.source}": ${what} with no controller running it (if no other CleanPlate controller runs it: repair with ${repairHint(l.source)})`;
  });
}

async function runAction(controller: ObsController, action: Exclude<Action, 'dock-url'>, source: string, o: RunOptions): Promise<number> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  switch (action) {
    case 'sources': {
      for (const s of await controller.listVideoSources()) out(`${s.name}\t${s.kind}${s.inCurrentScene ? '' : '\t(not in the current scene)'}${s.hasMatte ? '\t(live matte layer)' : ''}`);
      return EXIT_OK;
    }
    case 'status': {
      out(`OBS: ${(await controller.status()).obsVersion ?? '?'}, connected`);
      for (const s of await controller.listVideoSources()) {
        const plate = await controller.backgroundOf(s.name);
        out(
          `${s.name}\t${s.kind}\t${plate ? `background captured (${plate})` : 'no background captured'}${s.inCurrentScene ? '' : '\t(not in the current scene)'}${s.hasMatte ? '\t(live matte layer)' : ''}`,
        );
      }
      for (const line of leftoverLines(await controller.leftovers())) out(`left behind: ${line}`);
      return EXIT_OK;
    }
    case 'capture': {
      const bg = await controller.captureBackground(source);
      out(`background ${bg.id} (${bg.width}x${bg.height}) stored for "${source}"`);
      return EXIT_OK;
    }
    case 'remove':
      await controller.removeLiveMatte(source);
      out(`removed the live matte of "${source}"`);
      return EXIT_OK;
    case 'run':
    case 'add': {
      // A controller that was killed left this source's layout behind: put it right first.
      const left = (await controller.leftovers()).filter((l) => l.source === source);
      if (left.length) {
        say(`repairing what a stopped controller left: ${leftoverLines(left).join('; ')}`);
        await controller.removeLiveMatte(source);
      }
      const added = await controller.addLiveMatte(source, {
        hideOriginal: o.hideOriginal,
        ...(o.width !== undefined ? { width: o.width } : {}),
        ...(o.targetFps !== undefined ? { targetFps: o.targetFps } : {}),
        ...(o.model !== undefined ? { model: o.model } : {}),
        ...(o.layer !== undefined ? { layer: o.layer } : {}),
      });
      const auto = added.autoSize ? `, auto size: the model takes ${Math.round(added.autoSize.msPerFrame)} ms/frame here, target ${added.autoSize.targetFps} fps` : '';
      // The stream URL is a credential: name its port only.
      out(`live matte "${added.layer}" streaming on port ${new URL(added.session.streamUrl).port} (${added.session.width}x${added.session.height}${auto}); Ctrl-C stops`);
      // Why the session cannot go on (undefined: stopped by Ctrl-C or --duration).
      const failure = await new Promise<string | undefined>((resolve) => {
        const stop = (why?: string): void => {
          clearInterval(ticker);
          clearTimeout(timer);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(why);
        };
        const onSignal = (): void => stop();
        const ticker = setInterval(() => {
          controller.status().then(
            (s) => {
              const line = statusLine(s);
              if (line) out(line);
              const failed = s.mattes.find((m) => m.failed)?.failed;
              if (failed) stop(failed);
              else if (s.engineLostAt !== undefined && Date.now() - s.engineLostAt > o.engineWait * 1000) {
                stop(`the engine did not come back within ${o.engineWait} s (${s.lastError ?? 'no answer'}): start it again ("npm start"), then rerun`);
              }
            },
            () => undefined,
          );
        }, 2000);
        const timer = o.duration !== undefined ? setTimeout(() => stop(), o.duration * 1000) : undefined;
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      if (failure) say(`cleanplate obs: ${failure}`);
      if (!o.keep || failure) {
        // OBS may be away (restarting): wait a little for it, else the layer stays behind.
        const back = await Promise.race([controller.whenConnected().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
        if (!back) throw new ControllerError('obs_unreachable', `OBS did not come back: the layer "${added.layer}" stays (remove it with "cleanplate obs remove --source ${source}")`);
        await controller.removeLiveMatte(source);
        out(`removed the live matte of "${source}"`);
      }
      return failure ? EXIT_FAILED : EXIT_OK;
    }
  }
}
