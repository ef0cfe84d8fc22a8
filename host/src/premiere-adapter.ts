// EditorAdapter on Premiere Pro's ExtendScript DOM (ES3: no array methods, no JSON). Collections
// are indexed objects with numItems/numTracks/length, times are Time objects whose ticks are
// strings, and importFiles only says true/false, so imported items are found by media path.
import type { ClipSnapshot, EditorAdapter, ItemHandle, PlacedSnapshot, SequenceSnapshot, TrackSnapshot } from './adapter.js';
import type { Ticks } from './api.js';
import { samePath } from './paths.js';
import { compareTicks } from './ticks.js';

interface PremiereItemHandle extends ItemHandle {
  readonly item: ProjectItem;
}

function trackLabel(index: number): string {
  return 'V' + (index + 1);
}

function mediaPathOf(item: ProjectItem | null | undefined): string {
  if (!item) return '';
  const p = item.getMediaPath();
  return typeof p === 'string' ? p : '';
}

function fpsOf(item: ProjectItem | null | undefined): number | null {
  if (!item) return null;
  const interp = item.getFootageInterpretation();
  return interp && interp.frameRate > 0 ? interp.frameRate : null;
}

function snapshot(t: TrackItem, trackIndex: number): ClipSnapshot {
  const item = t.projectItem;
  const nested = item ? item.isSequence() === true : false;
  return {
    nodeId: t.nodeId,
    name: t.name,
    isVideo: t.mediaType === 'Video',
    trackIndex: trackIndex,
    trackName: trackIndex >= 0 ? trackLabel(trackIndex) : '',
    startTicks: t.start.ticks,
    endTicks: t.end.ticks,
    inTicks: t.inPoint.ticks,
    outTicks: t.outPoint.ticks,
    speed: t.getSpeed(),
    reversed: Number(t.isSpeedReversed()) === 1,
    adjustmentLayer: t.isAdjustmentLayer() === true,
    mediaPath: nested ? '' : mediaPathOf(item),
    offline: item && !nested ? item.isOffline() === true : false,
    nested: nested,
    mediaFps: nested ? null : fpsOf(item)
  };
}

export class PremiereAdapter implements EditorAdapter {
  hostName(): string {
    return 'Premiere Pro';
  }

  hostVersion(): string {
    return String(app.version);
  }

  hasProject(): boolean {
    return !!app.project;
  }

  private sequence(id: string): Sequence | null {
    const seqs = app.project!.sequences;
    for (let i = 0; i < seqs.numSequences; i++) {
      if (seqs[i]!.sequenceID === id) return seqs[i]!;
    }
    const active = app.project!.activeSequence;
    return active && active.sequenceID === id ? active : null;
  }

  private requireSequence(id: string): Sequence {
    const seq = this.sequence(id);
    if (!seq) throw new Error('no sequence ' + id);
    return seq;
  }

  sequenceExists(id: string): boolean {
    return this.sequence(id) !== null;
  }

  activeSequence(): SequenceSnapshot | null {
    const seq = app.project ? app.project.activeSequence : null;
    if (!seq) return null;
    const settings = seq.getSettings();
    return { id: seq.sequenceID, name: seq.name, timebase: seq.timebase, width: settings.videoFrameWidth, height: settings.videoFrameHeight };
  }

  /** The video track index holding the item with this nodeId, or -1 (audio items, or not found). */
  private videoTrackOf(seq: Sequence, nodeId: string): number {
    for (let i = 0; i < seq.videoTracks.numTracks; i++) {
      const clips = seq.videoTracks[i]!.clips;
      for (let j = 0; j < clips.numItems; j++) if (clips[j]!.nodeId === nodeId) return i;
    }
    return -1;
  }

  selection(sequenceId: string): ClipSnapshot[] {
    const seq = this.requireSequence(sequenceId);
    const selected = seq.getSelection();
    const out: ClipSnapshot[] = [];
    for (let i = 0; i < selected.length; i++) {
      const t = selected[i]!;
      out.push(snapshot(t, t.mediaType === 'Video' ? this.videoTrackOf(seq, t.nodeId) : -1));
    }
    return out;
  }

  playheadTicks(sequenceId: string): Ticks {
    return this.requireSequence(sequenceId).getPlayerPosition().ticks;
  }

  videoTracks(sequenceId: string): TrackSnapshot[] {
    const tracks = this.requireSequence(sequenceId).videoTracks;
    const out: TrackSnapshot[] = [];
    for (let i = 0; i < tracks.numTracks; i++) {
      const track = tracks[i]!;
      const spans: { startTicks: Ticks; endTicks: Ticks }[] = [];
      for (let j = 0; j < track.clips.numItems; j++) spans.push({ startTicks: track.clips[j]!.start.ticks, endTicks: track.clips[j]!.end.ticks });
      out.push({ index: i, name: trackLabel(i), locked: track.isLocked() === true, clips: spans });
    }
    return out;
  }

  findClip(sequenceId: string, nodeId: string): ClipSnapshot | null {
    const tracks = this.requireSequence(sequenceId).videoTracks;
    for (let i = 0; i < tracks.numTracks; i++) {
      const clips = tracks[i]!.clips;
      for (let j = 0; j < clips.numItems; j++) if (clips[j]!.nodeId === nodeId) return snapshot(clips[j]!, i);
    }
    return null;
  }

  bin(name: string): ItemHandle | null {
    const root = app.project!.rootItem;
    for (let i = 0; i < root.children.numItems; i++) {
      const child = root.children[i]!;
      if (child.type === ProjectItemType.BIN && child.name === name) return this.handle(child);
    }
    const made = root.createBin(name);
    return made ? this.handle(made) : null;
  }

  private handle(item: ProjectItem): PremiereItemHandle {
    return { name: item.name, mediaPath: mediaPathOf(item), item: item };
  }

  itemInBin(bin: ItemHandle, mediaPath: string): ItemHandle | null {
    const children = (bin as PremiereItemHandle).item.children;
    for (let i = 0; i < children.numItems; i++) {
      const child = children[i]!;
      if (child.type !== ProjectItemType.BIN && samePath(mediaPathOf(child), mediaPath)) return this.handle(child);
    }
    return null;
  }

  importInto(bin: ItemHandle, mediaPath: string): boolean {
    return app.project!.importFiles([mediaPath], true, (bin as PremiereItemHandle).item, false) === true;
  }

  itemFps(item: ItemHandle): number | null {
    return fpsOf((item as PremiereItemHandle).item);
  }

  setItemFps(item: ItemHandle, fps: number): void {
    (item as PremiereItemHandle).item.setOverrideFrameRate(fps);
  }

  place(sequenceId: string, item: ItemHandle, trackIndex: number, startTicks: Ticks, name: string): PlacedSnapshot | null {
    const track = this.requireSequence(sequenceId).videoTracks[trackIndex];
    if (!track) return null;
    const at = new Time();
    at.ticks = startTicks; // exact: seconds would round at 23.976 and 29.97
    track.overwriteClip((item as PremiereItemHandle).item, at);
    const clips = track.clips;
    for (let j = 0; j < clips.numItems; j++) {
      const placed = clips[j]!;
      if (compareTicks(placed.start.ticks, startTicks) === 0 && samePath(mediaPathOf(placed.projectItem), item.mediaPath)) {
        placed.name = name;
        return { trackIndex: trackIndex, startTicks: placed.start.ticks, endTicks: placed.end.ticks };
      }
    }
    return null;
  }
}
