// What the Premiere host offers the panel: the functions (HostApi), their data, their errors and
// the events the host sends. Types only, plain data, no ES5 library types: the ES3 host and the
// panel (DOM, ES2022) both compile this file, so a change shows up as a type error on both sides.

/** Premiere's time unit: Time.ticks is a decimal string of these. */
export type Ticks = string;

export type ClipRefusalCode =
  | 'nested_sequence' // the clip is a sequence (nest, multicam, merged clip)
  | 'offline_media' // the media file is missing
  | 'no_media' // a synthetic item (title, colour matte, adjustment layer) without a file
  | 'speed_changed' // speed other than 100%
  | 'reversed'; // played backwards

/** A selected video clip as the engine needs it, and where it sits in the sequence. */
export interface ClipDescription {
  /** TrackItem.nodeId: finds the clip again when its matte is placed. */
  readonly nodeId: string;
  readonly name: string;
  readonly mediaPath: string;
  readonly sequenceId: string;
  /** 0-based video track index (V1 = 0). */
  readonly trackIndex: number;
  readonly trackName: string;
  /** Sequence time: where the clip starts and ends on the timeline. */
  readonly startTicks: Ticks;
  readonly endTicks: Ticks;
  /** Source time: the first frame shown and the end of the last one (exclusive). */
  readonly inTicks: Ticks;
  readonly outTicks: Ticks;
  /** The same in seconds, for the engine's range (it tolerates float noise at frame starts). */
  readonly inSeconds: number;
  readonly outSeconds: number;
  /** 1 = 100%. */
  readonly speed: number;
  /** Frames per second Premiere plays the media at (footage interpretation); null if unknown. */
  readonly mediaFps: number | null;
  /** Set when CleanPlate cannot matte this clip, with the reason in plain words. */
  readonly refusal?: { readonly code: ClipRefusalCode; readonly message: string };
}

export interface SequenceInfo {
  readonly id: string;
  readonly name: string;
  /** Ticks per frame. */
  readonly timebase: Ticks;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
}

export interface SelectionInfo {
  /** null when no sequence is open. */
  readonly sequence: SequenceInfo | null;
  /** Selected video clips in timeline order. */
  readonly clips: ClipDescription[];
  /** Selected audio items left out (linked audio of the video clips, or audio-only clips). */
  readonly audioItemsIgnored: number;
}

/** The frame under the playhead, in the selected clip's source time. */
export interface PlayheadFrame {
  readonly clip: ClipDescription;
  readonly sequenceTicks: Ticks;
  readonly sourceTicks: Ticks;
  readonly sourceSeconds: number;
}

/** cutout: ProRes 4444 with alpha over the clip. trackMatte: the luma matte, for Track Matte Key. */
export type MatteMode = 'cutout' | 'trackMatte';

/** Which clip a matte belongs to: as described when its job started. */
export interface ClipRef {
  readonly sequenceId: string;
  readonly nodeId: string;
  readonly trackIndex: number;
  readonly mediaPath: string;
  readonly inTicks: Ticks;
  readonly outTicks: Ticks;
}

export interface PlaceMatteRequest {
  readonly clip: ClipRef;
  /** The rendered file (engine job output) on this machine. */
  readonly mattePath: string;
  readonly mode: MatteMode;
}

export interface Placement {
  readonly trackIndex: number;
  readonly trackName: string;
  readonly startTicks: Ticks;
  readonly endTicks: Ticks;
}

export interface PlaceMatteResult extends Placement {
  readonly binName: string;
  readonly itemName: string;
  /** The file was in the bin already (placed again) rather than imported now. */
  readonly reusedItem: boolean;
  /** The matte was interpreted at the clip's frame rate because Premiere plays the clip at another. */
  readonly frameRateOverride: number | null;
}

export type HostErrorCode =
  | 'no_project'
  | 'no_sequence'
  | 'no_selection'
  | 'clip_refused'
  | 'playhead_outside_clip'
  | 'clip_gone' // the clip a matte belongs to is no longer on the timeline
  | 'clip_changed' // its source range changed since the matte was rendered
  | 'no_free_track'
  | 'import_failed'
  | 'place_failed'
  | 'bad_request'
  | 'internal';

export interface HostErrorInfo {
  readonly code: HostErrorCode;
  readonly message: string;
}

/** What every host call returns (as JSON): the value, or an error in plain words. */
export type HostResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: HostErrorInfo };

export interface HostInfo {
  readonly host: string;
  readonly hostVersion: string;
  /** The CleanPlate host script's own version. */
  readonly scriptVersion: string;
}

/** The functions the panel calls (evalTS('name', ...args)). */
export interface HostApi {
  hello(): HostInfo;
  getSelection(): SelectionInfo;
  /** The selected clip under the playhead and the source frame shown there. */
  getPlayheadFrame(): PlayheadFrame;
  /** Where a matte for the clip would go now (first free unlocked video track above it). */
  planPlacement(clip: ClipRef): Placement;
  /** Imports the matte into the "CleanPlate Mattes" bin and places it above the clip, frame-aligned. */
  placeMatte(request: PlaceMatteRequest): PlaceMatteResult;
}

/** Events the host sends the panel (CSXS events named HOST_EVENT_PREFIX + key, data = JSON). */
export interface HostEvents {
  selectionChanged: { readonly sequenceId: string | null };
}

export const HOST_EVENT_PREFIX = 'com.cleanplate.host.';
/** The global the host script installs; the panel's bridge calls `<global>.call(name, argsJson)`. */
export const HOST_GLOBAL = 'CleanPlateHost';
export const MATTES_BIN = 'CleanPlate Mattes';
export const TICKS_PER_SECOND = 254016000000;
