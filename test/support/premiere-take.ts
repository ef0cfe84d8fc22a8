// Footage for the Premiere panel tests (CEP and UXP): take.mp4, 3 s at 25 fps with sound, whose
// first PLATE_FRAMES frames show the empty scene before the subject walks in; and the alpha of a
// rendered matte measured inside or outside the subject.
import path from 'node:path';
import { makeClip, runCapture } from './clips.js';

export const PLATE_FRAMES = 10;
export const TAKE_W = 320;
export const TAKE_H = 180;

export interface Take {
  readonly path: string;
  readonly platePath: string;
}

export async function makeTake(dir: string): Promise<Take> {
  const subject = await makeClip(dir, 'subject', { frames: 65, rate: '25' });
  const take = path.join(dir, 'take.mp4');
  await runCapture('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-loop',
    '1',
    '-framerate',
    '25',
    '-t',
    String(PLATE_FRAMES / 25),
    '-i',
    subject.platePath,
    '-i',
    subject.path,
    '-f',
    'lavfi',
    '-t',
    '3',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-filter_complex',
    '[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[v]',
    '-map',
    '[v]',
    '-map',
    '2:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '12',
    '-g',
    '12',
    '-r',
    '25',
    '-c:a',
    'aac',
    '-y',
    take,
  ]);
  return { path: take, platePath: subject.platePath };
}

/** Mean alpha of `frame` of a matte with alpha, inside the subject rect (shrunk 4 px) or well outside it. */
export async function alphaMean(file: string, frame: number, rect: { x: number; y: number; w: number; h: number }, inside: boolean): Promise<number> {
  const raw = await runCapture('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${frame}),alphaextract`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
  let sum = 0;
  let n = 0;
  for (let y = 0; y < TAKE_H; y++) {
    for (let x = 0; x < TAKE_W; x++) {
      const within = x >= rect.x + 4 && x < rect.x + rect.w - 4 && y >= rect.y + 4 && y < rect.y + rect.h - 4;
      const outside = x < rect.x - 8 || x >= rect.x + rect.w + 8 || y < rect.y - 8 || y >= rect.y + rect.h + 8;
      if (inside ? within : outside && y > 30) {
        sum += raw[y * TAKE_W + x]!;
        n++;
      }
    }
  }
  return sum / n;
}
