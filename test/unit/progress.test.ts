// The CLI progress bar: redraws one line on a terminal, prints throttled lines in a log, keeps
// messages readable. Output goes to a real in-memory Writable marked as a TTY or not.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clock, ProgressBar } from '../../src/cli/progress.js';

function sink(tty: boolean): Writable & { isTTY: boolean; columns: number; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as Writable & { isTTY: boolean; columns: number; text: () => string };
  stream.isTTY = tty;
  stream.columns = 120;
  stream.text = () => chunks.join('');
  return stream;
}

describe('ProgressBar', () => {
  it('renders counts, percentage and a proportional bar', () => {
    const bar = new ProgressBar(8, { stream: sink(false), unit: 'frames' });
    bar.update(2);
    expect(bar.render('a.png')).toMatch(/^\[######------------------\] 2\/8 {2}25% {2}[\d.]+ frames\/s {2}eta \d+:\d\d {2}a\.png$/);
    bar.update(8);
    expect(bar.render()).toMatch(/^\[#{24}\] 8\/8 100%/);
    expect(bar.render()).not.toMatch(/eta/);
  });

  it('on a terminal, redraws one line in place and keeps logged messages above it', () => {
    const out = sink(true);
    const bar = new ProgressBar(3, { stream: out });
    bar.tick(1, 'one');
    bar.log('one: something went wrong');
    bar.update(3, 'three');
    bar.finish();
    const text = out.text();
    expect(text.startsWith('\r\x1b[K[########')).toBe(true);
    expect(text).toContain('\r\x1b[Kone: something went wrong\n[########'); // bar cleared, message, bar redrawn
    // eslint-disable-next-line no-control-regex -- the ANSI erase-line escape is what is tested
    expect(text).toMatch(/\r\x1b\[K\[#{24}\] 3\/3 100% [^\n]* three\n$/); // final state, then finish() ends the line
    expect(text.split('\n')).toHaveLength(3); // message line, final bar line, trailing newline
  });

  it('in a log, prints the first and last state and throttles the rest', () => {
    const out = sink(false);
    const bar = new ProgressBar(1000, { stream: out, logIntervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) bar.tick();
    bar.finish();
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ 1\/1000 /);
    expect(lines[1]).toMatch(/1000\/1000 100%/);
    expect(out.text()).not.toContain('\r');
  });
});

describe('clock', () => {
  it('formats seconds as m:ss or h:mm:ss', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(65.4)).toBe('1:05');
    expect(clock(3600 + 62)).toBe('1:01:02');
  });
});
