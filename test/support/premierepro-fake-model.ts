// The state behind the FAKE `premierepro` module (premierepro-fake.ts): a Premiere project as
// plain data (bins and media items, sequences with video/audio tracks and clips, selection,
// playhead) and the edits its Actions make. Times are ticks (254016000000 per second) as bigint.
// Browser-safe (no Node imports): the UXP end-to-end test runs it inside Chromium, and media
// files are probed through the `probe` function given (ffprobe in Node).
import { ticksPerFrame, TPS, type Rate } from './premiere-ticks.js';

export interface MediaInfo {
  readonly rate: Rate;
  readonly frames: number;
  readonly hasAudio: boolean;
}

export type Probe = (path: string) => Promise<MediaInfo | null>;

let nextId = 1;
const newId = (prefix: string): string => `${prefix}-${(nextId++).toString(16).padStart(4, '0')}`;

export class ItemModel {
  readonly id = newId('item');
  readonly children: ItemModel[] = [];
  parent: ItemModel | null = null;
  offline = false;
  overrideFps: number | null = null;

  constructor(
    public name: string,
    readonly kind: 'bin' | 'root' | 'clip',
    readonly mediaPath = '',
    readonly media: MediaInfo | null = null,
    readonly sequence: SequenceModel | null = null,
    readonly multicam = false,
  ) {}

  add(child: ItemModel): ItemModel {
    child.parent = this;
    this.children.push(child);
    return child;
  }
  fps(): number | null {
    if (!this.media) return null;
    return this.overrideFps ?? this.media.rate.num / this.media.rate.den;
  }
  /** Ticks from the item's start to frame n at the rate Premiere plays it at. */
  frameTicks(n: number): bigint {
    if (this.sequence) return BigInt(n) * this.sequence.timebase;
    if (this.overrideFps === null) return BigInt(n) * ticksPerFrame(this.media!.rate);
    return BigInt(Math.round((n * Number(TPS)) / this.overrideFps));
  }
  durationTicks(): bigint {
    return this.frameTicks(this.media!.frames);
  }
}

export class ClipModel {
  readonly id = newId('clip');
  selected = false;
  linked: ClipModel[] = [];

  constructor(
    public name: string,
    readonly item: ItemModel,
    public start: bigint,
    public end: bigint,
    public inPoint: bigint,
    public outPoint: bigint,
    readonly speed = 1,
    readonly reversed = false,
    readonly adjustmentLayer = false,
  ) {}
}

export class TrackModel {
  clips: ClipModel[] = [];
  constructor(
    readonly kind: 'video' | 'audio',
    readonly index: number,
  ) {}
  get name(): string {
    return `${this.kind === 'video' ? 'Video' : 'Audio'} ${this.index + 1}`;
  }
  add(c: ClipModel): ClipModel {
    this.clips.push(c);
    this.clips.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return c;
  }
  /** An overwrite edit: what lies under [start, end) is trimmed or removed; returns the names overwritten. */
  overwrite(c: ClipModel): string[] {
    const hit: string[] = [];
    const kept: ClipModel[] = [];
    for (const o of this.clips) {
      if (o.end <= c.start || o.start >= c.end) kept.push(o);
      else {
        hit.push(o.name);
        if (o.start < c.start) {
          o.outPoint -= o.end - c.start;
          o.end = c.start;
          kept.push(o);
        } else if (o.end > c.end) {
          o.inPoint += c.end - o.start;
          o.start = c.end;
          kept.push(o);
        }
      }
    }
    this.clips = kept;
    this.add(c);
    return hit;
  }
}

export interface ClipSetup {
  readonly track: number;
  readonly startFrame: number;
  readonly inFrame?: number;
  readonly frames: number;
  readonly speed?: number;
  readonly reversed?: boolean;
  readonly linkedAudioTrack?: number;
  readonly name?: string;
}

export class SequenceModel {
  readonly guid = newId('seq');
  readonly video: TrackModel[];
  readonly audio: TrackModel[];
  playhead = 0n;

  constructor(
    readonly project: ProjectModel,
    readonly name: string,
    readonly rate: { num: number; den: number },
    readonly width: number,
    readonly height: number,
    videoTracks: number,
    audioTracks: number,
  ) {
    this.video = Array.from({ length: videoTracks }, (_, i) => new TrackModel('video', i));
    this.audio = Array.from({ length: audioTracks }, (_, i) => new TrackModel('audio', i));
  }

  get timebase(): bigint {
    return ticksPerFrame(this.rate);
  }
  frame(n: number): bigint {
    return BigInt(n) * this.timebase;
  }
  addClip(item: ItemModel, o: ClipSetup): ClipModel {
    const inTicks = item.frameTicks(o.inFrame ?? 0);
    const length = item.frameTicks((o.inFrame ?? 0) + o.frames) - inTicks;
    const start = this.frame(o.startFrame);
    const shown = BigInt(Math.round(Number(length) / (o.speed ?? 1)));
    const video = this.video[o.track]!.add(new ClipModel(o.name ?? item.name, item, start, start + shown, inTicks, inTicks + length, o.speed ?? 1, o.reversed ?? false));
    if (o.linkedAudioTrack !== undefined) {
      const audio = this.audio[o.linkedAudioTrack]!.add(new ClipModel(video.name, item, start, start + shown, inTicks, inTicks + length));
      video.linked = [audio];
      audio.linked = [video];
    }
    return video;
  }
  /** Clicking clips on the timeline: they and their linked items selected, the rest not. */
  select(...clips: ClipModel[]): void {
    for (const t of [...this.video, ...this.audio]) for (const c of t.clips) c.selected = false;
    for (const c of clips) {
      c.selected = true;
      for (const l of c.linked) l.selected = true;
    }
    this.project.fire('selectionChanged');
  }
  selectedClips(): ClipModel[] {
    return [...this.video, ...this.audio].flatMap((t) => t.clips.filter((c) => c.selected));
  }
}

export class ProjectModel {
  readonly guid = newId('project');
  readonly root = new ItemModel('root', 'root');
  readonly sequences: SequenceModel[] = [];
  active: SequenceModel | null = null;
  /** What changed the project, in order: imports, transactions (by undo name) and their edits. */
  readonly log: string[] = [];
  readonly listeners = new Set<(event: string) => void>();

  constructor(
    readonly probe: Probe,
    public name = 'Untitled',
  ) {}

  fire(event: string): void {
    for (const l of this.listeners) l(event);
  }
  addSequence(name: string, rate: { num: number; den: number }, o: { width?: number; height?: number; videoTracks?: number; audioTracks?: number } = {}): SequenceModel {
    const s = new SequenceModel(this, name, rate, o.width ?? 1920, o.height ?? 1080, o.videoTracks ?? 3, o.audioTracks ?? 2);
    this.sequences.push(s);
    this.root.add(new ItemModel(name, 'clip', '', null, s));
    this.active ??= s;
    return s;
  }
  /** Test setup: a media file in the project root (probed unless `media` is given). */
  async addMedia(path: string, media?: MediaInfo): Promise<ItemModel> {
    const info = media ?? (await this.probe(path));
    if (!info) throw new Error(`fake premierepro: cannot read ${path}`);
    return this.root.add(new ItemModel(path.split(/[\\/]/).pop()!, 'clip', path, info));
  }
  /** Every item of the project, depth first. */
  items(from: ItemModel = this.root): ItemModel[] {
    return from.children.flatMap((c) => [c, ...this.items(c)]);
  }
  /** The project as plain data, to compare before and after. */
  state(): unknown {
    const clip = (c: ClipModel): unknown => [c.name, c.item.id, String(c.start), String(c.end), String(c.inPoint), String(c.outPoint)];
    return {
      items: this.items().map((i) => [i.id, i.name, i.kind, i.parent?.id, i.overrideFps]),
      sequences: this.sequences.map((s) => ({ video: s.video.map((t) => t.clips.map(clip)), audio: s.audio.map((t) => t.clips.map(clip)) })),
    };
  }
}
