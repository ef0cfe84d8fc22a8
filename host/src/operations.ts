// What the panel asks of the editor, as rules over the adapter's plain data: which selected
// clips can be matted and why not, the source frame under the playhead, and where a matte goes
// (the first free, unlocked video track above its clip: a user's clip is never overwritten).
import type { ClipSnapshot, EditorAdapter, EditorView, PlacedSnapshot, SequenceSnapshot } from './adapter.js';
import {
  MATTES_BIN,
  type ClipDescription,
  type ClipRef,
  type ClipRefusalCode,
  type HostErrorCode,
  type PlaceMatteRequest,
  type PlaceMatteResult,
  type Placement,
  type PlayheadFrame,
  type SelectionInfo
} from './api.js';
import { addTicks, compareTicks, fpsOfTimebase, overlaps, subtractTicks, ticksToSeconds, timecode } from './ticks.js';

/** Thrown by operations; the entry turns it into {ok:false, error}. */
export interface HostFailure {
  readonly hostFailure: true;
  readonly code: HostErrorCode;
  readonly message: string;
}

export function fail(code: HostErrorCode, message: string): never {
  const failure: HostFailure = { hostFailure: true, code: code, message: message };
  throw failure;
}

export function isHostFailure(e: unknown): e is HostFailure {
  return typeof e === 'object' && e !== null && (e as HostFailure).hostFailure === true;
}

function refusalOf(c: ClipSnapshot): { code: ClipRefusalCode; message: string } | undefined {
  const name = '"' + c.name + '"';
  if (c.nested) return { code: 'nested_sequence', message: name + ' is a nested sequence (or a multicam or merged clip). CleanPlate mattes media files: open the nest and select the clip inside it.' };
  if (c.adjustmentLayer || c.mediaPath === '')
    return { code: 'no_media', message: name + ' has no media file (a title, colour matte or adjustment layer). Only clips from video files can be matted.' };
  if (c.offline) return { code: 'offline_media', message: name + ' is offline: its media file ' + c.mediaPath + ' is missing. Relink it (right-click > Link Media) and try again.' };
  if (c.reversed) return { code: 'reversed', message: name + ' plays in reverse. CleanPlate renders mattes forwards at 100%: turn off Reverse Speed, apply the matte, then reverse both clips.' };
  if (Math.abs(c.speed - 1) > 1e-6) {
    return {
      code: 'speed_changed',
      message:
        name + ' plays at ' + Math.round(c.speed * 100) + '% speed. CleanPlate renders mattes at 100%: set Speed/Duration to 100%, apply the matte, then change the speed of both clips together.'
    };
  }
  return undefined;
}

function describe(c: ClipSnapshot, seq: SequenceSnapshot): ClipDescription {
  const refusal = refusalOf(c);
  const d: ClipDescription = {
    nodeId: c.nodeId,
    name: c.name,
    mediaPath: c.mediaPath,
    sequenceId: seq.id,
    trackIndex: c.trackIndex,
    trackName: c.trackName,
    startTicks: c.startTicks,
    endTicks: c.endTicks,
    inTicks: c.inTicks,
    outTicks: c.outTicks,
    inSeconds: ticksToSeconds(c.inTicks),
    outSeconds: ticksToSeconds(c.outTicks),
    speed: c.speed,
    mediaFps: c.mediaFps
  };
  return refusal ? { ...d, refusal: refusal } : d;
}

function requireSequence(adapter: EditorView): SequenceSnapshot {
  if (!adapter.hasProject()) fail('no_project', 'No project is open in Premiere.');
  const seq = adapter.activeSequence();
  if (!seq) fail('no_sequence', 'No sequence is open: open the sequence with your clip in the Timeline.');
  return seq;
}

export function getSelection(adapter: EditorView): SelectionInfo {
  if (!adapter.hasProject()) return { sequence: null, clips: [], audioItemsIgnored: 0 };
  const seq = adapter.activeSequence();
  if (!seq) return { sequence: null, clips: [], audioItemsIgnored: 0 };
  const clips: ClipDescription[] = [];
  let audio = 0;
  const items = adapter.selection(seq.id);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.isVideo) clips.push(describe(item, seq));
    else audio++;
  }
  return {
    sequence: { id: seq.id, name: seq.name, timebase: seq.timebase, fps: fpsOfTimebase(seq.timebase), width: seq.width, height: seq.height },
    clips: clips,
    audioItemsIgnored: audio
  };
}

function span(startTicks: string, endTicks: string, timebase: string): string {
  return timecode(startTicks, timebase) + '-' + timecode(endTicks, timebase);
}

export function getPlayheadFrame(adapter: EditorView): PlayheadFrame {
  const seq = requireSequence(adapter);
  const selected = getSelection(adapter).clips;
  if (selected.length === 0) fail('no_selection', 'Select the clip on the timeline first (the video, not only its audio).');
  const playhead = adapter.playheadTicks(seq.id);
  for (let i = 0; i < selected.length; i++) {
    const clip = selected[i]!;
    if (compareTicks(clip.startTicks, playhead) > 0 || compareTicks(playhead, clip.endTicks) >= 0) continue;
    if (clip.refusal) fail('clip_refused', clip.refusal.message);
    const source = addTicks(clip.inTicks, subtractTicks(playhead, clip.startTicks));
    return { clip: clip, sequenceTicks: playhead, sourceTicks: source, sourceSeconds: ticksToSeconds(source) };
  }
  const first = selected[0]!;
  return fail(
    'playhead_outside_clip',
    'The playhead (' +
      timecode(playhead, seq.timebase) +
      ') is not over the selected clip "' +
      first.name +
      '" (' +
      span(first.startTicks, first.endTicks, seq.timebase) +
      '). Move it onto a frame of the clip where the subject is out of the picture.'
  );
}

function findRefClip(adapter: EditorView, ref: ClipRef): { seq: SequenceSnapshot; clip: ClipSnapshot } {
  if (!adapter.hasProject()) fail('no_project', 'No project is open in Premiere.');
  if (!adapter.sequenceExists(ref.sequenceId)) fail('clip_gone', 'The sequence of the clip is no longer in the project.');
  const active = adapter.activeSequence();
  if (!active || active.id !== ref.sequenceId) fail('no_sequence', 'Open the sequence the matte was made for in the Timeline, then place it again.');
  const clip = adapter.findClip(ref.sequenceId, ref.nodeId);
  if (!clip) fail('clip_gone', 'The clip the matte was made for is no longer on the timeline.');
  if (clip.mediaPath !== ref.mediaPath || clip.inTicks !== ref.inTicks || clip.outTicks !== ref.outTicks) {
    fail('clip_changed', '"' + clip.name + '" was trimmed or relinked after its matte was rendered, so the matte no longer lines up. Apply the matte again.');
  }
  return { seq: active, clip: clip };
}

function freeTrackAbove(adapter: EditorView, seq: SequenceSnapshot, clip: ClipSnapshot): Placement {
  const tracks = adapter.videoTracks(seq.id);
  const busy: string[] = [];
  for (let i = clip.trackIndex + 1; i < tracks.length; i++) {
    const track = tracks[i]!;
    let free = !track.locked;
    for (let j = 0; free && j < track.clips.length; j++) {
      if (overlaps(track.clips[j]!.startTicks, track.clips[j]!.endTicks, clip.startTicks, clip.endTicks)) free = false;
    }
    if (free) return { trackIndex: track.index, trackName: track.name, startTicks: clip.startTicks, endTicks: clip.endTicks };
    busy.push(track.name + (track.locked ? ' (locked)' : ''));
  }
  const where = busy.length > 0 ? ' (' + busy.join(', ') + ' in use there)' : ' (it is on the top track)';
  return fail(
    'no_free_track',
    'No free video track above ' +
      clip.trackName +
      ' over ' +
      span(clip.startTicks, clip.endTicks, seq.timebase) +
      where +
      '. Add a video track (Sequence > Add Tracks) and place the matte again: CleanPlate never overwrites your clips.'
  );
}

export function planPlacement(adapter: EditorView, ref: ClipRef): Placement {
  const found = findRefClip(adapter, ref);
  return freeTrackAbove(adapter, found.seq, found.clip);
}

/** What placing a matte will do, decided before anything is imported (a refusal leaves the project as it was). */
export interface MattePlan {
  readonly clip: ClipSnapshot;
  readonly sequenceId: string;
  readonly target: Placement;
  /** The name the placed matte gets on the timeline. */
  readonly label: string;
}

export function planMatte(adapter: EditorView, req: PlaceMatteRequest): MattePlan {
  if (!req || !req.clip || typeof req.mattePath !== 'string' || req.mattePath === '') fail('bad_request', 'placeMatte needs the clip and the matte file path.');
  const found = findRefClip(adapter, req.clip);
  const target = freeTrackAbove(adapter, found.seq, found.clip);
  const label = (req.mode === 'trackMatte' ? 'Track matte: ' : 'Cut-out: ') + found.clip.name;
  return { clip: found.clip, sequenceId: found.seq.id, target: target, label: label };
}

/** The frame rate a matte must be interpreted at so it plays like its clip; null when it already does. */
export function fpsOverride(clipFps: number | null, matteFps: number | null): number | null {
  return clipFps !== null && matteFps !== null && Math.abs(clipFps - matteFps) > 1e-4 ? clipFps : null;
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1]!;
}

export function placeMatte(adapter: EditorAdapter, req: PlaceMatteRequest): PlaceMatteResult {
  const plan = planMatte(adapter, req);
  const bin = adapter.bin(MATTES_BIN);
  if (!bin) fail('import_failed', 'Premiere did not create the "' + MATTES_BIN + '" bin.');
  let item = adapter.itemInBin(bin, req.mattePath);
  const reused = item !== null;
  if (!item) {
    if (!adapter.importInto(bin, req.mattePath)) fail('import_failed', 'Premiere could not import ' + req.mattePath + '.');
    item = adapter.itemInBin(bin, req.mattePath);
    if (!item) fail('import_failed', 'Premiere reported importing ' + req.mattePath + ' but it is not in the "' + MATTES_BIN + '" bin.');
  }
  // A clip whose footage is interpreted at another rate plays its frames at that rate: the matte must too.
  const override = fpsOverride(plan.clip.mediaFps, adapter.itemFps(item));
  if (override !== null) adapter.setItemFps(item, override);
  const placed = adapter.place(plan.sequenceId, item, plan.target.trackIndex, plan.clip.startTicks, plan.label);
  if (!placed) fail('place_failed', notPlacedMessage(plan, item.name));
  return placedResult(plan, placed, item.name, reused, override);
}

export function notPlacedMessage(plan: MattePlan, itemName: string): string {
  return 'Premiere did not place the matte on ' + plan.target.trackName + '; it is in the "' + MATTES_BIN + '" bin as ' + itemName + '.';
}

export function placedResult(plan: MattePlan, placed: PlacedSnapshot, itemName: string, reused: boolean, override: number | null): PlaceMatteResult {
  return {
    trackIndex: placed.trackIndex,
    trackName: plan.target.trackName,
    startTicks: placed.startTicks,
    endTicks: placed.endTicks,
    binName: MATTES_BIN,
    itemName: baseName(itemName),
    reusedItem: reused,
    frameRateOverride: override
  };
}
