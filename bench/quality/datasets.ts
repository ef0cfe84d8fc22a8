// What the quality bench runs on: generated foregrounds (always), and from the shared data folder
// (../shared/data beside the repo, or CLEANPLATE_SHARED_DATA) real foregrounds with ground-truth
// alpha and real capture pairs, when present. Shared files are read in place, never copied.
//
// Layouts recognised in the shared folder (see its MANIFEST.md):
//   capture pairs     <dir>/<id>_img.<ext> with <dir>/<id>_back.<ext>, or the folder's only *_back
//                     file (the Background Matting v1 sample layout)
//   real foregrounds  <dir>/fgr|fg|foreground(s)/<name>.<ext> with <dir>/pha|alpha|matte(s)/<name>.<ext>
//                     (BGMv2 / Adobe layouts), or RGBA images whose alpha is not all opaque
//                     (PhotoMatte85 layout)
//   backgrounds       <dir>/backgrounds|bg|bgr/*, else the capture-pair plates and newbg* images
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage } from '../../src/engine/media/image.js';
import type { Frame } from '../../src/engine/frame.js';
import type { Composite } from '../../src/eval/perturb.js';
import { makeScene, type SceneOptions } from '../../src/eval/synthetic.js';

export interface GroundTruthImage extends Composite {
  readonly name: string;
}

/** Generated foregrounds, one per hard case, clean (the perturbation classes add the rest). */
export function generatedForegrounds(width: number, height: number): GroundTruthImage[] {
  const base: SceneOptions = { width, height, noise: 0 };
  const scenes: [string, Partial<SceneOptions>][] = [
    ['soft-edges', { softEdge: 4, seed: 3 }],
    ['thin-strands', { strands: true, seed: 5 }],
    ['semi-transparent', { veil: true, seed: 7 }],
    ['close-colour', { closeColour: true, seed: 9 }],
  ];
  return scenes.map(([name, o]) => {
    const s = makeScene(name, { ...base, ...o });
    return { name, plate: s.plate, alpha: s.alpha, foreground: s.foreground };
  });
}

const IMAGE_EXT = /\.(png|jpe?g|webp|tiff?)$/i;
const FGR_DIRS = ['fgr', 'fg', 'foreground', 'foregrounds'];
const PHA_DIRS = ['pha', 'alpha', 'matte', 'mattes'];
const BG_DIRS = ['backgrounds', 'bg', 'bgr'];

export interface CapturePair {
  readonly name: string;
  readonly frame: string;
  readonly plate: string;
}

export interface RealForeground {
  readonly name: string;
  readonly foreground: string;
  /** Separate alpha file; absent when the foreground file carries alpha (RGBA). */
  readonly alpha?: string;
}

export interface SharedData {
  /** The folder searched, or undefined when there is none. */
  readonly dir?: string;
  readonly capturePairs: CapturePair[];
  readonly realForegrounds: RealForeground[];
  readonly backgrounds: string[];
  /** What was looked for and found, in words, for the console and the report. */
  readonly notes: string[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function sharedDataDir(env: NodeJS.ProcessEnv = process.env): { dir: string; fromEnv: boolean } {
  const fromEnv = env.CLEANPLATE_SHARED_DATA;
  return fromEnv ? { dir: path.resolve(fromEnv), fromEnv: true } : { dir: path.resolve(repoRoot, '..', 'shared', 'data'), fromEnv: false };
}

const stem = (f: string) => path.basename(f).replace(/\.[^.]+$/, '');
const rel = (root: string, f: string) => path.relative(root, f) || '.';

/** Finds capture pairs, real foregrounds and backgrounds under the shared data folder. */
export async function discoverSharedData(env: NodeJS.ProcessEnv = process.env): Promise<SharedData> {
  const { dir, fromEnv } = sharedDataDir(env);
  const none = (note: string): SharedData => ({ capturePairs: [], realForegrounds: [], backgrounds: [], notes: [note] });
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return none(`no shared data folder at ${dir} (${fromEnv ? 'CLEANPLATE_SHARED_DATA' : '../shared/data beside the repo; set CLEANPLATE_SHARED_DATA to use another'}): real sets skipped`);
  }
  const files = (await readdir(dir, { recursive: true }))
    .map((f) => path.join(dir, f))
    .filter((f) => IMAGE_EXT.test(f))
    .sort();
  const byDir = new Map<string, string[]>();
  for (const f of files) byDir.set(path.dirname(f), [...(byDir.get(path.dirname(f)) ?? []), f]);
  const used = new Set<string>();
  const notes: string[] = [`shared data: ${dir}`];

  const capturePairs: CapturePair[] = [];
  for (const [d, list] of byDir) {
    const plates = list.filter((f) => /_back$/i.test(stem(f)));
    for (const frame of list.filter((f) => /_img$/i.test(stem(f)))) {
      const id = stem(frame).replace(/_img$/i, '');
      const plate = plates.find((p) => stem(p).toLowerCase() === `${id}_back`.toLowerCase()) ?? (plates.length === 1 ? plates[0] : undefined);
      if (!plate) {
        notes.push(`capture pairs: ${rel(dir, frame)} has no plate (${id}_back or a single *_back in its folder): skipped`);
        continue;
      }
      capturePairs.push({ name: `${rel(dir, d)}/${id}`, frame, plate });
      used.add(frame).add(plate);
    }
  }

  const realForegrounds: RealForeground[] = [];
  for (const [d, list] of byDir) {
    if (!FGR_DIRS.includes(path.basename(d).toLowerCase())) continue;
    const parent = path.dirname(d);
    const alphaDir = PHA_DIRS.map((p) => path.join(parent, p)).find((p) => byDir.has(p));
    if (!alphaDir) {
      notes.push(`real foregrounds: ${rel(dir, d)} has no sibling ${PHA_DIRS.join('|')} folder: skipped`);
      continue;
    }
    const alphas = byDir.get(alphaDir)!;
    for (const fg of list) {
      const alpha = alphas.find((a) => stem(a) === stem(fg));
      if (!alpha) continue;
      realForegrounds.push({ name: `${rel(dir, parent)}/${stem(fg)}`, foreground: fg, alpha });
      used.add(fg).add(alpha);
    }
  }
  for (const f of files) {
    if (used.has(f) || PHA_DIRS.includes(path.basename(path.dirname(f)).toLowerCase())) continue;
    const meta = await sharp(f)
      .metadata()
      .catch(() => undefined);
    if (!meta?.hasAlpha) continue;
    const { isOpaque } = await sharp(f).stats();
    if (!isOpaque) {
      realForegrounds.push({ name: rel(dir, f).replace(/\.[^.]+$/, ''), foreground: f });
      used.add(f);
    }
  }

  let backgrounds = files.filter((f) => BG_DIRS.includes(path.basename(path.dirname(f)).toLowerCase()) && !used.has(f));
  if (backgrounds.length === 0) {
    backgrounds = [...new Set(capturePairs.map((p) => p.plate)), ...files.filter((f) => /^newbg|background/i.test(path.basename(f)) && !used.has(f))];
  }

  notes.push(
    capturePairs.length
      ? `capture pairs (frame + plate, no ground truth): ${capturePairs.length} (${capturePairs.map((p) => `${rel(dir, p.frame)} + ${rel(dir, p.plate)}`).join('; ')})`
      : 'capture pairs: none found (looked for <id>_img + <id>_back images)',
  );
  notes.push(
    realForegrounds.length
      ? `real foregrounds with ground-truth alpha: ${realForegrounds.length}, composited onto ${backgrounds.length || 'generated'} background(s)`
      : `real foregrounds with ground-truth alpha: none found (looked for ${FGR_DIRS.join('|')}/ + ${PHA_DIRS.join('|')}/ folders and RGBA images with transparency): real set skipped`,
  );
  return { dir, capturePairs, realForegrounds, backgrounds, notes };
}

/** A real foreground fitted into width x height (kept whole, standing on the bottom edge). */
export async function loadRealForeground(fg: RealForeground, width: number, height: number, plate: Frame): Promise<GroundTruthImage> {
  const fit = { fit: 'contain' as const, position: 'bottom', background: { r: 0, g: 0, b: 0, alpha: 0 } };
  const n = width * height;
  const alpha = new Float32Array(n);
  const foreground = new Float32Array(n * 3);
  if (fg.alpha) {
    const [colour, matte] = await Promise.all([
      sharp(fg.foreground).resize(width, height, fit).removeAlpha().toColourspace('srgb').raw().toBuffer(),
      sharp(fg.alpha).resize(width, height, fit).extractChannel(0).raw().toBuffer(),
    ]);
    const [cm, am] = await Promise.all([sharp(fg.foreground).metadata(), sharp(fg.alpha).metadata()]);
    if (cm.width !== am.width || cm.height !== am.height) {
      throw new Error(`${fg.name}: foreground is ${cm.width}x${cm.height} but its alpha is ${am.width}x${am.height}`);
    }
    for (let i = 0; i < n; i++) alpha[i] = matte[i]! / 255;
    for (let i = 0; i < n * 3; i++) foreground[i] = colour[i]! / 255;
  } else {
    // sharp resizes RGBA premultiplied and returns straight colour, as the ground truth needs.
    const rgba = await sharp(fg.foreground).resize(width, height, fit).ensureAlpha().toColourspace('srgb').raw().toBuffer();
    for (let i = 0; i < n; i++) {
      alpha[i] = rgba[4 * i + 3]! / 255;
      for (let k = 0; k < 3; k++) foreground[3 * i + k] = rgba[4 * i + k]! / 255;
    }
  }
  return { name: fg.name, plate, alpha, foreground };
}

/** A background image cropped to fill width x height, as an RGB plate. */
export async function loadBackground(file: string, width: number, height: number): Promise<Frame> {
  const data = await sharp(file).resize(width, height, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 3 };
}

/** A capture pair decoded as the engine decodes stills; a plate of another size is resized to the frame. */
export async function loadCapturePair(p: CapturePair): Promise<{ frame: Frame; plate: Frame; note?: string }> {
  const frame = await decodeImage(await readFile(p.frame), path.basename(p.frame));
  let plate = await decodeImage(await readFile(p.plate), path.basename(p.plate));
  if (plate.width !== frame.width || plate.height !== frame.height) {
    const note = `${p.name}: plate ${plate.width}x${plate.height} resized to the frame's ${frame.width}x${frame.height}`;
    const data = await sharp(plate.data, { raw: { width: plate.width, height: plate.height, channels: 3 } })
      .resize(frame.width, frame.height, { fit: 'fill' })
      .raw()
      .toBuffer();
    plate = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: frame.width, height: frame.height, channels: 3 };
    return { frame, plate, note };
  }
  return { frame, plate };
}
