// `npm start`: runs the engine daemon in the foreground until SIGINT/SIGTERM.
import { configDir, dataDir, portFromEnv, tokenFromEnv } from './config.js';
import { redactRedisUrl } from './farm/connection.js';
import { farmSettingsFromEnv } from './farm/settings.js';
import { createEngine } from './server.js';
import { messageOf } from '../shared/error-message.js';

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

// A bug in one request must not take the daemon down with every other client's work.
process.on('uncaughtException', (err) => log(`error: uncaught exception: ${err.stack ?? err.message}`));
process.on('unhandledRejection', (reason) => log(`error: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));

async function main(): Promise<void> {
  const farm = farmSettingsFromEnv();
  const engine = await createEngine({
    ...(farm ? { farm } : {}),
    port: portFromEnv(),
    token: tokenFromEnv(),
    configDir: configDir(),
    dataDir: dataDir(),
    log,
  });
  const models = engine.context.registry
    .list()
    .map((m) => `${m.id}${m.available ? '' : ' (unavailable)'}${engine.context.matting.providerOf(m.id) ? ` on ${engine.context.matting.providerOf(m.id)}` : ''}`)
    .join(', ');
  if (farm) log(`farm mode: clip jobs go to workers through ${redactRedisUrl(farm.redisUrl)}`);
  log(`cleanplate engine ${engine.version} listening on ${engine.url}; config ${engine.configFile}; data ${dataDir()}; models: ${models}`);
  // Never the key itself: this line may end up in a log file.
  log('OBS dock: "cleanplate obs dock-url" prints its URL (with the panel key) for Docks > Custom Browser Docks');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log(`${signal} again: exiting without cleanup`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: shutting down`);
    engine.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error during shutdown: ${messageOf(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log(`error: ${messageOf(err)}`);
  process.exit(1);
});
