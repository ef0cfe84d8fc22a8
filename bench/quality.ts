// `npm run bench:quality [--1080p] [--sizes WxH,...] [--only set,...] [--max-real N] [--out dir]`:
// the matte quality bench (see bench/quality/harness.ts). Prints the Markdown tables; writes
// results.json, results.md and contact sheets to bench-results/quality/.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultQualityOptions, runQualityBench, type QualityOptions } from './quality/harness.js';
import type { BenchSet } from './quality/variants.js';
import { messageOf } from '../src/shared/error-message.js';

const SETS: readonly BenchSet[] = ['generated', 'disagree', 'real', 'transplant', 'pairs', 'temporal'];
const USAGE = `usage: npm run bench:quality -- [--1080p] [--sizes 640x360,1280x720] [--only ${SETS.join(',')}] [--max-real N] [--out dir]`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseQualityArgs(argv: string[]): Partial<QualityOptions> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        '1080p': { type: 'boolean' },
        sizes: { type: 'string' },
        only: { type: 'string' },
        'max-real': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    fail(messageOf(err));
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const opts: { -readonly [K in keyof QualityOptions]?: QualityOptions[K] } = { command: ['npm run bench:quality', ...argv].join(' ') };
  let sizes = defaultQualityOptions.sizes;
  if (values.sizes) {
    sizes = values.sizes.split(',').map((s) => {
      const m = /^(\d+)x(\d+)$/.exec(s.trim());
      if (!m || Number(m[1]) < 64 || Number(m[2]) < 64) fail(`--sizes: "${s}" is not WIDTHxHEIGHT (at least 64x64)`);
      return [Number(m[1]), Number(m[2])] as const;
    });
  }
  if (values['1080p']) sizes = [...sizes, [1920, 1080]];
  opts.sizes = sizes;
  if (values.only) {
    const sets = values.only.split(',').map((s) => s.trim());
    const unknown = sets.filter((s) => !SETS.includes(s as BenchSet));
    if (unknown.length) fail(`--only: unknown set(s) ${unknown.join(', ')}`);
    opts.sets = sets as BenchSet[];
  }
  if (values['max-real']) {
    const n = Number(values['max-real']);
    if (!Number.isInteger(n) || n < 0) fail('--max-real takes a whole number');
    opts.maxReal = n;
  }
  if (values.out) opts.outDir = path.resolve(values.out);
  return opts;
}

const options = parseQualityArgs(process.argv.slice(2));
const { markdown, results } = await runQualityBench(options);
console.log(`\n${markdown}`);
const outDir = options.outDir ?? defaultQualityOptions.outDir;
console.log(
  `\nwritten: ${['results.json', 'results.md', ...results.sets.map((s) => s.contactSheet), ...(results.capturePairs ? [results.capturePairs.contactSheet] : [])].map((f) => path.join(outDir, f)).join(', ')}`,
);
