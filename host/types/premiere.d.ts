// The part of Premiere Pro's ExtendScript DOM that CleanPlate's host uses, declared for this
// project from the Premiere Pro scripting guide and types-for-adobe's Premiere 24.0 typings
// (ProjectItem.isOffline and getFootageInterpretation are documented but missing from those
// typings). Times: a Time holds ticks (a string, 254016000000 per second) and seconds.

declare class Time {
  constructor();
  seconds: number;
  ticks: string;
}

/** Documented values of ProjectItem.type. */
interface ProjectItemTypeValues {
  readonly CLIP: number;
  readonly BIN: number;
  readonly ROOT: number;
  readonly FILE: number;
}
declare var ProjectItemType: ProjectItemTypeValues;

interface FootageInterpretation {
  /** Frames per second as a float (e.g. 23.976023976...). */
  frameRate: number;
  pixelAspectRatio: number;
  alphaUsage: number;
}

interface ProjectItemCollection {
  readonly numItems: number;
  readonly [index: number]: ProjectItem;
}

interface ProjectItem {
  name: string;
  readonly nodeId: string;
  readonly treePath: string;
  readonly type: number;
  readonly children: ProjectItemCollection;
  getMediaPath(): string;
  isOffline(): boolean;
  /** True for sequences, multicam and merged clips. */
  isSequence(): boolean;
  /** The new bin, or 0 when it could not be made. */
  createBin(name: string): ProjectItem | 0;
  /** 0 when the item has no interpretation (bins, sequences). */
  getFootageInterpretation(): FootageInterpretation | 0;
  setOverrideFrameRate(framesPerSecond: number): unknown;
}

interface TrackItem {
  name: string;
  readonly nodeId: string;
  /** "Video" or "Audio". */
  readonly mediaType: string;
  /** 1 video, 2 audio. */
  readonly type: number;
  /** Sequence time (not relative to the zero point). */
  readonly start: Time;
  readonly end: Time;
  /** Source time of the first frame shown. */
  readonly inPoint: Time;
  /** Source time where the clip ends (exclusive). */
  readonly outPoint: Time;
  readonly duration: Time;
  readonly projectItem: ProjectItem;
  getSpeed(): number;
  /** 1 when reversed, else 0. */
  isSpeedReversed(): number;
  isSelected(): boolean;
  isAdjustmentLayer(): boolean;
}

interface TrackItemCollection {
  readonly numItems: number;
  readonly [index: number]: TrackItem;
}

interface Track {
  readonly name: string;
  readonly id: number;
  readonly mediaType: string;
  /** In temporal order. */
  readonly clips: TrackItemCollection;
  isLocked(): boolean;
  /** Places the item's in..out at `time` on this track, replacing whatever is there. */
  overwriteClip(item: ProjectItem, time: Time | number | string): boolean;
}

interface TrackCollection {
  readonly numTracks: number;
  readonly [index: number]: Track;
}

/** Array-like: the selected track items in temporal order, linked audio included. */
interface TrackItemSelection {
  readonly length: number;
  readonly [index: number]: TrackItem;
}

interface SequenceSettings {
  /** Duration of one frame. */
  videoFrameRate: Time;
  videoFrameWidth: number;
  videoFrameHeight: number;
}

interface Sequence {
  name: string;
  readonly sequenceID: string;
  /** Ticks per frame, as a string. */
  readonly timebase: string;
  readonly videoTracks: TrackCollection;
  readonly audioTracks: TrackCollection;
  readonly projectItem: ProjectItem;
  getPlayerPosition(): Time;
  getSelection(): TrackItemSelection;
  getSettings(): SequenceSettings;
}

interface SequenceCollection {
  readonly numSequences: number;
  readonly [index: number]: Sequence;
}

interface Project {
  readonly name: string;
  readonly path: string;
  readonly rootItem: ProjectItem;
  readonly sequences: SequenceCollection;
  activeSequence: Sequence | null | undefined;
  /** True when the import ran; the imported items are found by media path. */
  importFiles(paths: string[], suppressUI?: boolean, targetBin?: ProjectItem, asNumberedStills?: boolean): boolean;
}

interface Application {
  readonly version: string;
  readonly project: Project | null | undefined;
  bind(eventName: string, handler: () => void): boolean;
}
declare var app: Application;

// ExtendScript globals.
interface ExtendScriptDollar {
  /** The global object. */
  readonly global: any;
  writeln(...text: any[]): void;
}
declare var $: ExtendScriptDollar;

// Host -> panel events (PlugPlugExternalObject).
declare class ExternalObject {
  constructor(library: string);
}
declare class CSXSEvent {
  constructor();
  type: string;
  data: string;
  dispatch(): void;
}
