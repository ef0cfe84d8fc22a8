// Times and progress as the panel shows them.
import { TICKS_PER_SECOND } from '../../../host/src/api.js';
import type { JobProgress } from '../../../src/shared/api.js';

const two = (n: number): string => String(n).padStart(2, '0');

/** hh:mm:ss:ff at a nominal frame rate (non-drop). */
export function timecode(ticks: string, fps: number): string {
  const nominal = Math.round(fps) || 25;
  const frames = Math.floor((Number(ticks) / TICKS_PER_SECOND) * fps + 1e-6);
  const s = Math.floor(frames / nominal);
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}:${two(frames % nominal)}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${two(Math.round(seconds % 60))} s` : `${Math.floor(m / 60)} h ${two(m % 60)} min`;
}

/** "frames 12/50 · 8.3 fps · about 5 s left" */
export function progressText(p: JobProgress): string {
  const parts = [`frames ${p.framesDone}/${p.framesTotal}`];
  if (p.fps > 0) parts.push(`${p.fps.toFixed(p.fps < 10 ? 1 : 0)} fps`);
  if (p.etaSeconds !== null && p.framesDone < p.framesTotal) parts.push(`about ${duration(p.etaSeconds)} left`);
  return parts.join(' · ');
}
