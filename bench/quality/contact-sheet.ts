// PNG contact sheets: one row per image, one labelled column per view (frame, plate, ground
// truth, each model's alpha and error). Cells are shrunk to tiles as rows are added, so a sheet
// holds only small tiles, never full frames; sharp composites them with SVG text labels.
import sharp from 'sharp';
import type { Frame, Plane } from '../../src/engine/matting/types.js';

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

/** max over channels of |frame - plate|, x4 so small differences are visible. */
export function differencePlane(frame: Frame, plate: Frame): Plane {
  const n = frame.width * frame.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < 3; k++) m = Math.max(m, Math.abs(frame.data[i * frame.channels + k]! - plate.data[i * plate.channels + k]!));
    out[i] = Math.min(255, 4 * m);
  }
  return { data: out, width: frame.width, height: frame.height };
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
      r.tiles.flatMap((t, i) =>
        t ? [{ input: t, raw: { width: this.tileWidth, height: this.tileHeight, channels: 3 as const }, left: colX(i), top: rowY(j) }] : [],
      ),
    );
    return sharp({ create: { width: W, height: H, channels: 3, background: { r: 20, g: 20, b: 20 } } })
      .composite([...tiles, { input: Buffer.from(svg), left: 0, top: 0 }])
      .png({ compressionLevel: 6 })
      .toBuffer();
  }
}
