// Premiere seen through the UXP `premierepro` module, read into plain data. Every getter of that
// API is asynchronous, while the host's rules (host/src/operations.ts) are synchronous over an
// EditorView: so the active sequence, its video tracks and clips, the selection and the playhead
// are read first, and the rules then decide over this snapshot exactly as over the ExtendScript
// DOM. Names and signatures: Adobe's @adobe/premierepro 26.3 typings.
import type { ClipProjectItem, premierepro, Project, Sequence, VideoClipTrackItem } from '@adobe/premierepro';
import type { ClipSnapshot, EditorView, SequenceSnapshot, TrackSnapshot } from '../../../host/src/adapter.js';
import type { Ticks } from '../../../host/src/api.js';
import { compareTicks } from '../../../host/src/ticks.js';

/** UXP has no nodeId: a clip is known by its video track and start (ClipRef.nodeId carries this key). */
export function clipKey(trackIndex: number, startTicks: Ticks): string {
  return `v${trackIndex}@${startTicks}`;
}

export function trackLabel(index: number): string {
  return 'V' + (index + 1);
}

export interface SnapshotClip extends ClipSnapshot {
  readonly selected: boolean;
}

export interface EditorSnapshot {
  readonly hostVersion: string;
  readonly hasProject: boolean;
  readonly sequence: SequenceSnapshot | null;
  /** Video tracks, V1 first, with every clip on them. */
  readonly tracks: readonly { readonly index: number; readonly name: string; readonly clips: readonly SnapshotClip[] }[];
  /** Selected track items that are not video clips (linked audio, audio-only clips). */
  readonly audioSelected: number;
  readonly playheadTicks: Ticks;
  /** Every sequence of the project (guid strings). */
  readonly sequenceIds: readonly string[];
}

/** A selected item that is not a video clip: the rules only count these. */
const AUDIO_ITEM: ClipSnapshot = {
  nodeId: '',
  name: '',
  isVideo: false,
  trackIndex: -1,
  trackName: '',
  startTicks: '0',
  endTicks: '0',
  inTicks: '0',
  outTicks: '0',
  speed: 1,
  reversed: false,
  adjustmentLayer: false,
  mediaPath: '',
  offline: false,
  nested: false,
  mediaFps: null,
};

async function mediaOf(ppro: premierepro, t: VideoClipTrackItem): Promise<{ path: string; offline: boolean; nested: boolean; fps: number | null }> {
  const item = await t.getProjectItem();
  if (!item) return { path: '', offline: false, nested: false, fps: null };
  const clip: ClipProjectItem | null = ppro.ClipProjectItem.cast(item);
  if (!clip) return { path: '', offline: false, nested: false, fps: null };
  const nested = (await clip.isSequence()) || (await clip.isMulticamClip()) || (await clip.isMergedClip());
  if (nested) return { path: '', offline: false, nested: true, fps: null };
  const path = (await clip.getMediaFilePath()) ?? '';
  const offline = path !== '' && (await clip.isOffline());
  let fps: number | null = null;
  if (path !== '' && !offline) {
    const interp = await clip.getFootageInterpretation();
    const rate = interp ? interp.getFrameRate() : 0;
    fps = rate > 0 ? rate : null;
  }
  return { path, offline, nested, fps };
}

async function readClip(ppro: premierepro, t: VideoClipTrackItem, trackIndex: number): Promise<SnapshotClip> {
  const [name, start, end, inPoint, outPoint, speed, reversed, adjustment, selected, media] = await Promise.all([
    t.getName(),
    t.getStartTime(),
    t.getEndTime(),
    t.getInPoint(),
    t.getOutPoint(),
    t.getSpeed(),
    t.isSpeedReversed(),
    t.isAdjustmentLayer(),
    t.getIsSelected(),
    mediaOf(ppro, t),
  ]);
  return {
    nodeId: clipKey(trackIndex, start.ticks),
    name,
    isVideo: true,
    trackIndex,
    trackName: trackLabel(trackIndex),
    startTicks: start.ticks,
    endTicks: end.ticks,
    inTicks: inPoint.ticks,
    outTicks: outPoint.ticks,
    speed,
    // Documented as Promise<number> (1 = reversed), like ExtendScript's isSpeedReversed().
    reversed: Number(reversed) === 1,
    adjustmentLayer: adjustment === true,
    mediaPath: media.path,
    offline: media.offline,
    nested: media.nested,
    mediaFps: media.fps,
    selected: selected === true,
  };
}

/** Reads the active sequence of the active project (or that there is none). */
export async function readEditor(ppro: premierepro): Promise<{ snapshot: EditorSnapshot; project: Project | null; sequence: Sequence | null }> {
  const hostVersion = String(await Promise.resolve(ppro.Application.version));
  const project = await ppro.Project.getActiveProject();
  const empty = { hostVersion, hasProject: !!project, sequence: null, tracks: [], audioSelected: 0, playheadTicks: '0', sequenceIds: [] };
  if (!project) return { snapshot: empty, project: null, sequence: null };
  const sequence = await project.getActiveSequence();
  if (!sequence) return { snapshot: empty, project, sequence: null };
  const [timebase, size, count, playhead, selection, all] = await Promise.all([
    sequence.getTimebase(),
    sequence.getFrameSize(),
    sequence.getVideoTrackCount(),
    sequence.getPlayerPosition(),
    sequence.getSelection(),
    project.getSequences(),
  ]);
  const tracks: EditorSnapshot['tracks'][number][] = [];
  for (let i = 0; i < count; i++) {
    const track = await sequence.getVideoTrack(i);
    const items = track.getTrackItems(ppro.Constants.TrackItemType.CLIP, false);
    const clips = await Promise.all(items.map((t) => readClip(ppro, t, i)));
    clips.sort((a, b) => compareTicks(a.startTicks, b.startTicks));
    tracks.push({ index: i, name: trackLabel(i), clips });
  }
  const selectedItems = selection ? await selection.getTrackItems() : [];
  const videoSelected = tracks.reduce((n, t) => n + t.clips.filter((c) => c.selected).length, 0);
  const seq: SequenceSnapshot = { id: sequence.guid.toString(), name: sequence.name, timebase: String(timebase), width: size.width, height: size.height };
  return {
    snapshot: {
      hostVersion,
      hasProject: true,
      sequence: seq,
      tracks,
      audioSelected: Math.max(0, selectedItems.length - videoSelected),
      playheadTicks: playhead.ticks,
      sequenceIds: all.map((x) => x.guid.toString()),
    },
    project,
    sequence,
  };
}

/**
 * The snapshot as the rules' EditorView. UXP documents no track lock query (only a lock-changed
 * event), so tracks read as unlocked; a placement Premiere refuses is caught after the edit.
 */
export class SnapshotView implements EditorView {
  constructor(private readonly s: EditorSnapshot) {}

  hostName(): string {
    return 'Premiere Pro';
  }
  hostVersion(): string {
    return this.s.hostVersion;
  }
  hasProject(): boolean {
    return this.s.hasProject;
  }
  activeSequence(): SequenceSnapshot | null {
    return this.s.sequence;
  }
  private sequenceIs(id: string): boolean {
    return this.s.sequence !== null && this.s.sequence.id === id;
  }
  selection(sequenceId: string): ClipSnapshot[] {
    if (!this.sequenceIs(sequenceId)) return [];
    const video: ClipSnapshot[] = [];
    for (const t of this.s.tracks) for (const c of t.clips) if (c.selected) video.push(c);
    video.sort((a, b) => compareTicks(a.startTicks, b.startTicks) || a.trackIndex - b.trackIndex);
    const audio = new Array<ClipSnapshot>(this.s.audioSelected).fill(AUDIO_ITEM);
    return [...video, ...audio];
  }
  playheadTicks(): Ticks {
    return this.s.playheadTicks;
  }
  videoTracks(sequenceId: string): TrackSnapshot[] {
    if (!this.sequenceIs(sequenceId)) return [];
    return this.s.tracks.map((t) => ({ index: t.index, name: t.name, locked: false, clips: t.clips.map((c) => ({ startTicks: c.startTicks, endTicks: c.endTicks })) }));
  }
  findClip(sequenceId: string, nodeId: string): ClipSnapshot | null {
    if (!this.sequenceIs(sequenceId)) return null;
    for (const t of this.s.tracks) for (const c of t.clips) if (c.nodeId === nodeId) return c;
    return null;
  }
  sequenceExists(sequenceId: string): boolean {
    return this.s.sequenceIds.includes(sequenceId);
  }
}
