// The Premiere panel's pure parts: where it looks for engine.json (kept in step with the engine's
// own rules), the job range it asks for, and the host-call script text and reply reading.
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { ClipDescription } from '../../host/src/api.js';
import { jobRange, PanelMemory } from '../../panels/premiere/src/clip-jobs.js';
import { engineConfigPath } from '../../src/shared/engine-locator.js';
import { progressText, timecode } from '../../panels/premiere/src/format.js';
import { HostError, hostCallScript, readHostReply } from '../../panels/premiere/src/host-script.js';
import { configDir, configFilePath } from '../../src/engine/config.js';

describe("engine.json location (panel) matches the engine's", () => {
  it('on Linux and macOS, with and without overrides', () => {
    for (const [platform, env] of [
      ['linux', {}],
      ['linux', { XDG_CONFIG_HOME: '/xdg' }],
      ['darwin', {}],
      ['linux', { CLEANPLATE_CONFIG_DIR: '/tmp/cp-config' }],
    ] as const) {
      const homedir = process.env.HOME!;
      expect(engineConfigPath({ platform, env, homedir }), `${platform} ${JSON.stringify(env)}`).toBe(configFilePath(configDir(env, platform)));
    }
  });

  it('on Windows under %APPDATA%', () => {
    expect(engineConfigPath({ platform: 'win32', env: { APPDATA: 'C:\\Users\\ed\\AppData\\Roaming' }, homedir: 'C:\\Users\\ed' })).toBe('C:\\Users\\ed\\AppData\\Roaming\\cleanplate\\engine.json');
    expect(engineConfigPath({ platform: 'win32', env: {}, homedir: 'C:\\Users\\ed' })).toBe('C:\\Users\\ed\\AppData\\Roaming\\cleanplate\\engine.json');
  });
});

const clip = (over: Partial<ClipDescription>): ClipDescription => ({
  nodeId: 'n',
  name: 'c',
  mediaPath: '/m.mov',
  sequenceId: 's',
  trackIndex: 0,
  trackName: 'V1',
  startTicks: '0',
  endTicks: '0',
  inTicks: '0',
  outTicks: '0',
  inSeconds: 0,
  outSeconds: 0,
  speed: 1,
  mediaFps: null,
  ...over,
});

describe('job range from a clip', () => {
  it('is whole frames at the rate Premiere plays the media at, seconds when that is unknown', () => {
    // 23.976: frames 120-239 as Premiere's float seconds.
    expect(jobRange(clip({ inSeconds: (120 * 1001) / 24000, outSeconds: (240 * 1001) / 24000, mediaFps: 24000 / 1001 }))).toEqual({ in: 120, out: 240, unit: 'frames' });
    // A 25 fps file interpreted at 23.976: source seconds are in the interpreted rate, frames are the file's.
    expect(jobRange(clip({ inSeconds: 10 / (24000 / 1001), outSeconds: 60 / (24000 / 1001), mediaFps: 24000 / 1001 }))).toEqual({ in: 10, out: 60, unit: 'frames' });
    expect(jobRange(clip({ inSeconds: 1.5, outSeconds: 3 }))).toEqual({ in: 1.5, out: 3 });
  });

  it('formats timecode and progress', () => {
    expect(timecode(String(10594584000 * (61 * 24 + 3)), 24000 / 1001)).toBe('00:01:01:03'); // frame 1467 at 23.976 (timecode counts frames)
    expect(progressText({ framesDone: 12, framesTotal: 50, fps: 8.25, etaSeconds: 4.6 })).toBe('frames 12/50 · 8.3 fps · about 5 s left');
  });
});

describe('host call script', () => {
  it('passes any text to the host intact, U+2028 included, and reads replies', () => {
    const seen: unknown[] = [];
    const context = vm.createContext({ CleanPlateHost: { call: (name: string, args: string) => (seen.push(name, JSON.parse(args)), '{"ok":true,"value":7}') } });
    const text = 'line\u2028sep "quoted" \\ back';
    expect(readHostReply<number>(String(vm.runInContext(hostCallScript('getSelection', [text, { a: 1 }]), context)))).toBe(7);
    expect(seen).toEqual(['getSelection', [text, { a: 1 }]]);
  });

  it('says when the host script is not loaded or Premiere gave no JSON', () => {
    const reply = String(vm.runInContext(hostCallScript('hello', []), vm.createContext({})));
    expect(() => readHostReply(reply)).toThrow(expect.objectContaining({ code: 'host_not_loaded' }));
    const err = (() => {
      try {
        readHostReply('EvalScript error.');
      } catch (e) {
        return e as HostError;
      }
    })();
    expect(err).toBeInstanceOf(HostError);
    expect(err?.code).toBe('bridge_failed');
    expect(err?.message).toMatch(/Premiere did not answer the panel \(EvalScript error\.\)/);
  });
});

describe('panel memory', () => {
  it("keeps each media file's plate and the recent jobs (newest first, at most 12), and survives junk", () => {
    const map = new Map<string, string>();
    const store = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
    const memory = new PanelMemory(store);
    memory.setPlate('/a.mov', { backgroundId: 'bg1', label: 'frame 1' });
    expect(memory.plate('/a.mov')).toEqual({ backgroundId: 'bg1', label: 'frame 1' });
    memory.setPlate('/a.mov', undefined);
    expect(memory.plate('/a.mov')).toBeUndefined();
    const ref = { sequenceId: 's', nodeId: 'n', trackIndex: 0, mediaPath: '/a.mov', inTicks: '0', outTicks: '1' };
    for (let i = 0; i < 14; i++) memory.saveJob({ id: `j${i}`, clipName: 'a', clip: ref, mode: 'cutout' });
    memory.updateJob('j13', { placeError: 'no track' });
    expect(memory.jobs().map((j) => j.id)).toEqual(['j13', 'j12', 'j11', 'j10', 'j9', 'j8', 'j7', 'j6', 'j5', 'j4', 'j3', 'j2']);
    expect(memory.jobs()[0]!.placeError).toBe('no track');
    map.set('cleanplate.premiere.jobs', '{not json');
    expect(memory.jobs()).toEqual([]);
  });
});
