// `cleanplate worker --redis redis://HOST:PORT [--name N]`: a render-farm worker (docs/farm.md).
// No HTTP API: it takes clip-job segments from Redis and renders them with this machine's models
// and ffmpeg until SIGINT/SIGTERM, then hands any segment in flight back to the queue.
import { FarmWorker } from '../../engine/farm/worker.js';
import { lockMsFromEnv, pathMapFromEnv } from '../../engine/farm/settings.js';
import { redactRedisUrl, redisOptions } from '../../engine/farm/connection.js';
import { mediaTools } from '../../engine/media/ffmpeg-locate.js';
import { ModelRegistry } from '../../engine/matting/registry.js';
import { MattingService } from '../../engine/services/matting-service.js';
import { EXIT_OK, parseCommandLine, UsageError, type Command } from '../command.js';
import { messageOf } from '../../shared/error-message.js';

const HELP = `usage: cleanplate worker --redis redis://HOST:PORT [--name N] [--models DIR]

Renders segments of clip jobs that engines in farm mode (CLEANPLATE_REDIS) put on the queue.

options:
  --redis URL     Redis (default $CLEANPLATE_REDIS); redis://:PASSWORD@HOST:PORT for AUTH,
                  rediss:// for TLS. Put the password in $CLEANPLATE_REDIS to keep it out of ps.
  --name N        worker name shown in job progress (default HOST-PID)
  --models DIR    folder with manifest.json (default the installation's models/)

environment:
  CLEANPLATE_PATH_MAP   "ENGINE_PREFIX=LOCAL_PREFIX;..." when this machine mounts the shared
                        storage at another path (e.g. "S:\\=/mnt/share")
  CLEANPLATE_FARM_LOCK_MS  segment lock (default 30000): a killed worker's segment goes back
                        to the queue this long after it stopped renewing it

Stop with Ctrl-C (SIGINT) or SIGTERM: a segment in flight goes back to the queue.`;

export const workerCommand: Command = {
  summary: 'render-farm worker: render clip-job segments from a Redis queue (docs/farm.md)',
  help: () => HELP,
  async run(args) {
    const { values } = parseCommandLine({ args, options: { redis: { type: 'string' }, name: { type: 'string' }, models: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    const redisUrl = values.redis ?? process.env.CLEANPLATE_REDIS;
    if (!redisUrl) throw new UsageError('worker needs --redis redis://HOST:PORT (or CLEANPLATE_REDIS)');
    try {
      redisOptions(redisUrl);
    } catch (err) {
      throw new UsageError(messageOf(err));
    }
    const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const registry = await ModelRegistry.load(values.models);
    const matting = new MattingService(registry);
    const lockMs = lockMsFromEnv();
    const worker = new FarmWorker({
      redisUrl,
      ...(values.name ? { name: values.name } : {}),
      registry,
      matting,
      tools: await mediaTools(),
      pathMap: pathMapFromEnv(),
      ...(lockMs ? { lockMs } : {}),
      log,
    });
    await worker.start();
    log(`connected to ${redactRedisUrl(redisUrl)}`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log(`${signal}: stopping`);
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await worker.close();
    await matting.dispose();
    return EXIT_OK;
  },
};
