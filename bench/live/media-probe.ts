// The last hop of the live path: a matte handed to the stream until OBS shows it. A NUT stream of
// the engine's own kind (NutStreamServer, real ffmpeg) plays in an OBS Media Source with the
// matte layer's settings; the probe switches the stream between two solid colours and polls tiny
// screenshots of the Media Source until the new colour shows. Each sample is the time from
// setFrame() to the answer of the first screenshot showing it, less half that screenshot's round
// trip: the ticker's wait and ffmpeg (the engine's "mux" hop) plus OBS's demux, decode and frame
// pacing ("media source").
import type OBSWebSocket from 'obs-websocket-js';
import { NutStreamServer } from '../../src/engine/live/nut-stream.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { mediaLayerSettings } from '../../src/obs/scene-layers.js';
import { centrePixel } from './screenshots.js';

const PROBE_INPUT = 'CleanPlate bench media probe';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface MediaProbe {
  /** setFrame -> shown in OBS, ms, one per colour switch. */
  readonly shownMs: number[];
  /** The engine-side part of it: setFrame -> written into the player's ffmpeg. */
  readonly muxMs: { median: number | null; p95: number | null };
}

function solid(width: number, height: number, rgb: readonly [number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < out.length; i += 4) out.set([rgb[0], rgb[1], rgb[2], 255], i);
  return out;
}

export async function probeMediaSource(client: OBSWebSocket, scene: string, width: number, height: number, fps: number, switches = 12): Promise<MediaProbe> {
  const { ffmpeg } = await mediaTools();
  const stream = await NutStreamServer.start({ width, height, fps, ffmpegPath: ffmpeg.path });
  const colours = [solid(width, height, [250, 20, 20]), solid(width, height, [20, 250, 20])] as const;
  const shownMs: number[] = [];
  try {
    stream.setFrame(colours[1]);
    const settings = mediaLayerSettings({ sessionId: 0, model: 'probe', provider: 'cpu', width, height, fps, streamUrl: stream.url, streamFormat: 'nut', watchKey: '' });
    await client.call('CreateInput', { sceneName: scene, inputName: PROBE_INPUT, inputKind: 'ffmpeg_source', inputSettings: settings, sceneItemEnabled: true });
    // Wait until the player is connected and showing the stream.
    const ready = performance.now() + 15_000;
    while ((await centrePixel(client, PROBE_INPUT))[1] < 200) {
      if (performance.now() > ready) throw new Error('the probe Media Source never showed its stream');
      await sleep(100);
    }
    for (let i = 0; i < switches; i++) {
      const red = i % 2 === 0;
      await sleep(150 + ((i * 37) % 60)); // not in step with the ticker
      const set = performance.now();
      stream.setFrame(colours[red ? 0 : 1]);
      const deadline = set + 5000;
      for (;;) {
        const asked = performance.now();
        const [r, g] = await centrePixel(client, PROBE_INPUT);
        const answered = performance.now();
        if (red ? r > 200 && g < 60 : g > 200 && r < 60) {
          shownMs.push(Math.max(0, answered - (answered - asked) / 2 - set));
          break;
        }
        if (answered > deadline) throw new Error('the probe Media Source did not show a new frame within 5 s');
      }
    }
    return { shownMs, muxMs: stream.muxMs.summary() };
  } finally {
    await client.call('RemoveInput', { inputName: PROBE_INPUT }).catch(() => undefined);
    await stream.close();
  }
}
