// One kind of input `cleanplate matte` understands (stills, clips, ...).
import type { Stats } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';

export type OptionValues = Record<string, string | boolean | undefined>;

export interface MatteHandler {
  /** For messages: "images", "clips". */
  readonly name: string;
  /** Help text: usage line and options. */
  readonly usage: string;
  /** What inputs it takes, for the error when nothing accepts an input. */
  readonly accepted: string;
  /** Its options (node:util parseArgs format); handlers declaring the same name must agree. */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  accepts(input: string, info: Stats): boolean;
  /** Resolves to the exit code. Throws UsageError for a wrong command line. */
  run(input: string, values: OptionValues): Promise<number>;
}
