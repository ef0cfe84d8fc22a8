// PNG contact sheets: one row per image, one labelled column per view (frame, plate, ground
// truth, each model's alpha and error). Cells are shrunk to tiles as rows are added, so a sheet
// holds only small tiles, never full frames; sharp composites them with SVG text labels.
import sharp from 'sharp';
import type { Frame, Plane } from '../../src/engine/frame.js';

export type Cell = Frame | Plane | undefined;

const HEADER = 22;
/** Dark gap between tiles, so neighbouring images do not read as one. */
const GAP = 3;
const FONT = 'font-family="DejaVu Sans, sans-serif" font-size="13"';

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** |pred - truth| coloured black -> red -> yellow -> white, on a square-root scale so small errors show. */
export function errorHeatMap(pred: Plane, truth: Float32Array): Frame {
  const n = pred.width * pred.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const e = Math.sqrt(Math.min(1, Math.abs(pred.data[i]! / 255 - truth[i]!)));
    out[3 * i] = Math.round(255 * Math.min(1, 3 * e));
    out[3 * i + 1] = Math.round(255 * Math.min(1, Math.max(0, 3 * e - 1)));
    out[3 * i + 2] = Math.round(255 * Math.max(0, 3 * e - 2));
  }
  return { data: out, width: pred.width, height: pred.height, channels: 3 };
}

/** Ground-truth alpha (0..1) as an 8-bit plane. */
export function truthPlane(alpha: Float32Array, width: number, height: number): Plane {
  return { data: Uint8Array.from(alpha, (a) => Math.round(255 * a)), width, height };
}

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** The box around true alpha > 0, with `margin` (share of its size) on each side, widened to the
 * `aspect` (width / height) of the tiles and kept inside the image: small subjects of a large
 * frame (the transplant set) then fill their tiles. */
export function subjectBox(alpha: Float32Array, width: number, height: number, aspect: number, margin = 0.6): Box {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (alpha[y * width + x]! <= 0) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) return { left: 0, top: 0, width, height };
  let w = (x1 - x0 + 1) * (1 + 2 * margin);
  let h = (y1 - y0 + 1) * (1 + 2 * margin);
  if (w / h < aspect) w = h * aspect;
  else h = w / aspect;
  w = Math.min(width, Math.round(w));
  h = Math.min(height, Math.round(h));
  const left = Math.max(0, Math.min(width - w, Math.round((x0 + x1 - w) / 2)));
  const top = Math.max(0, Math.min(height - h, Math.round((y0 + y1 - h) / 2)));
  return { left, top, width: w, height: h };
}

/** A cell cut to `box`. */
export function cropCell<C extends Frame | Plane>(c: C, box: Box): C {
  const ch = 'channels' in c ? c.channels : 1;
  const data = new Uint8Array(box.width * box.height * ch);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * c.width + box.left) * ch;
    data.set(c.data.subarray(from, from + box.width * ch), y * box.width * ch);
  }
  return { ...c, data, width: box.width, height: box.height };
}

interface Row {
  readonly label: string;
  readonly tiles: (Buffer | undefined)[];
}

export class ContactSheet {
  private readonly rows: Row[] = [];

  constructor(
    readonly title: string,
    readonly columns: readonly string[],
    readonly tileWidth: number,
    readonly tileHeight: number,
  ) {}

  get rowCount(): number {
    return this.rows.length;
  }

  /** Adds a row; `cells` follow `columns` (undefined = empty cell, e.g. no ground truth). */
  async addRow(label: string, cells: readonly Cell[]): Promise<void> {
    if (cells.length !== this.columns.length) throw new Error(`contact sheet row has ${cells.length} cells for ${this.columns.length} columns`);
    const tiles = await Promise.all(cells.map((c) => (c ? this.tile(c) : undefined)));
    this.rows.push({ label, tiles });
  }

  private async tile(c: Frame | Plane): Promise<Buffer> {
    const channels = 'channels' in c ? c.channels : 1;
    const img = sharp(c.data, { raw: { width: c.width, height: c.height, channels } })
      .resize(this.tileWidth, this.tileHeight, { fit: 'contain', background: { r: 40, g: 40, b: 40 } })
      .removeAlpha();
    // Single-channel planes are widened to RGB so every tile composites alike.
    return (channels === 1 ? img.toColourspace('srgb') : img).raw().toBuffer();
  }

  async toPng(): Promise<Buffer> {
    const colX = (i: number) => i * (this.tileWidth + GAP);
    const rowY = (j: number) => HEADER * 2 + j * (this.tileHeight + GAP);
    const W = colX(this.columns.length) - GAP;
    const H = rowY(this.rows.length) - GAP;
    const labels = [
      `<text x="6" y="16" ${FONT} font-weight="bold" fill="#fff">${escapeXml(this.title)}</text>`,
      ...this.columns.map((c, i) => `<text x="${colX(i) + 6}" y="${HEADER + 16}" ${FONT} fill="#fff">${escapeXml(c)}</text>`),
      ...this.rows.map((r, j) => {
        const y = rowY(j);
        const w = Math.min(this.tileWidth - 4, 8 + 7.5 * r.label.length);
        return `<rect x="2" y="${y + 2}" width="${w}" height="18" fill="#000" fill-opacity="0.6"/><text x="6" y="${y + 15}" ${FONT} fill="#ff0">${escapeXml(r.label)}</text>`;
      }),
    ];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${labels.join('')}</svg>`;
    const tiles = this.rows.flatMap((r, j) =>
      r.tiles.flatMap((t, i) => (t ? [{ input: t, raw: { width: this.tileWidth, height: this.tileHeight, channels: 3 as const }, left: colX(i), top: rowY(j) }] : [])),
    );
    return sharp({ create: { width: W, height: H, channels: 3, background: { r: 20, g: 20, b: 20 } } })
      .composite([...tiles, { input: Buffer.from(svg), left: 0, top: 0 }])
      .png({ compressionLevel: 6 })
      .toBuffer();
  }
}
