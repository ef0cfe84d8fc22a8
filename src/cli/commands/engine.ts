// `cleanplate engine`: the engine as an application. Without an action it runs the engine in the
// foreground (what `npm start` does, with no build step); `login install|remove|status` manage
// the file that starts it when the user logs in (see ../login-service.ts).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILED, EXIT_OK, parseCommandLine, UsageError, type Command } from '../command.js';
import { loginFileState, loginService } from '../login-service.js';

const HELP = `usage: cleanplate engine [login install|remove|status] [--platform linux|darwin|win32]

  cleanplate engine                 run the engine in the foreground until Ctrl-C (as npm start)
  cleanplate engine login install   start it at login: writes a systemd user unit (Linux), a
                                    LaunchAgent (macOS) or a Startup script (Windows), then says
                                    what to run to enable it now
  cleanplate engine login remove    remove that file (only one this command wrote)
  cleanplate engine login status    whether it is installed

--platform writes another OS's file (for packaging and tests). Exit codes: 0 done, 1 a file that
is not ours is in the way (left alone), 2 bad command line.`;

/** bin/cleanplate.js, two folders above src/cli/commands or dist/cli/commands. */
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'cleanplate.js');
const PLATFORMS = ['linux', 'darwin', 'win32'] as const;

export const engineCommand: Command = {
  summary: 'run the engine (no build needed); start it at login (login install|remove|status)',
  help: () => HELP,
  async run(args) {
    const parsed = parseCommandLine({ args, allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' }, platform: { type: 'string' } } });
    if (parsed.values.help) {
      process.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    const [group, action, ...extra] = parsed.positionals;
    if (group === undefined) {
      await import('../../engine/main.js'); // runs until SIGINT/SIGTERM, then exits the process
      return new Promise<number>(() => undefined);
    }
    if (group !== 'login' || !action || !['install', 'remove', 'status'].includes(action) || extra.length) {
      throw new UsageError(`engine takes no action or "login install|remove|status"; got "${parsed.positionals.join(' ')}"`);
    }
    const platform = parsed.values.platform ?? process.platform;
    if (!(PLATFORMS as readonly string[]).includes(platform)) throw new UsageError(`--platform must be one of ${PLATFORMS.join(', ')}, got "${platform}"`);
    const service = loginService(platform as NodeJS.Platform, process.env, [process.execPath, BIN, 'engine']);
    const state = await loginFileState(service.file);
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    if (action === 'status') {
      out(state === 'absent' ? `not installed (${service.file} absent)` : state === 'ours' ? `installed: ${service.file}` : `${service.file} exists but was not written by cleanplate`);
      return EXIT_OK;
    }
    if (state === 'foreign') {
      process.stderr.write(`cleanplate engine: ${service.file} exists and was not written by cleanplate: left alone\n`);
      return EXIT_FAILED;
    }
    if (action === 'install') {
      await mkdir(path.dirname(service.file), { recursive: true });
      await writeFile(service.file, service.content);
      out(`${state === 'ours' ? 'updated' : 'wrote'} ${service.file}: the engine starts when you log in`);
      out(`to start it now: ${service.enable}`);
      return EXIT_OK;
    }
    if (state === 'absent') {
      out(`nothing to remove: ${service.file} does not exist`);
      return EXIT_OK;
    }
    out(`first, if it runs: ${service.disable}`);
    await rm(service.file);
    out(`removed ${service.file}`);
    return EXIT_OK;
  },
};
