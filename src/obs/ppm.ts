// OBS's ppm screenshots (Qt's writer: binary P6, maxval 255) as raw RGB rows: the format whose
// frames cost nothing to decode on either side (docs/performance.md, live). Browser-safe.

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width*height*3 bytes, top row first (a view into the file, not a copy). */
  readonly pixels: Uint8Array;
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** The pixels of a binary PPM; throws naming what is wrong with the file. */
export function ppmPixels(file: Uint8Array): RgbImage {
  if (file[0] !== 0x50 || file[1] !== 0x36) throw new Error('screenshot is not a binary PPM (no "P6" magic)');
  let at = 2;
  const fields: number[] = [];
  while (fields.length < 3) {
    while (at < file.length && isSpace(file[at]!)) at++;
    if (file[at] === 0x23) {
      while (at < file.length && file[at] !== 0x0a) at++; // a comment runs to the end of its line
      continue;
    }
    const start = at;
    let value = 0;
    while (at < file.length && file[at]! >= 0x30 && file[at]! <= 0x39 && at - start < 6) value = value * 10 + file[at++]! - 0x30;
    if (at === start || !isSpace(file[at] ?? 0)) throw new Error('screenshot PPM header is malformed');
    fields.push(value);
  }
  const [width, height, maxval] = fields as [number, number, number];
  if (maxval !== 255) throw new Error(`screenshot PPM has maxval ${maxval}; only 8-bit (255) is read`);
  const pixels = file.subarray(at + 1); // exactly one whitespace byte ends the header
  if (width === 0 || height === 0 || pixels.byteLength !== width * height * 3) {
    throw new Error(`screenshot PPM of ${width}x${height} needs ${width * height * 3} pixel bytes, has ${pixels.byteLength}`);
  }
  return { width, height, pixels };
}
