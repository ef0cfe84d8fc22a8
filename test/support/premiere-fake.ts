// A FAKE Premiere Pro DOM for tests (Premiere cannot run here). It follows the documented
// ExtendScript API only (Premiere scripting guide, types-for-adobe Premiere 24.0): Time holds
// ticks as a string (254016000000 per second); TrackItem.start/end are sequence time and
// inPoint/outPoint source time; collections are indexed objects with numItems/numTracks, not
// arrays; getSelection() returns linked audio items too; importFiles() returns only a boolean;
// Track.overwriteClip() replaces whatever is on the track there (trimming or removing clips).
// Imported files are real: importFiles probes them with ffprobe for their frames and rate.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { rate, ticksPerFrame, TPS, type Rate } from './premiere-ticks.js';

export class FakeTime {
  private t = 0n;
  static of(ticks: bigint): FakeTime {
    const time = new FakeTime();
    time.t = ticks;
    return time;
  }
  get ticks(): string {
    return this.t.toString();
  }
  set ticks(value: string) {
    if (!/^\d+$/.test(String(value))) throw new Error(`Time.ticks set to "${value}"`);
    this.t = BigInt(value);
  }
  get seconds(): number {
    return Number(this.t) / Number(TPS);
  }
  set seconds(value: number) {
    this.t = BigInt(Math.round(value * Number(TPS)));
  }
  get value(): bigint {
    return this.t;
  }
}

/** Premiere's collections: indexed, with a count property, not arrays. */
function collection<T>(items: readonly T[], countName: 'numItems' | 'numTracks' | 'numSequences'): Record<number, T> & Record<string, number> {
  const c: Record<number | string, unknown> = { [countName]: items.length };
  items.forEach((item, i) => (c[i] = item));
  return c as Record<number, T> & Record<string, number>;
}

export const PROJECT_ITEM_TYPE = { CLIP: 1, BIN: 2, ROOT: 3, FILE: 4 } as const;

let nextNode = 1000;
const nodeId = (): string => `000f${(nextNode++).toString(16).padStart(4, '0')}`;

export interface MediaInfo {
  readonly rate: Rate;
  readonly frames: number;
}

export class FakeProjectItem {
  readonly nodeId = nodeId();
  readonly items: FakeProjectItem[] = [];
  parent: FakeProjectItem | null = null;
  offline = false;
  /** Footage interpretation override (Interpret Footage > Assume this frame rate). */
  overrideFps: number | null = null;

  constructor(
    public name: string,
    readonly type: number,
    private readonly mediaPath = '',
    readonly media: MediaInfo | null = null,
    readonly nestedSequence: FakeSequence | null = null,
  ) {}

  get children(): Record<number, FakeProjectItem> {
    return collection(this.items, 'numItems');
  }
  get treePath(): string {
    return this.parent ? `${this.parent.treePath}\\${this.name}` : `\\${this.name}`;
  }
  getMediaPath(): string {
    return this.mediaPath;
  }
  isOffline(): boolean {
    return this.offline;
  }
  isSequence(): boolean {
    return this.nestedSequence !== null;
  }
  createBin(name: string): FakeProjectItem | 0 {
    if (this.type !== PROJECT_ITEM_TYPE.BIN && this.type !== PROJECT_ITEM_TYPE.ROOT) return 0;
    return this.add(new FakeProjectItem(name, PROJECT_ITEM_TYPE.BIN));
  }
  getFootageInterpretation(): { frameRate: number; pixelAspectRatio: number; alphaUsage: number } | 0 {
    if (!this.media) return 0;
    return { frameRate: this.fps(), pixelAspectRatio: 1, alphaUsage: 0 };
  }
  setOverrideFrameRate(fps: number): boolean {
    this.overrideFps = fps;
    return true;
  }
  add(child: FakeProjectItem): FakeProjectItem {
    child.parent = this;
    this.items.push(child);
    return child;
  }
  fps(): number {
    if (this.overrideFps !== null) return this.overrideFps;
    return this.media!.rate.num / this.media!.rate.den;
  }
  /** Ticks of frame `n` at the rate Premiere plays the item at. */
  frameTicks(n: number): bigint {
    if (this.overrideFps === null) return BigInt(n) * ticksPerFrame(this.media!.rate);
    return BigInt(Math.round((n * Number(TPS)) / this.overrideFps));
  }
  durationTicks(): bigint {
    if (this.nestedSequence) return this.nestedSequence.endTicks();
    return this.frameTicks(this.media!.frames);
  }
}

export interface ClipOptions {
  readonly track: number;
  /** Sequence frame where the clip starts. */
  readonly startFrame: number;
  /** Source frame of the first frame shown (media frames). */
  readonly inFrame?: number;
  /** Frames shown. */
  readonly frames: number;
  readonly speed?: number;
  readonly reversed?: boolean;
  /** Put a linked audio item on this audio track. */
  readonly linkedAudioTrack?: number;
  readonly name?: string;
}

export class FakeTrackItem {
  readonly nodeId = nodeId();
  selected = false;
  linked: FakeTrackItem[] = [];
  track!: FakeTrack;

  constructor(
    public name: string,
    readonly mediaType: 'Video' | 'Audio',
    readonly projectItem: FakeProjectItem,
    public startTicks: bigint,
    public endTicks: bigint,
    public inTicks: bigint,
    public outTicks: bigint,
    readonly speed = 1,
    readonly reversed = false,
  ) {}

  get type(): number {
    return this.mediaType === 'Video' ? 1 : 2;
  }
  get start(): FakeTime {
    return FakeTime.of(this.startTicks);
  }
  get end(): FakeTime {
    return FakeTime.of(this.endTicks);
  }
  get inPoint(): FakeTime {
    return FakeTime.of(this.inTicks);
  }
  get outPoint(): FakeTime {
    return FakeTime.of(this.outTicks);
  }
  get duration(): FakeTime {
    return FakeTime.of(this.endTicks - this.startTicks);
  }
  get parentTrackIndex(): number {
    return this.track.index;
  }
  getSpeed(): number {
    return this.speed;
  }
  isSpeedReversed(): 0 | 1 {
    return this.reversed ? 1 : 0;
  }
  isSelected(): boolean {
    return this.selected;
  }
  setSelected(state: boolean | number): void {
    this.selected = Boolean(state);
  }
  isAdjustmentLayer(): boolean {
    return false;
  }
  getLinkedItems(): Record<number, FakeTrackItem> {
    return collection(this.linked, 'numItems');
  }
}

function toTicks(time: FakeTime | number | string): bigint {
  if (time instanceof FakeTime) return time.value;
  if (typeof time === 'number') return BigInt(Math.round(time * Number(TPS)));
  if (typeof time === 'string' && /^\d+$/.test(time)) return BigInt(time);
  throw new Error(`overwriteClip: not a time: ${String(time)}`);
}

export class FakeTrack {
  items: FakeTrackItem[] = [];
  locked = false;
  constructor(
    readonly sequence: FakeSequence,
    readonly index: number,
    readonly mediaType: 'Video' | 'Audio',
  ) {}

  get id(): number {
    return this.index;
  }
  get name(): string {
    return `${this.mediaType} ${this.index + 1}`;
  }
  get clips(): Record<number, FakeTrackItem> {
    return collection(this.items, 'numItems');
  }
  isLocked(): boolean {
    return this.locked;
  }
  add(item: FakeTrackItem): FakeTrackItem {
    item.track = this;
    this.items.push(item);
    this.items.sort((a, b) => (a.startTicks < b.startTicks ? -1 : a.startTicks > b.startTicks ? 1 : 0));
    return item;
  }
  /** Documented: adds the item at `time`, overwriting existing media there (the caller must avoid that). */
  overwriteClip(projectItem: FakeProjectItem, time: FakeTime | number | string): boolean {
    const project = this.sequence.project;
    project.log.push(`overwriteClip ${this.mediaType} ${this.index + 1} ${projectItem.name}`);
    if (this.locked) return false;
    const start = toTicks(time);
    const length = projectItem.durationTicks();
    const end = start + length;
    const kept: FakeTrackItem[] = [];
    for (const item of this.items) {
      if (item.endTicks <= start || item.startTicks >= end) kept.push(item);
      else {
        project.log.push(`overwrote ${item.name}`);
        if (item.startTicks < start) {
          item.outTicks -= item.endTicks - start;
          item.endTicks = start;
          kept.push(item);
        } else if (item.endTicks > end) {
          item.inTicks += end - item.startTicks;
          item.startTicks = end;
          kept.push(item);
        }
      }
    }
    this.items = kept;
    this.add(new FakeTrackItem(projectItem.name, this.mediaType, projectItem, start, end, 0n, length));
    return true;
  }
}

export class FakeSequence {
  readonly sequenceID: string;
  readonly videoTrackList: FakeTrack[];
  readonly audioTrackList: FakeTrack[];
  readonly projectItem: FakeProjectItem;
  playheadTicks = 0n;

  constructor(
    readonly project: FakeProject,
    public name: string,
    readonly frameRate: Rate,
    readonly width: number,
    readonly height: number,
    videoTracks: number,
    audioTracks: number,
  ) {
    this.sequenceID = `seq-${nodeId()}`;
    this.videoTrackList = Array.from({ length: videoTracks }, (_, i) => new FakeTrack(this, i, 'Video'));
    this.audioTrackList = Array.from({ length: audioTracks }, (_, i) => new FakeTrack(this, i, 'Audio'));
    this.projectItem = new FakeProjectItem(name, PROJECT_ITEM_TYPE.CLIP, '', null, this);
  }

  get timebase(): string {
    return ticksPerFrame(this.frameRate).toString();
  }
  get videoTracks(): Record<number, FakeTrack> {
    return collection(this.videoTrackList, 'numTracks');
  }
  get audioTracks(): Record<number, FakeTrack> {
    return collection(this.audioTrackList, 'numTracks');
  }
  frame(n: number): bigint {
    return BigInt(n) * ticksPerFrame(this.frameRate);
  }
  endTicks(): bigint {
    let end = 0n;
    for (const t of [...this.videoTrackList, ...this.audioTrackList]) for (const c of t.items) if (c.endTicks > end) end = c.endTicks;
    return end;
  }
  getPlayerPosition(): FakeTime {
    return FakeTime.of(this.playheadTicks);
  }
  setPlayerPosition(ticks: string): void {
    this.playheadTicks = BigInt(ticks);
  }
  /** Selected items of every track, in temporal order (video before audio at the same time); an Array-like, not an array. */
  getSelection(): Record<number, FakeTrackItem> & { length: number } {
    const selected = [...this.videoTrackList, ...this.audioTrackList].flatMap((t) => t.items.filter((c) => c.selected));
    selected.sort((a, b) => (a.startTicks < b.startTicks ? -1 : a.startTicks > b.startTicks ? 1 : 0));
    const out = collection(selected, 'numItems') as unknown as Record<number, FakeTrackItem> & { length: number };
    out.length = selected.length;
    return out;
  }
  getSettings(): { videoFrameRate: FakeTime; videoFrameWidth: number; videoFrameHeight: number } {
    return { videoFrameRate: FakeTime.of(ticksPerFrame(this.frameRate)), videoFrameWidth: this.width, videoFrameHeight: this.height };
  }

  /** Test setup: a clip of `item` on video track `track` (and its linked audio). */
  addClip(item: FakeProjectItem, o: ClipOptions): FakeTrackItem {
    const inTicks = item.nestedSequence ? BigInt(o.inFrame ?? 0) * ticksPerFrame(this.frameRate) : item.frameTicks(o.inFrame ?? 0);
    const sourceLength = item.nestedSequence ? BigInt(o.frames) * ticksPerFrame(this.frameRate) : item.frameTicks((o.inFrame ?? 0) + o.frames) - inTicks;
    const start = this.frame(o.startFrame);
    const shown = BigInt(Math.round(Number(sourceLength) / (o.speed ?? 1)));
    const video = this.videoTrackList[o.track]!.add(new FakeTrackItem(o.name ?? item.name, 'Video', item, start, start + shown, inTicks, inTicks + sourceLength, o.speed ?? 1, o.reversed ?? false));
    if (o.linkedAudioTrack !== undefined) {
      const audio = this.audioTrackList[o.linkedAudioTrack]!.add(new FakeTrackItem(video.name, 'Audio', item, start, start + shown, inTicks, inTicks + sourceLength, o.speed ?? 1));
      video.linked = [audio];
      audio.linked = [video];
    }
    return video;
  }

  /** Clicking a clip on the timeline: selects it and its linked items, deselects the rest. */
  select(...items: FakeTrackItem[]): void {
    for (const t of [...this.videoTrackList, ...this.audioTrackList]) for (const c of t.items) c.selected = false;
    for (const item of items) {
      item.selected = true;
      for (const l of item.linked) l.selected = true;
    }
    this.project.app.fire('onActiveSequenceSelectionChanged');
  }
}

function probe(file: string): MediaInfo | null {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=r_frame_rate,nb_read_packets', '-of', 'json', file], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const s = (JSON.parse(r.stdout) as { streams?: { r_frame_rate?: string; nb_read_packets?: string }[] }).streams?.[0];
  if (!s?.r_frame_rate || !s.nb_read_packets) return null;
  return { rate: rate(s.r_frame_rate), frames: Number(s.nb_read_packets) };
}

export class FakeProject {
  readonly rootItem: FakeProjectItem;
  readonly sequenceList: FakeSequence[] = [];
  activeSequence: FakeSequence | null = null;
  /** What the host did to the project, in order (imports, placements). */
  readonly log: string[] = [];

  constructor(
    readonly app: FakeApp,
    readonly name = 'Interview.prproj',
  ) {
    this.rootItem = new FakeProjectItem(name, PROJECT_ITEM_TYPE.ROOT);
  }

  get path(): string {
    return `/projects/${this.name}`;
  }
  get sequences(): Record<number, FakeSequence> {
    return collection(this.sequenceList, 'numSequences');
  }

  /** Documented: true if the import ran, false if not; the items are not returned. */
  importFiles(paths: string[], _suppressUI?: boolean, targetBin?: FakeProjectItem, asNumberedStills?: boolean): boolean {
    this.log.push(`importFiles ${Array.prototype.join.call(paths, ', ')}`);
    if (asNumberedStills) return false;
    const bin = targetBin ?? this.rootItem;
    const found: FakeProjectItem[] = [];
    for (let i = 0; i < paths.length; i++) {
      const file = String(paths[i]);
      const media = existsSync(file) ? probe(file) : null;
      if (!media) return false;
      found.push(new FakeProjectItem(path.basename(file), PROJECT_ITEM_TYPE.CLIP, file, media));
    }
    for (const item of found) bin.add(item);
    return true;
  }

  /** Test setup: a media file in the project (probed when `media` is not given). */
  addMedia(file: string, media?: MediaInfo, bin: FakeProjectItem = this.rootItem): FakeProjectItem {
    const info = media ?? probe(file);
    if (!info) throw new Error(`fake import: ffprobe cannot read ${file}`);
    return bin.add(new FakeProjectItem(path.basename(file), PROJECT_ITEM_TYPE.CLIP, file, info));
  }

  addSequence(name: string, frameRate: string, opts: { width?: number; height?: number; videoTracks?: number; audioTracks?: number } = {}): FakeSequence {
    const seq = new FakeSequence(this, name, rate(frameRate), opts.width ?? 320, opts.height ?? 180, opts.videoTracks ?? 3, opts.audioTracks ?? 2);
    this.sequenceList.push(seq);
    this.rootItem.add(seq.projectItem);
    this.activeSequence ??= seq;
    return seq;
  }

  /** The project as plain data: bins and items, and every track's clips (to check "untouched"). */
  state(): unknown {
    const items = (bin: FakeProjectItem): unknown =>
      bin.items.map((i) => (i.type === PROJECT_ITEM_TYPE.BIN ? { bin: i.name, items: items(i) } : { item: i.name, path: i.getMediaPath(), fps: i.overrideFps }));
    const tracks = (list: FakeTrack[]): unknown =>
      list.map((t) => t.items.map((c) => ({ name: c.name, start: c.startTicks.toString(), end: c.endTicks.toString(), in: c.inTicks.toString(), out: c.outTicks.toString() })));
    return { items: items(this.rootItem), sequences: this.sequenceList.map((s) => ({ name: s.name, video: tracks(s.videoTrackList), audio: tracks(s.audioTrackList) })) };
  }
}

export class FakeApp {
  readonly version = '24.0.0';
  project: FakeProject | null;
  private readonly handlers = new Map<string, (() => void)[]>();

  constructor() {
    this.project = new FakeProject(this);
  }
  bind(eventName: string, handler: () => void): boolean {
    this.handlers.set(eventName, [...(this.handlers.get(eventName) ?? []), handler]);
    return true;
  }
  /** Premiere firing an app event (the host's handlers run, as ExtendScript would run them). */
  fire(eventName: string): void {
    for (const h of this.handlers.get(eventName) ?? []) h();
  }
}

/** A fresh fake Premiere with one open project. */
export function fakePremiere(): { app: FakeApp; project: FakeProject } {
  const app = new FakeApp();
  return { app, project: app.project! };
}
