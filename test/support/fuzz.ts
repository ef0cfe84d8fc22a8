// Seeded generators of malformed input for the fuzz suite: a small PRNG (mulberry32) so a failing
// case is reproduced by its seed, and mutators for bytes, JSON values and request bodies.

export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
}

/** A copy of `valid` damaged in one of several ways (flips, cuts, splices, repeats). */
export function mutateBytes(rng: Rng, valid: Buffer): Buffer {
  const b = Buffer.from(valid);
  switch (rng.int(0, 5)) {
    case 0: // flip a few bytes
      for (let i = rng.int(1, 8); i > 0; i--) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
      return b;
    case 1: // cut short
      return b.subarray(0, rng.int(0, b.length - 1));
    case 2: // junk in the middle
      return Buffer.concat([b.subarray(0, rng.int(0, b.length)), rng.bytes(rng.int(1, 64)), b.subarray(rng.int(0, b.length))]);
    case 3: // the header only, then noise
      return Buffer.concat([b.subarray(0, Math.min(b.length, rng.int(8, 40))), rng.bytes(rng.int(0, 512))]);
    case 4: // a repeated chunk
      return Buffer.concat([b, b.subarray(rng.int(0, b.length - 1))]);
    default: // pure noise
      return rng.bytes(rng.int(0, 2048));
  }
}

const STRINGS = [
  '',
  ' ',
  'null',
  '0',
  '-1',
  '1e999',
  'NaN',
  '../../../etc/passwd',
  '\u0000',
  'é🙂',
  'a'.repeat(5000),
  '#zzzzzz',
  'frames',
  'seconds',
  'timecode',
  '00:00:01:00',
  '__proto__',
  'constructor',
  'rgba',
  'prores4444',
];

/** Any JSON value, sometimes odd (huge numbers, deep nesting, prototype-ish keys). */
export function randomJson(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 3 ? 4 : 7)) {
    case 0:
      return null;
    case 1:
      return rng.next() < 0.5;
    case 2:
      return rng.pick([0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 53 + 1, -1e308, 1e308, 1e-320, 29.97, 1 / 3]);
    case 3:
      return rng.pick(STRINGS);
    case 4:
      return rng.int(-1000, 100000);
    case 5:
      return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth + 1));
    case 6:
      return Object.fromEntries(
        Array.from({ length: rng.int(0, 4) }, () => [rng.pick(['in', 'out', 'unit', 'id', 'color', 'imagePath', 'timeSeconds', '__proto__', 'x']), randomJson(rng, depth + 1)]),
      );
    default: {
      let v: unknown = rng.pick(STRINGS);
      for (let i = rng.int(5, 60); i > 0; i--) v = [v]; // deep nesting
      return v;
    }
  }
}

/** `base` with some fields deleted or replaced by random values (top level and one level down). */
export function mutateObject(rng: Rng, base: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (let i = rng.int(1, 3); i > 0; i--) {
    const keys = Object.keys(out);
    const key = keys.length && rng.next() < 0.8 ? rng.pick(keys) : rng.pick(['extra', '__proto__', 'constructor']);
    const r = rng.next();
    if (r < 0.25) delete out[key];
    else if (r < 0.5 && typeof out[key] === 'object' && out[key] !== null && !Array.isArray(out[key])) {
      out[key] = mutateObject(rng, out[key] as Record<string, unknown>);
    } else out[key] = randomJson(rng);
  }
  return out;
}

/** Text that is almost JSON: cut, with a stray character, or not JSON at all. */
export function brokenJsonText(rng: Rng, valid: string): string {
  switch (rng.int(0, 3)) {
    case 0:
      return valid.slice(0, rng.int(0, valid.length - 1));
    case 1: {
      const at = rng.int(0, valid.length);
      return valid.slice(0, at) + rng.pick(['{', '}', ',', '"', '\\', ':', '\u0000']) + valid.slice(at);
    }
    case 2:
      return rng.bytes(rng.int(0, 200)).toString('latin1');
    default:
      return `${'['.repeat(rng.int(1000, 5000))}`; // deep nesting for the parser
  }
}
