// What a `cleanplate <command>` is, and the error for a wrong command line (exit code 2).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { messageOf } from '../shared/error-message.js';

export interface Command {
  /** One line for `cleanplate --help`. */
  readonly summary: string;
  /** Full help for `cleanplate <command> --help`. */
  help(): string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** A command line that cannot work (unknown option, missing input): message + exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** node:util's parseArgs, where an option it refuses is a UsageError (exit 2). */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
}

export const EXIT_OK = 0;
/** Some work failed (a bad image in a folder, a failed encode). */
export const EXIT_FAILED = 1;
/** The command line or its inputs are wrong; nothing was done. */
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C; partial files removed. */
export const EXIT_CANCELLED = 130;
