#!/usr/bin/env node
// `cleanplate <command> [args]`: dispatch to a command; wrong command lines exit 2 with a message,
// failures exit 1. Matting runs in this process (no daemon needed).
import { ENGINE_VERSION } from '../engine/config.js';
import { commands } from './commands/index.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError } from './command.js';
import { messageOf } from '../shared/error-message.js';

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    `cleanplate ${ENGINE_VERSION}: local background matting with a clean plate`,
    '',
    'usage: cleanplate <command> [options]   (cleanplate <command> --help for its options)',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(`${overview()}\n`);
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${ENGINE_VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`cleanplate: unknown command "${name}"; commands: ${Object.keys(commands).join(', ')}\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`cleanplate ${name}: ${err.message}\n(see cleanplate ${name} --help)\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`cleanplate ${name}: ${messageOf(err)}\n`);
    return EXIT_FAILED;
  }
}

process.exitCode = await main(process.argv.slice(2));
