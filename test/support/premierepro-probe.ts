// ffprobe for the FAKE premierepro module in Node: what Premiere learns about a file it imports
// (frame rate, frame count, whether it has sound).
import { runCapture } from './clips.js';
import type { MediaInfo } from './premierepro-fake-model.js';
import { rate } from './premiere-ticks.js';

export async function probeMedia(file: string): Promise<MediaInfo | null> {
  let out: Buffer;
  try {
    out = await runCapture('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,r_frame_rate,nb_read_packets', '-of', 'json', file]);
  } catch {
    return null;
  }
  const streams = (JSON.parse(out.toString()) as { streams?: { codec_type?: string; r_frame_rate?: string; nb_read_packets?: string }[] }).streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video');
  if (!v?.r_frame_rate || !v.nb_read_packets) return null;
  return { rate: rate(v.r_frame_rate), frames: Number(v.nb_read_packets), hasAudio: streams.some((s) => s.codec_type === 'audio') };
}
