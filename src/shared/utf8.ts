// A streaming UTF-8 decoder for where TextDecoder is missing (UXP, Premiere's plugin runtime,
// has none): bytes of a character split across chunks wait for the next chunk. Invalid bytes
// become U+FFFD, as TextDecoder's default.

export interface StreamDecoder {
  decode(bytes: Uint8Array, options?: { stream?: boolean }): string;
}

function seqLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead < 0xe0) return 2;
  if (lead >= 0xe0 && lead < 0xf0) return 3;
  if (lead >= 0xf0 && lead < 0xf5) return 4;
  return 0; // continuation byte or invalid lead
}

export class Utf8Decoder implements StreamDecoder {
  private pending: number[] = [];

  decode(bytes: Uint8Array, options: { stream?: boolean } = {}): string {
    const all = this.pending.length > 0 ? [...this.pending, ...bytes] : bytes;
    this.pending = [];
    let out = '';
    let i = 0;
    while (i < all.length) {
      const lead = all[i]!;
      const n = seqLength(lead);
      if (n === 1) {
        out += String.fromCharCode(lead);
        i++;
        continue;
      }
      if (n === 0) {
        out += '\ufffd';
        i++;
        continue;
      }
      if (i + n > all.length) {
        if (options.stream) this.pending = Array.from(all.slice(i));
        else out += '\ufffd';
        break;
      }
      let cp = lead & (0xff >> (n + 1));
      let ok = true;
      for (let k = 1; k < n; k++) {
        const b = all[i + k]!;
        if ((b & 0xc0) !== 0x80) ok = false;
        cp = (cp << 6) | (b & 0x3f);
      }
      const min = n === 2 ? 0x80 : n === 3 ? 0x800 : 0x10000;
      if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        out += '\ufffd';
        i++;
        continue;
      }
      out += String.fromCodePoint(cp);
      i += n;
    }
    return out;
  }
}

/** TextDecoder where there is one, else Utf8Decoder. */
export function streamDecoder(): StreamDecoder {
  return typeof TextDecoder === 'function' ? new TextDecoder() : new Utf8Decoder();
}
