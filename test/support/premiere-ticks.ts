// Premiere's time base, for both FAKE Premieres (the ExtendScript DOM and the UXP premierepro
// module): 254016000000 ticks a second, frame rates as fractions. Browser-safe (no Node imports).

export const TPS = 254016000000n;

/** Frames per second as a fraction, e.g. 24000/1001. */
export interface Rate {
  readonly num: number;
  readonly den: number;
}

/** "24000/1001" or "25" (ffprobe's r_frame_rate, Premiere's rates). */
export function rate(text: string): Rate {
  const [num, den] = text.split('/').map(Number);
  return { num: num!, den: den ?? 1 };
}

/** Ticks per frame at a rate: exact for the broadcast rates, an error for a rate without a whole tick frame. */
export function ticksPerFrame(r: Rate): bigint {
  const ticks = TPS * BigInt(r.den);
  if (ticks % BigInt(r.num) !== 0n) throw new Error(`rate ${r.num}/${r.den} has no whole tick frame duration`);
  return ticks / BigInt(r.num);
}
