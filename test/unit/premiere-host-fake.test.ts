// The Premiere host script (host/src, built to one ES3 file) run in a Node vm context stripped
// to ES3 built-ins, against a FAKE Premiere DOM (test/support/premiere-fake.ts) that follows the
// documented ExtendScript API. Matte files are real (ffmpeg) and the fake probes them on import.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipRef, ClipDescription } from '../../host/src/api.js';
import { HostError } from '../../panels/premiere/src/host-script.js';
import { checkEs3 } from '../../scripts/premiere-build.js';
import { runCapture } from '../support/clips.js';
import { fakePremiere } from '../support/premiere-fake.js';
import { rate, ticksPerFrame, TPS } from '../support/premiere-ticks.js';
import { Es3Host, es3Context, hostScript } from '../support/premiere-host.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-ppro-host-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real little video file: `frames` frames at `fps` (what an engine job would write). */
async function video(name: string, fps: string, frames: number): Promise<string> {
  const file = path.join(dir, name);
  await runCapture('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `color=c=gray:s=64x36:r=${fps}`, '-frames:v', String(frames), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', file]);
  return file;
}

function refOf(c: ClipDescription): ClipRef {
  return { sequenceId: c.sequenceId, nodeId: c.nodeId, trackIndex: c.trackIndex, mediaPath: c.mediaPath, inTicks: c.inTicks, outTicks: c.outTicks };
}

function hostErrorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof HostError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a host error');
}

/** A project with `take.mp4` (media at `mediaRate`) on V1 of a sequence at `seqRate`, linked audio on A1. */
async function setup(seqRate: string, mediaRate = seqRate, opts: { startFrame?: number; inFrame?: number; frames?: number; videoTracks?: number } = {}) {
  const { app, project } = fakePremiere();
  const seq = project.addSequence('Interview', seqRate, { videoTracks: opts.videoTracks ?? 3 });
  const media = project.addMedia(path.join(dir, `take-${mediaRate.replace('/', '_')}.mp4`), { rate: rate(mediaRate), frames: 200 });
  const clip = seq.addClip(media, { track: 0, startFrame: opts.startFrame ?? 48, inFrame: opts.inFrame ?? 12, frames: opts.frames ?? 60, linkedAudioTrack: 0 });
  const host = await Es3Host.load(app);
  return { app, project, seq, media, clip, host };
}

describe('ES3 bundle in a stripped vm context (fake Premiere)', () => {
  it('parses as ES3 and runs where ES5 built-ins are missing', async () => {
    const script = await hostScript();
    expect(() => checkEs3(script)).not.toThrow();
    // The context really is ES3: what the host must not rely on is gone...
    const ctx = es3Context();
    expect(
      vm.runInContext('[typeof JSON, typeof [].map, typeof [].forEach, typeof [].indexOf, typeof Object.keys, typeof "".trim, typeof function(){}.bind, typeof Date.now, typeof Array.isArray]', ctx),
    ).toEqual(Array(9).fill('undefined'));
    // ...so code using it fails there, as it would in Premiere.
    expect(() => vm.runInContext('[1, 2].map(function (x) { return x; })', ctx)).toThrow(/not a function/);
    // And the checker refuses ES5 syntax.
    expect(() => checkEs3('var o = { get a() { return 1; } };')).toThrow(/not ES3/);
    expect(() => checkEs3('var o = { a: 1, };')).toThrow(/not ES3/);
    expect(() => checkEs3('p.catch(f);')).toThrow(/not ES3/);
  });

  it('answers hello with its version and JSON that survives quotes, control characters and U+2028', async () => {
    const { host } = await setup('25');
    expect(host.call('hello')).toEqual({ host: 'Premiere Pro', hostVersion: '24.0.0', scriptVersion: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    // An unknown function and malformed arguments come back as errors, not exceptions.
    expect(JSON.parse(host.raw('nope', []))).toEqual({ ok: false, error: { code: 'bad_request', message: expect.stringContaining('nope') } });
    expect(JSON.parse(host.evalScript('CleanPlateHost.call("hello", "[1,")'))).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('JSON') } });
    const weird = 'a"b\\c\n\t\u0001\u2028é/😀';
    const reply = host.raw('placeMatte', [{ clip: { sequenceId: 'x', nodeId: weird, trackIndex: 0, mediaPath: weird, inTicks: '0', outTicks: '1' }, mattePath: weird, mode: 'cutout' }]);
    expect(JSON.parse(reply)).toEqual({ ok: false, error: { code: 'clip_gone', message: expect.any(String) } });
  });
});

describe('selection and playhead (fake Premiere DOM)', () => {
  it('describes the selected video clip and leaves its linked audio out', async () => {
    const { seq, clip, host, media } = await setup('24000/1001');
    seq.select(clip);
    expect(seq.getSelection().length).toBe(2); // the fake returns linked audio, as Premiere does
    const sel = host.call('getSelection');
    expect(sel.audioItemsIgnored).toBe(1);
    expect(sel.sequence).toEqual({ id: seq.sequenceID, name: 'Interview', timebase: '10594584000', fps: 24000 / 1001, width: 320, height: 180 });
    expect(sel.clips).toHaveLength(1);
    const tpf = ticksPerFrame(rate('24000/1001'));
    expect(sel.clips[0]).toEqual({
      nodeId: clip.nodeId,
      name: media.name,
      mediaPath: media.getMediaPath(),
      sequenceId: seq.sequenceID,
      trackIndex: 0,
      trackName: 'V1',
      startTicks: String(48n * tpf),
      endTicks: String(108n * tpf),
      inTicks: String(12n * tpf),
      outTicks: String(72n * tpf),
      inSeconds: Number(12n * tpf) / Number(TPS),
      outSeconds: Number(72n * tpf) / Number(TPS),
      speed: 1,
      mediaFps: 24000 / 1001,
    });
  });

  it('with nothing selected or no sequence open, says so', async () => {
    const { project, host } = await setup('25');
    expect(host.call('getSelection').clips).toEqual([]);
    expect(hostErrorOf(() => host.call('getPlayheadFrame'))).toEqual({ code: 'no_selection', message: expect.stringContaining('Select the clip') });
    project.activeSequence = null;
    expect(host.call('getSelection')).toEqual({ sequence: null, clips: [], audioItemsIgnored: 0 });
    expect(hostErrorOf(() => host.call('getPlayheadFrame')).code).toBe('no_sequence');
  });

  it('refuses nested sequences and offline media with a clear message', async () => {
    const { project, seq, host } = await setup('25');
    const inner = project.addSequence('B-roll nest', '25');
    const nest = seq.addClip(inner.projectItem, { track: 0, startFrame: 200, frames: 50 });
    const lost = project.addMedia(path.join(dir, 'lost.mov'), { rate: rate('25'), frames: 100 });
    lost.offline = true;
    const offline = seq.addClip(lost, { track: 1, startFrame: 300, frames: 25 });
    seq.select(nest, offline);
    const clips = host.call('getSelection').clips;
    expect(clips.map((c) => [c.name, c.refusal?.code])).toEqual([
      ['B-roll nest', 'nested_sequence'],
      ['lost.mov', 'offline_media'],
    ]);
    expect(clips[0]!.refusal!.message).toMatch(/"B-roll nest" is a nested sequence.*open the nest/);
    expect(clips[1]!.refusal!.message).toMatch(/"lost.mov" is offline.*lost\.mov is missing.*Relink/);
    seq.playheadTicks = seq.frame(210);
    expect(hostErrorOf(() => host.call('getPlayheadFrame'))).toEqual({ code: 'clip_refused', message: clips[0]!.refusal!.message });
  });

  it('refuses a clip at a speed other than 100% or reversed', async () => {
    const { project, seq, host } = await setup('25');
    const media = project.addMedia(path.join(dir, 'slow.mp4'), { rate: rate('25'), frames: 100 });
    const slow = seq.addClip(media, { track: 1, startFrame: 0, frames: 20, speed: 0.5 });
    const back = seq.addClip(media, { track: 2, startFrame: 0, frames: 20, reversed: true });
    seq.select(slow, back);
    const clips = host.call('getSelection').clips;
    expect(clips.map((c) => c.refusal?.code).sort()).toEqual(['reversed', 'speed_changed']);
    expect(clips.find((c) => c.refusal?.code === 'speed_changed')!.refusal!.message).toMatch(/plays at 50% speed.*100%/);
    expect(clips.find((c) => c.speed === 0.5)!.endTicks).toBe(String(seq.frame(40))); // 20 source frames shown over 40
  });

  it('gives the source frame under the playhead, exactly, and refuses a playhead outside the clip', async () => {
    for (const r of ['24000/1001', '25', '30000/1001']) {
      const { seq, clip, host } = await setup(r);
      seq.select(clip);
      seq.playheadTicks = seq.frame(48 + 37); // 37 frames into the clip, which starts at source frame 12
      const frame = host.call('getPlayheadFrame');
      const tpf = ticksPerFrame(rate(r));
      expect(frame.sourceTicks).toBe(String(49n * tpf));
      expect(frame.sequenceTicks).toBe(String(85n * tpf));
      expect(frame.sourceSeconds).toBeCloseTo((49 * Number(rate(r).den)) / Number(rate(r).num), 9);
      expect(frame.clip.nodeId).toBe(clip.nodeId);
      seq.playheadTicks = seq.frame(108); // the clip's end is exclusive
      const outside = hostErrorOf(() => host.call('getPlayheadFrame'));
      expect(outside.code).toBe('playhead_outside_clip');
      const nominal = Math.round(Number(rate(r).num) / Number(rate(r).den));
      const tc = `00:00:0${Math.floor(108 / nominal)}:${String(108 % nominal).padStart(2, '0')}`;
      expect(outside.message).toContain(`playhead (${tc}) is not over the selected clip`);
    }
  });

  it('tells the panel when the selection changes (CSXS event)', async () => {
    const { seq, clip, host } = await setup('25');
    seq.select(clip);
    expect(host.events.at(-1)).toEqual({ type: 'com.cleanplate.host.selectionChanged', data: JSON.stringify({ sequenceId: seq.sequenceID }) });
  });
});

describe('placing a matte (fake Premiere DOM, real files)', () => {
  async function placeAt(seqRate: string, videoTracks = 3) {
    const s = await setup(seqRate, seqRate, { startFrame: 37, inFrame: 5, frames: 29, videoTracks });
    // V2 holds a user's clip over part of the range: the matte must go to V3.
    const user = s.project.addMedia(path.join(dir, 'title.mp4'), { rate: rate(seqRate), frames: 500 });
    s.seq.addClip(user, { track: 1, startFrame: 50, frames: 10, name: 'Lower third' });
    s.seq.select(s.clip);
    const desc = s.host.call('getSelection').clips[0]!;
    const matte = await video(`matte-${seqRate.replace('/', '_')}.mp4`, seqRate, 29);
    return { ...s, desc, matte };
  }

  for (const r of ['24000/1001', '25', '30000/1001']) {
    it(`imports into "CleanPlate Mattes" and places frame-exactly on the first free track above at ${r}`, async () => {
      const { project, seq, host, desc, matte } = await placeAt(r);
      const before = JSON.stringify(seq.videoTrackList[1]!.items.map((c) => [c.name, c.startTicks, c.endTicks, c.inTicks, c.outTicks].join()));
      expect(host.call('planPlacement', refOf(desc))).toEqual({ trackIndex: 2, trackName: 'V3', startTicks: desc.startTicks, endTicks: desc.endTicks });
      const placed = host.call('placeMatte', { clip: refOf(desc), mattePath: matte, mode: 'cutout' });
      expect(placed).toEqual({
        trackIndex: 2,
        trackName: 'V3',
        startTicks: desc.startTicks,
        endTicks: desc.endTicks,
        binName: 'CleanPlate Mattes',
        itemName: path.basename(matte),
        reusedItem: false,
        frameRateOverride: null,
      });
      // In the project: one bin with the imported file, one new track item on V3 at the clip's exact ticks.
      const bin = project.rootItem.items.find((i) => i.name === 'CleanPlate Mattes')!;
      expect(bin.items.map((i) => i.getMediaPath())).toEqual([matte]);
      const v3 = seq.videoTrackList[2]!.items;
      expect(v3).toHaveLength(1);
      expect([v3[0]!.startTicks, v3[0]!.endTicks]).toEqual([BigInt(desc.startTicks), BigInt(desc.endTicks)]);
      expect(v3[0]!.name).toBe(`Cut-out: ${desc.name}`);
      expect(v3[0]!.endTicks - v3[0]!.startTicks).toBe(29n * ticksPerFrame(rate(r)));
      // Nothing else moved: the user's clip on V2 and the original on V1 are as they were.
      expect(JSON.stringify(seq.videoTrackList[1]!.items.map((c) => [c.name, c.startTicks, c.endTicks, c.inTicks, c.outTicks].join()))).toBe(before);
      expect(project.log.filter((l) => l.startsWith('overwrote'))).toEqual([]);
      expect(project.log).toEqual([`importFiles ${matte}`, `overwriteClip Video 3 ${path.basename(matte)}`]);
    });
  }

  it('reuses the imported item when placing the same file again, and refuses once every track above is taken', async () => {
    const { project, host, desc, matte } = await placeAt('25', 4);
    expect(host.call('placeMatte', { clip: refOf(desc), mattePath: matte, mode: 'cutout' })).toMatchObject({ trackName: 'V3', reusedItem: false });
    expect(host.call('placeMatte', { clip: refOf(desc), mattePath: matte, mode: 'cutout' })).toMatchObject({ trackName: 'V4', reusedItem: true });
    expect(project.rootItem.items.find((i) => i.name === 'CleanPlate Mattes')!.items).toHaveLength(1);
    // Nothing is free above V1 any more: refused before importing or placing anything.
    const stateBefore = JSON.stringify(project.state());
    const full = hostErrorOf(() => host.call('placeMatte', { clip: refOf(desc), mattePath: matte, mode: 'trackMatte' }));
    expect(full.code).toBe('no_free_track');
    expect(full.message).toMatch(/No free video track above V1 over 00:00:01:12-00:00:02:16 \(V2, V3, V4 in use there\)\. Add a video track/);
    expect(JSON.stringify(project.state())).toBe(stateBefore);
    expect(project.log.filter((l) => l.startsWith('overwrote'))).toEqual([]);
  });

  it('skips locked tracks and refuses when every track above is taken, leaving the project untouched', async () => {
    const { project, seq, host, desc, matte } = await placeAt('25');
    seq.videoTrackList[2]!.locked = true;
    const before = JSON.stringify(project.state());
    const err = hostErrorOf(() => host.call('placeMatte', { clip: refOf(desc), mattePath: matte, mode: 'cutout' }));
    expect(err).toEqual({ code: 'no_free_track', message: expect.stringContaining('V2, V3 (locked) in use there') });
    expect(JSON.stringify(project.state())).toBe(before);
    expect(project.log).toEqual([]);
  });

  it('puts a second matte on the free track when the clip sits on V2 with V3 free', async () => {
    const { project, seq, matte } = await placeAt('25');
    const other = project.addMedia(path.join(dir, 'second.mp4'), { rate: rate('25'), frames: 100 });
    const upper = seq.addClip(other, { track: 1, startFrame: 120, frames: 29 });
    const host = await Es3Host.load(project.app);
    seq.select(upper);
    const d = host.call('getSelection').clips[0]!;
    expect(d.trackName).toBe('V2');
    expect(host.call('placeMatte', { clip: refOf(d), mattePath: matte, mode: 'trackMatte' })).toMatchObject({ trackName: 'V3', startTicks: d.startTicks, endTicks: d.endTicks });
    expect(seq.videoTrackList[2]!.items[0]!.name).toBe(`Track matte: ${d.name}`);
  });

  it("interprets the matte at the clip's frame rate when the clip's footage is interpreted at another", async () => {
    const { project, seq, host, matte, media } = await placeAt('25');
    media.overrideFps = 24000 / 1001; // Interpret Footage: 25 fps file played at 23.976
    const slowed = seq.addClip(media, { track: 0, startFrame: 300, frames: 29 });
    seq.select(slowed);
    const d = host.call('getSelection').clips[0]!;
    const placed = host.call('placeMatte', { clip: refOf(d), mattePath: matte, mode: 'cutout' });
    expect(placed.frameRateOverride).toBeCloseTo(23.976, 3);
    expect([placed.startTicks, placed.endTicks]).toEqual([d.startTicks, d.endTicks]);
    const item = project.rootItem.items.find((i) => i.name === 'CleanPlate Mattes')!.items[0]!;
    expect(item.overrideFps).toBeCloseTo(24000 / 1001, 9);
  });

  it('refuses when the clip was trimmed or deleted since the job started, or the file cannot be imported', async () => {
    const { project, seq, host, desc, clip, matte } = await placeAt('25');
    const missing = hostErrorOf(() => host.call('placeMatte', { clip: refOf(desc), mattePath: path.join(dir, 'never-rendered.mov'), mode: 'cutout' }));
    expect(missing).toEqual({ code: 'import_failed', message: expect.stringContaining('could not import') });
    // (the bin is made before importing; no clip was placed)
    expect(seq.videoTrackList.map((t) => t.items.length)).toEqual([1, 1, 0]);
    clip.outTicks -= seq.frame(2);
    clip.endTicks -= seq.frame(2);
    expect(hostErrorOf(() => host.call('placeMatte', { clip: refOf(desc), mattePath: matte, mode: 'cutout' })).code).toBe('clip_changed');
    seq.videoTrackList[0]!.items = [];
    expect(hostErrorOf(() => host.call('planPlacement', refOf(desc))).code).toBe('clip_gone');
    expect(project.log.filter((l) => l.startsWith('overwriteClip'))).toEqual([]);
  });
});
