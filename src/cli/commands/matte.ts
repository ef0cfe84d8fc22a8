// `cleanplate matte <input> ...`: one command for stills and (later) clips. Each kind of input
// has a handler that declares its options and claims the inputs it understands; the command
// parses the union of options once, strictly, and hands over to the first handler that claims
// the input. To add an input kind, write a handler and add it to `handlers`.
import { stat } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import { stillsHandler } from '../matte/stills.js';
import { clipsHandler } from '../matte/clips.js';
import { parseCommandLine, UsageError, type Command } from '../command.js';
import type { MatteHandler, OptionValues } from '../matte/handler.js';

/** Tried in order; the first whose `accepts` says yes runs. */
const handlers: MatteHandler[] = [stillsHandler, clipsHandler];

type Options = NonNullable<ParseArgsConfig['options']>;

function allOptions(): Options {
  const merged: Options = { help: { type: 'boolean', short: 'h' } };
  for (const h of handlers) {
    for (const [name, spec] of Object.entries(h.options)) {
      const seen = merged[name];
      if (seen && (seen.type !== spec.type || seen.short !== spec.short)) throw new Error(`matte handlers disagree on option --${name}`);
      merged[name] = spec;
    }
  }
  return merged;
}

export const matteCommand: Command = {
  summary: 'matte stills (an image or a folder of images) or a video clip against a clean plate',
  help: () => ['usage: cleanplate matte <input> [options]', '', ...handlers.flatMap((h) => [h.usage, '']), 'Exit codes: 0 done, 1 some inputs failed, 2 bad command line or input.'].join('\n'),
  async run(args) {
    const parsed = parseCommandLine({ args, options: allOptions(), allowPositionals: true, strict: true }) as { values: OptionValues; positionals: string[] };
    if (parsed.values.help) {
      process.stdout.write(`${matteCommand.help()}\n`);
      return 0;
    }
    const [input, ...extra] = parsed.positionals;
    if (!input) throw new UsageError('matte needs an input: an image, a folder of images, or a video clip');
    if (extra.length > 0) throw new UsageError(`matte takes one input; also got: ${extra.join(' ')}`);
    const info = await stat(input).catch(() => undefined);
    if (!info) throw new UsageError(`input not found: ${input}`);
    const handler = handlers.find((h) => h.accepts(input, info));
    if (!handler) throw new UsageError(`cannot matte ${input}: matte takes ${handlers.map((h) => h.accepted).join(', or ')}`);
    for (const [name, value] of Object.entries(parsed.values)) {
      if (value !== undefined && name !== 'help' && !(name in handler.options)) throw new UsageError(`--${name} does not apply to ${handler.name}`);
    }
    return handler.run(input, parsed.values);
  },
};
