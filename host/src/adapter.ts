// The editor seen through plain data: everything the host's operations (operations.ts) need from
// Premiere, and nothing of its object model. EditorView is the reading half, EditorAdapter adds
// the edits. The ExtendScript DOM implements both in premiere-adapter.ts (synchronous, ES3); the
// UXP plugin (panels/premiere-uxp) reads the premierepro module's asynchronous API into a
// snapshot that is an EditorView, so the same rules decide, then edits through actions.
import type { Ticks } from './api.js';

export interface SequenceSnapshot {
  readonly id: string;
  readonly name: string;
  readonly timebase: Ticks;
  readonly width: number;
  readonly height: number;
}

/** A track item as data: where it is, what it plays, and what would stop CleanPlate matting it. */
export interface ClipSnapshot {
  readonly nodeId: string;
  readonly name: string;
  readonly isVideo: boolean;
  readonly trackIndex: number;
  readonly trackName: string;
  readonly startTicks: Ticks;
  readonly endTicks: Ticks;
  readonly inTicks: Ticks;
  readonly outTicks: Ticks;
  readonly speed: number;
  readonly reversed: boolean;
  readonly adjustmentLayer: boolean;
  /** "" for synthetic items without a file. */
  readonly mediaPath: string;
  readonly offline: boolean;
  /** A nested sequence, multicam or merged clip. */
  readonly nested: boolean;
  readonly mediaFps: number | null;
}

export interface TrackSnapshot {
  readonly index: number;
  readonly name: string;
  readonly locked: boolean;
  /** Occupied spans, sequence time. */
  readonly clips: { readonly startTicks: Ticks; readonly endTicks: Ticks }[];
}

/** A project item handle owned by the adapter (opaque above it). */
export interface ItemHandle {
  readonly name: string;
  readonly mediaPath: string;
}

export interface PlacedSnapshot {
  readonly trackIndex: number;
  readonly startTicks: Ticks;
  readonly endTicks: Ticks;
}

export interface EditorView {
  hostName(): string;
  hostVersion(): string;
  hasProject(): boolean;
  activeSequence(): SequenceSnapshot | null;
  /** Selected track items of the sequence (video and audio), timeline order. */
  selection(sequenceId: string): ClipSnapshot[];
  playheadTicks(sequenceId: string): Ticks;
  /** The sequence's video tracks, bottom (V1) first. */
  videoTracks(sequenceId: string): TrackSnapshot[];
  /** The video clip with this nodeId, wherever it is in the sequence now. */
  findClip(sequenceId: string, nodeId: string): ClipSnapshot | null;
  sequenceExists(sequenceId: string): boolean;
}

export interface EditorAdapter extends EditorView {
  /** The top-level bin with this name, made when missing; null if it cannot be made. */
  bin(name: string): ItemHandle | null;
  /** An item directly in the bin whose media is this file. */
  itemInBin(bin: ItemHandle, mediaPath: string): ItemHandle | null;
  /** Imports the file into the bin; false when the editor refused it. */
  importInto(bin: ItemHandle, mediaPath: string): boolean;
  /** Frames per second the editor plays the item at; null if unknown. */
  itemFps(item: ItemHandle): number | null;
  setItemFps(item: ItemHandle, fps: number): void;
  /** Places the whole item on the video track at `startTicks`; null when nothing was placed. */
  place(sequenceId: string, item: ItemHandle, trackIndex: number, startTicks: Ticks, name: string): PlacedSnapshot | null;
}
