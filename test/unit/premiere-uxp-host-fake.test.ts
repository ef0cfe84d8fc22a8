// The UXP plugin's host adapter (panels/premiere-uxp/src/uxp-host.ts) against a FAKE `premierepro`
// module (test/support/premierepro-fake.ts) modelled on the documented 26.x API, which enforces
// lockedAccess/executeTransaction. Matte files are real (ffmpeg) and probed on import.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { premierepro } from '@adobe/premierepro';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipDescription, ClipRef, HostApi } from '../../host/src/api.js';
import { HostError } from '../../panels/premiere/src/host-script.js';
import { callHost, UxpPremiereHost } from '../../panels/premiere-uxp/src/uxp-host.js';
import { runCapture } from '../support/clips.js';
import { FakePremierepro, FakeRuleBroken } from '../support/premierepro-fake.js';
import { ProjectModel } from '../support/premierepro-fake-model.js';
import { rate, ticksPerFrame, TPS } from '../support/premiere-ticks.js';
import { probeMedia } from '../support/premierepro-probe.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-uxp-host-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real little video file: `frames` frames at `fps` (what an engine job writes), optionally with sound. */
async function video(name: string, fps: string, frames: number, sound = false): Promise<string> {
  const file = path.join(dir, name);
  const audio = sound ? ['-f', 'lavfi', '-t', '2', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', 'aac', '-shortest'] : [];
  await runCapture('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `color=c=gray:s=64x36:r=${fps}`,
    ...audio,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-y',
    file,
  ]);
  return file;
}

function refOf(c: ClipDescription): ClipRef {
  return { sequenceId: c.sequenceId, nodeId: c.nodeId, trackIndex: c.trackIndex, mediaPath: c.mediaPath, inTicks: c.inTicks, outTicks: c.outTicks };
}

async function hostErrorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HostError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a host error');
}

/** take.mp4 (media at `mediaRate`) on V1 of "Interview" at `seqRate` from frame 48 (source 12-72), linked audio on A1; a title on V2. */
async function setup(seqRate: string, mediaRate = seqRate, o: { videoTracks?: number; titleOverClip?: boolean } = {}) {
  const project = new ProjectModel(probeMedia, 'Interview');
  const seq = project.addSequence('Interview', rate(seqRate), { videoTracks: o.videoTracks ?? 3, width: 64, height: 36 });
  const media = await project.addMedia(path.join(dir, `take.mp4`), { rate: rate(mediaRate), frames: 200, hasAudio: true });
  const clip = seq.addClip(media, { track: 0, startFrame: 48, inFrame: 12, frames: 60, linkedAudioTrack: 0 });
  const title = await project.addMedia(path.join(dir, 'title.png'), { rate: rate(seqRate), frames: 10000, hasAudio: false });
  seq.addClip(title, { track: 1, startFrame: o.titleOverClip === false ? 400 : 60, frames: 20, name: 'Lower third' });
  const fake = new FakePremierepro(project);
  const ppro: premierepro = fake.module();
  const host = new UxpPremiereHost(ppro);
  const call = <K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>) => callHost(host, name, args);
  return { project, seq, media, clip, fake, ppro, host, call };
}

describe('UXP host adapter on the fake premierepro module (documented 26.x API)', () => {
  it('describes the selected clip like the ExtendScript host: track, source range, frame rate; linked audio counted', async () => {
    const { seq, clip, call } = await setup('24000/1001');
    expect((await call('getSelection')).clips).toEqual([]);
    seq.select(clip);
    const sel = await call('getSelection');
    expect(sel.sequence).toMatchObject({ name: 'Interview', timebase: String(ticksPerFrame(rate('24000/1001'))), width: 64, height: 36 });
    expect(sel.sequence!.fps).toBeCloseTo(23.976, 3);
    expect(sel.audioItemsIgnored).toBe(1);
    expect(sel.clips).toHaveLength(1);
    const c = sel.clips[0]!;
    expect(c).toMatchObject({
      name: 'take.mp4',
      trackIndex: 0,
      trackName: 'V1',
      startTicks: String(seq.frame(48)),
      endTicks: String(seq.frame(108)),
      inTicks: String(12n * ticksPerFrame(rate('24000/1001'))),
    });
    expect(c.mediaFps).toBeCloseTo(24000 / 1001, 9);
    expect(c.refusal).toBeUndefined();
  });

  it('refuses nested sequences, offline media, speed and reverse with the same words as the CEP host', async () => {
    const { project, seq, call } = await setup('25');
    const nested = project.items().find((i) => i.sequence === seq)!;
    const offline = await project.addMedia(path.join(dir, 'gone.mp4'), { rate: rate('25'), frames: 100, hasAudio: false });
    offline.offline = true;
    const fast = await project.addMedia(path.join(dir, 'fast.mp4'), { rate: rate('25'), frames: 100, hasAudio: false });
    const a = seq.addClip(nested, { track: 2, startFrame: 0, frames: 10 });
    const b = seq.addClip(offline, { track: 2, startFrame: 200, frames: 10 });
    const c = seq.addClip(fast, { track: 2, startFrame: 300, frames: 10, speed: 2 });
    const d = seq.addClip(fast, { track: 2, startFrame: 500, frames: 10, reversed: true });
    seq.select(a, b, c, d);
    const codes = (await call('getSelection')).clips.map((x) => x.refusal?.code);
    expect(codes).toEqual(['nested_sequence', 'offline_media', 'speed_changed', 'reversed']);
  });

  it('the playhead frame in source time; outside the clip a plain-words refusal', async () => {
    const { seq, clip, call } = await setup('25');
    seq.select(clip);
    seq.playhead = seq.frame(48 + 7);
    const f = await call('getPlayheadFrame');
    expect(f.sourceTicks).toBe(String(seq.frame(12 + 7)));
    expect(f.sourceSeconds).toBeCloseTo(19 / 25, 9);
    seq.playhead = seq.frame(10);
    const e = await hostErrorOf(call('getPlayheadFrame'));
    expect(e.code).toBe('playhead_outside_clip');
    expect(e.message).toContain('00:00:00:10');
  });

  it('places a real matte on the first free track above (V2 busy -> V3), frame-exactly at 23.976, in the bin, through locked transactions', async () => {
    const { project, seq, clip, fake, call } = await setup('24000/1001');
    seq.select(clip);
    const matte = await video('take_prores4444.mov', '24000/1001', 60);
    const c = (await call('getSelection')).clips[0]!;
    expect(await call('planPlacement', refOf(c))).toMatchObject({ trackIndex: 2, trackName: 'V3' });
    const userAudio = JSON.stringify(seq.audio.map((t) => t.clips.map((x) => [x.name, String(x.start), String(x.end)])));
    const placed = await call('placeMatte', { clip: refOf(c), mattePath: matte, mode: 'cutout' });
    expect(placed).toMatchObject({
      trackIndex: 2,
      trackName: 'V3',
      startTicks: String(clip.start),
      endTicks: String(clip.end),
      binName: 'CleanPlate Mattes',
      itemName: 'take_prores4444.mov',
      reusedItem: false,
      frameRateOverride: null,
    });
    const v3 = seq.video[2]!.clips;
    expect(v3.map((x) => [x.name, x.start, x.end])).toEqual([['Cut-out: take.mp4', clip.start, clip.end]]);
    expect(seq.video[1]!.clips.map((x) => x.name)).toEqual(['Lower third']);
    expect(seq.video[0]!.clips).toEqual([clip]);
    expect(JSON.stringify(seq.audio.map((t) => t.clips.map((x) => [x.name, String(x.start), String(x.end)])))).toBe(userAudio);
    const bin = project.root.children.find((i) => i.name === 'CleanPlate Mattes')!;
    expect(bin.kind).toBe('bin');
    expect(bin.children.map((i) => i.mediaPath)).toEqual([matte]);
    expect(fake.undo).toEqual(['CleanPlate: create the "CleanPlate Mattes" bin', 'CleanPlate: place matte', 'CleanPlate: name matte']);
    expect(project.log.filter((l) => l.startsWith('overwrote'))).toEqual([]);
  });

  it('no free track above: refused before anything is imported or edited', async () => {
    const { project, seq, clip, fake, call } = await setup('25', '25', { videoTracks: 2 });
    seq.select(clip);
    const matte = await video('take2.mov', '25', 60);
    const c = (await call('getSelection')).clips[0]!;
    const before = JSON.stringify(project.state());
    expect((await hostErrorOf(call('planPlacement', refOf(c)))).code).toBe('no_free_track');
    const e = await hostErrorOf(call('placeMatte', { clip: refOf(c), mattePath: matte, mode: 'trackMatte' }));
    expect(e.code).toBe('no_free_track');
    expect(e.message).toMatch(/No free video track above V1 over .* \(V2 in use there\)\. Add a video track/);
    expect(JSON.stringify(project.state())).toBe(before);
    expect(project.log).toEqual([]);
    expect(fake.undo).toEqual([]);
  });

  it('footage interpreted at another rate: the matte is interpreted the same (an action), so it stays aligned', async () => {
    const { project, seq, clip, fake, call } = await setup('25', '25', { titleOverClip: false });
    clip.item.overrideFps = 24;
    // The clip's ticks follow the interpretation: 60 frames at 24 fps.
    clip.inPoint = BigInt(Math.round((12 * Number(TPS)) / 24));
    clip.outPoint = BigInt(Math.round((72 * Number(TPS)) / 24));
    clip.end = clip.start + (clip.outPoint - clip.inPoint);
    seq.select(clip);
    const matte = await video('take_f12-71_matte.mov', '25', 60);
    const c = (await call('getSelection')).clips[0]!;
    expect(c.mediaFps).toBe(24);
    const placed = await call('placeMatte', { clip: refOf(c), mattePath: matte, mode: 'trackMatte' });
    expect(placed).toMatchObject({ trackIndex: 1, frameRateOverride: 24, startTicks: String(clip.start), endTicks: String(clip.end) });
    expect(project.items().find((i) => i.mediaPath === matte)!.overrideFps).toBe(24);
    expect(fake.undo).toContain('CleanPlate: interpret matte at 24 fps');
  });

  it('the clip trimmed or moved after its job started: clip_changed / clip_gone, nothing placed', async () => {
    const { project, seq, clip, call } = await setup('25');
    seq.select(clip);
    const matte = await video('take3.mov', '25', 60);
    const ref = refOf((await call('getSelection')).clips[0]!);
    clip.outPoint -= seq.frame(5);
    clip.end -= seq.frame(5);
    expect((await hostErrorOf(call('placeMatte', { clip: ref, mattePath: matte, mode: 'cutout' }))).code).toBe('clip_changed');
    clip.start += seq.frame(1);
    expect((await hostErrorOf(call('placeMatte', { clip: ref, mattePath: matte, mode: 'cutout' }))).code).toBe('clip_gone');
    expect(project.log).toEqual([]);
  });

  it("a matte with sound could only land on a new audio track, never over the user's audio", async () => {
    const { project, seq, clip, call } = await setup('25');
    seq.select(clip);
    const matte = await video('with-sound.mov', '25', 60, true);
    await call('placeMatte', { clip: refOf((await call('getSelection')).clips[0]!), mattePath: matte, mode: 'cutout' });
    expect(project.log).toContain('audio of with-sound.mov on A3');
    expect(project.log.filter((l) => l.startsWith('overwrote'))).toEqual([]);
    expect(seq.audio[0]!.clips.map((x) => x.name)).toEqual(['take.mp4']);
  });
});

describe('the fake enforces the 26.3 rules (a host that breaks them fails)', () => {
  it('an Action created outside lockedAccess throws; so do executeTransaction outside it, escaping Actions and async callbacks', async () => {
    const { seq, ppro, project } = await setup('25');
    const proj = await ppro.Project.getActiveProject();
    const s = (await proj.getActiveSequence())!;
    const root = await proj.getRootItem();
    const item = (await root.getItems()).find((i) => i.name === 'take.mp4')!;
    const editor = ppro.SequenceEditor.getEditor(s);
    const at = ppro.TickTime.createWithTicks('0');
    expect(() => editor.createOverwriteItemAction(item, at, 2, 0)).toThrow(FakeRuleBroken);
    expect(() => editor.createOverwriteItemAction(item, at, 2, 0)).toThrow(/inside project.lockedAccess\(\)/);
    expect(() => proj.executeTransaction(() => undefined, 'x')).toThrow(/executeTransaction outside project.lockedAccess/);
    let escaped: unknown;
    proj.lockedAccess(() => {
      escaped = root.createBinAction('Escaped', false);
    });
    expect(() => proj.lockedAccess(() => proj.executeTransaction((c) => c.addAction(escaped as never)))).toThrow(/outside the lockedAccess it was created in/);
    expect(() => proj.lockedAccess((async () => undefined) as unknown as () => void)).toThrow(/no async work inside lockedAccess/);
    expect(() =>
      proj.lockedAccess(() => {
        proj.executeTransaction((async () => undefined) as unknown as () => void);
      }),
    ).toThrow(/no async work inside a transaction/);
    // The rules hold: nothing of the above changed the project.
    expect(project.root.children.map((c) => c.name)).not.toContain('Escaped');
    expect(seq.video[2]!.clips).toEqual([]);
    // Done right, the same edit works (and setSelection is synchronous since 26.3).
    let ok = false;
    proj.lockedAccess(() => {
      const a = editor.createOverwriteItemAction(item, at, 2, 0);
      ok = proj.executeTransaction((c) => c.addAction(a), 'right');
    });
    expect(ok).toBe(true);
    expect(seq.video[2]!.clips).toHaveLength(1);
    const sel = await s.getSelection();
    expect(s.setSelection(sel)).toBe(true);
  });
});
