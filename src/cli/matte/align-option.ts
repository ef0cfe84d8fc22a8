// --align for every matte input kind: parsing, help line, and the summary printed after a run.
import { ALIGN_MODES, type AlignMode, type AlignReport } from '../../shared/api.js';
import { isAlignMode } from '../../engine/align/aligner.js';
import { UsageError } from '../command.js';
import type { OptionValues } from './handler.js';

export const ALIGN_OPTION = { align: { type: 'string' } } as const;

export const ALIGN_USAGE = [
  '      --align <mode>          plate alignment for hand-held or nudged cameras and exposure drift:',
  '                              auto (default: only when a cheap check sees motion), on (every frame), off',
].join('\n');

export function alignFrom(values: OptionValues): AlignMode | undefined {
  const text = values.align;
  if (text === undefined) return undefined;
  if (!isAlignMode(text)) throw new UsageError(`--align must be one of ${ALIGN_MODES.join(', ')}; got "${String(text)}"`);
  return text;
}

/** One line about what alignment did (nothing when it did nothing), then its warnings. */
export function alignSummary(report: AlignReport | undefined, what: string): string[] {
  if (!report || report.mode === 'off') return [];
  const lines: string[] = [];
  if (report.framesAligned > 0) {
    const parts = [`${what}: plate aligned on ${report.framesAligned} of ${report.frames} frame${report.frames === 1 ? '' : 's'}`];
    if (report.framesWarped > 0) parts.push(`mean shift ${report.meanShiftPx} px`);
    if (report.gain) parts.push(`gain ${report.gain.join('/')}`);
    parts.push(`motion estimated on ${report.framesEstimated}`);
    lines.push(parts.join(', '));
  }
  for (const w of report.warnings) lines.push(`${what}: warning: ${w}`);
  return lines;
}
