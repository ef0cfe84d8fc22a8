// A FAKE of Premiere's UXP `premierepro` module (Premiere cannot run here), modelled on the
// documented 26.x API: names and signatures from Adobe's @adobe/premierepro 26.3 typings (checked
// at compile time below), getters asynchronous, wrappers new on every call. It enforces what
// 26.3 enforces and what Adobe's eslint-plugin-premierepro checks: an Action is created only
// inside project.lockedAccess(); executeTransaction() runs only inside lockedAccess; addAction()
// only inside the transaction's callback, with an Action of the same lock; callbacks must not be
// async; an Action runs once. A broken rule throws, so a host that breaks one fails its test.
// Sequence.setSelection() is synchronous (26.3). State: premierepro-fake-model.ts.
import type { ClipProjectItem, FolderItem, premierepro, Project, ProjectItem, Sequence, SequenceEditor, TrackItemSelection, VideoClipTrackItem, VideoTrack } from '@adobe/premierepro';
import { ClipModel, ItemModel, type ProjectModel, type SequenceModel, type TrackModel } from './premierepro-fake-model.js';
import { TPS } from './premiere-ticks.js';

/** Compile time: every name is in Adobe's typings for T. Run time: the fake has each as a method. */
function documented<T>(proto: object, names: readonly (keyof T & string)[]): void {
  for (const n of names) if (typeof (proto as Record<string, unknown>)[n] !== 'function') throw new Error(`fake premierepro: ${n} missing`);
}

export class FakeRuleBroken extends Error {
  override name = 'FakeRuleBroken';
}

const TYPE = { CLIP: 1, BIN: 2, ROOT: 3, FILE: 4 } as const;
const TRACK_ITEM_TYPE = { EMPTY: 0, CLIP: 1, TRANSITION: 2, PREVIEW: 3, FEEDBACK: 4 } as const;
const SEQUENCE_EVENT = { ACTIVATED: 'sequenceActivated', CLOSED: 'sequenceClosed', SELECTION_CHANGED: 'selectionChanged' } as const;

class FakeTickTime {
  constructor(readonly value: bigint) {}
  get ticks(): string {
    return this.value.toString();
  }
  get ticksNumber(): number {
    return Number(this.value);
  }
  get seconds(): number {
    return Number(this.value) / Number(TPS);
  }
  equals(o: FakeTickTime): boolean {
    return o.value === this.value;
  }
}

class FakeGuid {
  constructor(private readonly id: string) {}
  toString(): string {
    return this.id;
  }
}

/** Locks, transactions and Actions: the rules. */
class Rules {
  depth = 0;
  scope = 0;
  private nextScope = 1;
  compound: FakeCompoundAction | null = null;

  lockedAccess(callback: () => void): void {
    const outer = this.scope;
    this.depth++;
    this.scope = this.nextScope++;
    try {
      const r: unknown = callback();
      if (r && typeof (r as Promise<unknown>).then === 'function') throw new FakeRuleBroken('lockedAccess callback returned a Promise: no async work inside lockedAccess');
    } finally {
      this.depth--;
      this.scope = outer;
    }
  }
  newAction(what: string, check: () => string | null, apply: () => void): FakeAction {
    if (this.depth === 0) throw new FakeRuleBroken(`${what}: Actions must be created inside project.lockedAccess() (enforced since 26.3)`);
    return new FakeAction(what, this.scope, check, apply);
  }
}

class FakeAction {
  used = false;
  constructor(
    readonly what: string,
    readonly scope: number,
    readonly check: () => string | null,
    readonly apply: () => void,
  ) {}
}

class FakeCompoundAction {
  readonly actions: FakeAction[] = [];
  constructor(private readonly rules: Rules) {}
  get empty(): boolean {
    return this.actions.length === 0;
  }
  addAction(action: FakeAction): boolean {
    if (this.rules.compound !== this) throw new FakeRuleBroken('addAction outside its executeTransaction callback');
    if (!(action instanceof FakeAction)) throw new FakeRuleBroken('addAction: not an Action');
    if (action.scope !== this.rules.scope) throw new FakeRuleBroken(`${action.what}: Action used outside the lockedAccess it was created in`);
    if (action.used) throw new FakeRuleBroken(`${action.what}: Action already run`);
    this.actions.push(action);
    return true;
  }
}

export class FakePremierepro {
  readonly rules = new Rules();
  /** Undo names of the transactions that ran, in order. */
  readonly undo: string[] = [];
  private readonly globalListeners = new Map<string, Set<(e?: object) => void>>();

  constructor(
    readonly project: ProjectModel | null,
    readonly version = '26.3.0',
  ) {
    project?.listeners.add((event) => {
      for (const l of this.globalListeners.get(event) ?? []) l({});
    });
  }

  executeTransaction(callback: (c: FakeCompoundAction) => void, undoName?: string): boolean {
    if (this.rules.depth === 0) throw new FakeRuleBroken('executeTransaction outside project.lockedAccess()');
    if (this.rules.compound) throw new FakeRuleBroken('executeTransaction inside another transaction');
    const compound = new FakeCompoundAction(this.rules);
    this.rules.compound = compound;
    try {
      const r: unknown = callback(compound);
      if (r && typeof (r as Promise<unknown>).then === 'function') throw new FakeRuleBroken('executeTransaction callback returned a Promise: no async work inside a transaction');
    } finally {
      this.rules.compound = null;
    }
    // All or nothing: a transaction whose Action cannot apply changes nothing and answers false.
    for (const a of compound.actions) if (a.check() !== null) return false;
    for (const a of compound.actions) {
      a.used = true;
      a.apply();
    }
    this.undo.push(undoName ?? '');
    this.project!.log.push(`transaction ${undoName ?? ''}: ${compound.actions.map((a) => a.what).join(', ')}`);
    return true;
  }

  listen(event: string, handler: (e?: object) => void, on: boolean): void {
    const set = this.globalListeners.get(event) ?? new Set();
    if (on) set.add(handler);
    else set.delete(handler);
    this.globalListeners.set(event, set);
  }

  /** The module as `require('premierepro')` gives it. */
  module(): premierepro {
    const m = {
      Application: { version: this.version },
      Project: { getActiveProject: async () => (this.project ? new FakeProject(this, this.project) : null) },
      ProjectItem: { ...TYPE_NAMES, cast: (item: FakeProjectItem) => item },
      ClipProjectItem: { cast: (item: FakeProjectItem) => (item.model.kind === 'clip' ? new FakeClipProjectItem(this, item.model) : null) },
      FolderItem: { cast: (item: FakeProjectItem) => (item.model.kind !== 'clip' ? new FakeFolderItem(this, item.model) : null) },
      SequenceEditor: { getEditor: (s: FakeSequence) => new FakeSequenceEditor(this, s.model) },
      TickTime: {
        createWithTicks(ticks: string): FakeTickTime {
          if (!/^\d+$/.test(String(ticks))) throw new Error(`TickTime.createWithTicks: "${ticks}" is not a tick count`);
          return new FakeTickTime(BigInt(ticks));
        },
        createWithSeconds: (s: number) => new FakeTickTime(BigInt(Math.round(s * Number(TPS)))),
        TIME_ZERO: new FakeTickTime(0n),
      },
      EventManager: {
        addGlobalEventListener: (name: string, h: (e?: object) => void) => this.listen(name, h, true),
        removeGlobalEventListener: (name: string, h: (e?: object) => void) => this.listen(name, h, false),
      },
      Constants: { TrackItemType: TRACK_ITEM_TYPE, SequenceEvent: SEQUENCE_EVENT, MediaType: { ANY: 0, DATA: 1, VIDEO: 2, AUDIO: 3 } },
    };
    return m as unknown as premierepro;
  }
}

const TYPE_NAMES = { TYPE_CLIP: TYPE.CLIP, TYPE_BIN: TYPE.BIN, TYPE_ROOT: TYPE.ROOT, TYPE_FILE: TYPE.FILE };

class FakeProject {
  constructor(
    private readonly fake: FakePremierepro,
    private readonly model: ProjectModel,
  ) {}
  get guid(): FakeGuid {
    return new FakeGuid(this.model.guid);
  }
  get name(): string {
    return this.model.name;
  }
  get path(): string {
    return `/projects/${this.model.name}.prproj`;
  }
  async getActiveSequence(): Promise<FakeSequence | null> {
    return this.model.active ? new FakeSequence(this.fake, this.model.active) : null;
  }
  async getSequences(): Promise<FakeSequence[]> {
    return this.model.sequences.map((s) => new FakeSequence(this.fake, s));
  }
  async getRootItem(): Promise<FakeFolderItem> {
    return new FakeFolderItem(this.fake, this.model.root);
  }
  async importFiles(filePaths: string[], _suppressUI?: boolean, targetBin?: FakeProjectItem, asNumberedStills?: boolean): Promise<boolean> {
    this.model.log.push(`importFiles ${filePaths.join(', ')}`);
    if (asNumberedStills) return false;
    const bin = targetBin ? targetBin.model : this.model.root;
    if (bin.kind === 'clip') return false;
    const probed = await Promise.all(filePaths.map((p) => this.model.probe(p)));
    if (probed.some((m) => m === null)) return false;
    filePaths.forEach((p, i) => bin.add(new ItemModel(p.split(/[\\/]/).pop()!, 'clip', p, probed[i]!)));
    return true;
  }
  lockedAccess(callback: () => void): void {
    this.fake.rules.lockedAccess(callback);
  }
  executeTransaction(callback: (c: FakeCompoundAction) => void, undoString?: string): boolean {
    return this.fake.executeTransaction(callback, undoString);
  }
}
documented<Project>(FakeProject.prototype, ['getActiveSequence', 'getSequences', 'getRootItem', 'importFiles', 'lockedAccess', 'executeTransaction']);

class FakeSequence {
  constructor(
    private readonly fake: FakePremierepro,
    readonly model: SequenceModel,
  ) {}
  get guid(): FakeGuid {
    return new FakeGuid(this.model.guid);
  }
  get name(): string {
    return this.model.name;
  }
  async getTimebase(): Promise<string> {
    return this.model.timebase.toString();
  }
  async getFrameSize(): Promise<{ width: number; height: number }> {
    return { width: this.model.width, height: this.model.height };
  }
  async getVideoTrackCount(): Promise<number> {
    return this.model.video.length;
  }
  async getAudioTrackCount(): Promise<number> {
    return this.model.audio.length;
  }
  async getVideoTrack(i: number): Promise<FakeVideoTrack> {
    const t = this.model.video[i];
    if (!t) throw new Error(`getVideoTrack(${i}): no such track`);
    return new FakeVideoTrack(this.fake, this.model, t);
  }
  async getPlayerPosition(): Promise<FakeTickTime> {
    return new FakeTickTime(this.model.playhead);
  }
  async getSelection(): Promise<FakeTrackItemSelection> {
    return new FakeTrackItemSelection(this.fake, this.model, this.model.selectedClips());
  }
  /** Synchronous since 26.3 (it returned a Promise before). */
  setSelection(selection: FakeTrackItemSelection): boolean {
    this.model.select(...selection.clips.filter((c) => this.model.video.some((t) => t.clips.includes(c))));
    return true;
  }
}
documented<Sequence>(FakeSequence.prototype, ['getTimebase', 'getFrameSize', 'getVideoTrackCount', 'getAudioTrackCount', 'getVideoTrack', 'getPlayerPosition', 'getSelection', 'setSelection']);

class FakeTrackItemSelection {
  constructor(
    private readonly fake: FakePremierepro,
    private readonly seq: SequenceModel,
    readonly clips: ClipModel[],
  ) {}
  async getTrackItems(): Promise<FakeVideoClipTrackItem[]> {
    return this.clips.map((c) => new FakeVideoClipTrackItem(this.fake, this.seq, c));
  }
  addItem(item: FakeVideoClipTrackItem): boolean {
    if (!this.clips.includes(item.model)) this.clips.push(item.model);
    return true;
  }
  removeItem(item: FakeVideoClipTrackItem): boolean {
    const i = this.clips.indexOf(item.model);
    if (i >= 0) this.clips.splice(i, 1);
    return i >= 0;
  }
}
documented<TrackItemSelection>(FakeTrackItemSelection.prototype, ['getTrackItems', 'addItem', 'removeItem']);

class FakeVideoTrack {
  constructor(
    private readonly fake: FakePremierepro,
    private readonly seq: SequenceModel,
    private readonly track: TrackModel,
  ) {}
  get name(): string {
    return this.track.name;
  }
  get id(): number {
    return this.track.index;
  }
  async getIndex(): Promise<number> {
    return this.track.index;
  }
  /** Synchronous in the typings (returns the array itself). */
  getTrackItems(trackItemType: number, includeEmptyTrackItems: boolean): FakeVideoClipTrackItem[] {
    if (includeEmptyTrackItems) throw new Error('fake premierepro: empty track items are not modelled');
    if (trackItemType !== TRACK_ITEM_TYPE.CLIP) return [];
    return this.track.clips.map((c) => new FakeVideoClipTrackItem(this.fake, this.seq, c));
  }
}
documented<VideoTrack>(FakeVideoTrack.prototype, ['getIndex', 'getTrackItems']);

const tick = (t: bigint): Promise<FakeTickTime> => Promise.resolve(new FakeTickTime(t));

class FakeVideoClipTrackItem {
  constructor(
    private readonly fake: FakePremierepro,
    private readonly seq: SequenceModel,
    readonly model: ClipModel,
  ) {}
  async getName(): Promise<string> {
    return this.model.name;
  }
  getStartTime(): Promise<FakeTickTime> {
    return tick(this.model.start);
  }
  getEndTime(): Promise<FakeTickTime> {
    return tick(this.model.end);
  }
  getInPoint(): Promise<FakeTickTime> {
    return tick(this.model.inPoint);
  }
  getOutPoint(): Promise<FakeTickTime> {
    return tick(this.model.outPoint);
  }
  async getSpeed(): Promise<number> {
    return this.model.speed;
  }
  /** Documented as Promise<number>. */
  async isSpeedReversed(): Promise<number> {
    return this.model.reversed ? 1 : 0;
  }
  async isAdjustmentLayer(): Promise<boolean> {
    return this.model.adjustmentLayer;
  }
  async getIsSelected(): Promise<boolean> {
    return this.model.selected;
  }
  async getTrackIndex(): Promise<number> {
    return this.seq.video.findIndex((t) => t.clips.includes(this.model));
  }
  async getProjectItem(): Promise<FakeProjectItem> {
    return new FakeProjectItem(this.fake, this.model.item);
  }
  createSetNameAction(inName: string): FakeAction {
    const clip = this.model;
    return this.fake.rules.newAction(
      `rename "${clip.name}" -> "${inName}"`,
      () => null,
      () => void (clip.name = inName),
    );
  }
}
documented<VideoClipTrackItem>(FakeVideoClipTrackItem.prototype, [
  'createSetNameAction',
  'getName',
  'getStartTime',
  'getEndTime',
  'getInPoint',
  'getOutPoint',
  'getSpeed',
  'isSpeedReversed',
  'isAdjustmentLayer',
  'getIsSelected',
  'getTrackIndex',
  'getProjectItem',
]);

class FakeProjectItem {
  constructor(
    protected readonly fake: FakePremierepro,
    readonly model: ItemModel,
  ) {}
  get name(): string {
    return this.model.name;
  }
  get type(): number {
    return this.model.kind === 'clip' ? TYPE.CLIP : this.model.kind === 'bin' ? TYPE.BIN : TYPE.ROOT;
  }
  getId(): string {
    return this.model.id;
  }
}
documented<ProjectItem>(FakeProjectItem.prototype, ['getId']);

class FakeClipProjectItem extends FakeProjectItem {
  async isSequence(): Promise<boolean> {
    return this.model.sequence !== null;
  }
  async isMulticamClip(): Promise<boolean> {
    return this.model.multicam;
  }
  async isMergedClip(): Promise<boolean> {
    return false;
  }
  async getMediaFilePath(): Promise<string> {
    return this.model.mediaPath;
  }
  async isOffline(): Promise<boolean> {
    return this.model.offline;
  }
  async getFootageInterpretation(): Promise<{ getFrameRate(): number } | null> {
    const fps = this.model.fps();
    return fps === null ? null : { getFrameRate: () => fps };
  }
  createSetOverrideFrameRateAction(fps: number): FakeAction {
    const item = this.model;
    return this.fake.rules.newAction(
      `interpret ${item.name} at ${fps} fps`,
      () => (fps > 0 && item.media ? null : 'bad frame rate'),
      () => void (item.overrideFps = fps),
    );
  }
}
documented<ClipProjectItem>(FakeClipProjectItem.prototype, [
  'isSequence',
  'isMulticamClip',
  'isMergedClip',
  'getMediaFilePath',
  'isOffline',
  'getFootageInterpretation',
  'createSetOverrideFrameRateAction',
]);

class FakeFolderItem extends FakeProjectItem {
  async getItems(): Promise<FakeProjectItem[]> {
    return this.model.children.map((c) => new FakeProjectItem(this.fake, c));
  }
  createBinAction(name: string, makeUnique: boolean): FakeAction {
    const parent = this.model;
    return this.fake.rules.newAction(
      `create bin "${name}"`,
      () => null,
      () => {
        let unique = name;
        for (let n = 2; makeUnique && parent.children.some((c) => c.name === unique); n++) unique = `${name} ${n}`;
        parent.add(new ItemModel(unique, 'bin'));
      },
    );
  }
}
documented<FolderItem>(FakeFolderItem.prototype, ['getItems', 'createBinAction']);

class FakeSequenceEditor {
  constructor(
    private readonly fake: FakePremierepro,
    private readonly seq: SequenceModel,
  ) {}
  /** Overwrite edit of the whole item at `time` on video track `videoTrackIndex` (and its audio, if any, on `audioTrackIndex`). */
  createOverwriteItemAction(projectItem: FakeProjectItem, time: FakeTickTime, videoTrackIndex: number, audioTrackIndex: number): FakeAction {
    const { seq } = this;
    const item = projectItem.model;
    const project = seq.project;
    return this.fake.rules.newAction(
      `overwrite ${item.name} at V${videoTrackIndex + 1}`,
      () => (item.media === null ? 'not media' : seq.video[videoTrackIndex] ? null : `no video track ${videoTrackIndex}`),
      () => {
        const length = item.durationTicks();
        const clip = new ClipModel(item.name, item, time.value, time.value + length, 0n, length);
        for (const hit of seq.video[videoTrackIndex]!.overwrite(clip)) project.log.push(`overwrote ${hit}`);
        if (item.media!.hasAudio) {
          const audio = seq.audio[audioTrackIndex];
          const a = new ClipModel(item.name, item, clip.start, clip.end, 0n, length);
          if (audio) for (const hit of audio.overwrite(a)) project.log.push(`overwrote audio ${hit}`);
          project.log.push(`audio of ${item.name} on A${audioTrackIndex + 1}`);
        }
      },
    );
  }
}
documented<SequenceEditor>(FakeSequenceEditor.prototype, ['createOverwriteItemAction']);
