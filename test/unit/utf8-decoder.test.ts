// The UTF-8 stream decoder used where TextDecoder is missing (UXP): same text as TextDecoder for
// any chunking, invalid bytes as U+FFFD.
import { describe, expect, it } from 'vitest';
import { Utf8Decoder } from '../../src/shared/utf8.js';

function chunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = seed;
  for (let i = 0; i < bytes.length;) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const n = 1 + (s % 5);
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('Utf8Decoder', () => {
  it('decodes split multi-byte characters like TextDecoder, for many chunkings', () => {
    const text = 'data: {"mediaPath":"/Users/Ève/Vidéos/東京 take 🎬.mp4"}\n\n' + 'ß∑€'.repeat(20);
    const bytes = new TextEncoder().encode(text);
    for (let seed = 1; seed <= 50; seed++) {
      const d = new Utf8Decoder();
      expect(
        chunks(bytes, seed)
          .map((c) => d.decode(c, { stream: true }))
          .join('') + d.decode(new Uint8Array(0)),
      ).toBe(text);
    }
  });

  it('invalid and truncated sequences become U+FFFD, as TextDecoder says', () => {
    for (const bad of [
      [0x41, 0xff, 0x42],
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0x80, 0x41],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      const bytes = new Uint8Array(bad);
      const ours = new Utf8Decoder().decode(bytes);
      expect(ours.replace(/\ufffd+/g, '?'), JSON.stringify(bad)).toBe(new TextDecoder().decode(bytes).replace(/\ufffd+/g, '?'));
    }
  });
});
