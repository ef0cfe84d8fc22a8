// Exact arithmetic on Premiere ticks (decimal strings, 254016000000 per second). Numbers are
// exact only to 2^53 ticks (about 9.8 hours), so sums and comparisons work on the digits.
import { TICKS_PER_SECOND, type Ticks } from './api.js';

function digits(t: Ticks): string {
  const s = String(t);
  if (!/^[0-9]+$/.test(s)) throw new Error('not a tick count: "' + s + '"');
  const trimmed = s.replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

/** -1, 0 or 1 as a is before, at or after b. */
export function compareTicks(a: Ticks, b: Ticks): number {
  const x = digits(a);
  const y = digits(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

export function addTicks(a: Ticks, b: Ticks): Ticks {
  const x = digits(a);
  const y = digits(b);
  let out = '';
  let carry = 0;
  for (let i = 1; i <= x.length || i <= y.length || carry > 0; i++) {
    const d = (i <= x.length ? x.charCodeAt(x.length - i) - 48 : 0) + (i <= y.length ? y.charCodeAt(y.length - i) - 48 : 0) + carry;
    out = String(d % 10) + out;
    carry = d >= 10 ? 1 : 0;
  }
  return digits(out);
}

/** a - b; throws when b > a (ticks here are never negative). */
export function subtractTicks(a: Ticks, b: Ticks): Ticks {
  if (compareTicks(a, b) < 0) throw new Error('tick subtraction below zero: ' + a + ' - ' + b);
  const x = digits(a);
  const y = digits(b);
  let out = '';
  let borrow = 0;
  for (let i = 1; i <= x.length; i++) {
    let d = x.charCodeAt(x.length - i) - 48 - (i <= y.length ? y.charCodeAt(y.length - i) - 48 : 0) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    out = String(d) + out;
  }
  return digits(out);
}

export function ticksToSeconds(t: Ticks): number {
  return Number(digits(t)) / TICKS_PER_SECOND;
}

/** Frames per second from a frame duration in ticks (Sequence.timebase). */
export function fpsOfTimebase(timebase: Ticks): number {
  const perFrame = Number(digits(timebase));
  return perFrame > 0 ? TICKS_PER_SECOND / perFrame : 0;
}

/** True when [aStart, aEnd) and [bStart, bEnd) share any time. */
export function overlaps(aStart: Ticks, aEnd: Ticks, bStart: Ticks, bEnd: Ticks): boolean {
  return compareTicks(aStart, bEnd) < 0 && compareTicks(bStart, aEnd) < 0;
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** hh:mm:ss:ff at the sequence's frame rate (non-drop; for messages). */
export function timecode(t: Ticks, timebase: Ticks): string {
  const perFrame = Number(digits(timebase));
  if (!(perFrame > 0)) return ticksToSeconds(t).toFixed(3) + ' s';
  const fps = Math.round(TICKS_PER_SECOND / perFrame);
  const frames = Math.floor(Number(digits(t)) / perFrame + 1e-6);
  const seconds = Math.floor(frames / fps);
  return two(Math.floor(seconds / 3600)) + ':' + two(Math.floor(seconds / 60) % 60) + ':' + two(seconds % 60) + ':' + two(frames % fps);
}
