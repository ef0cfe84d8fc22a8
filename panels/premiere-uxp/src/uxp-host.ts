// The host API (host/src/api.ts) on Premiere's UXP `premierepro` module (Premiere 25.6+):
// reads go through a snapshot (editor-snapshot.ts) so the ExtendScript host's rules decide
// unchanged; edits are Actions created inside project.lockedAccess() and run by
// project.executeTransaction() as one undo step each (26.3 enforces both: an Action created
// outside a lock throws). Nothing awaits inside those callbacks.
import type { Action, ClipProjectItem, FolderItem, premierepro, Project, ProjectItem, Sequence, VideoClipTrackItem } from '@adobe/premierepro';
import { MATTES_BIN, type ClipRef, type HostApi, type HostInfo, type PlaceMatteRequest, type PlaceMatteResult } from '../../../host/src/api.js';
import { fail, fpsOverride, getPlayheadFrame, getSelection, isHostFailure, notPlacedMessage, placedResult, planMatte, planPlacement } from '../../../host/src/operations.js';
import { samePath } from '../../../host/src/paths.js';
import { HostError } from '../../premiere/src/host-script.js';
import { readEditor, SnapshotView } from './editor-snapshot.js';
import { messageOf } from '../../../src/shared/error-message.js';

declare const __CLEANPLATE_VERSION__: string;

interface MatteItem {
  readonly item: ProjectItem;
  readonly clip: ClipProjectItem;
  readonly name: string;
}

/** The host calls, asynchronous: each HostApi function returns a Promise of its result. */
export type AsyncHostApi = { [K in keyof HostApi]: (...args: Parameters<HostApi[K]>) => Promise<ReturnType<HostApi[K]>> };

export class UxpPremiereHost implements AsyncHostApi {
  constructor(private readonly ppro: premierepro) {}

  private async read(): Promise<{ view: SnapshotView; project: Project | null; sequence: Sequence | null }> {
    const { snapshot, project, sequence } = await readEditor(this.ppro);
    return { view: new SnapshotView(snapshot), project, sequence };
  }

  async hello(): Promise<HostInfo> {
    const { view } = await this.read();
    return { host: view.hostName(), hostVersion: view.hostVersion(), scriptVersion: typeof __CLEANPLATE_VERSION__ === 'string' ? __CLEANPLATE_VERSION__ : 'dev' };
  }

  async getSelection(): ReturnType<AsyncHostApi['getSelection']> {
    return getSelection((await this.read()).view);
  }

  async getPlayheadFrame(): ReturnType<AsyncHostApi['getPlayheadFrame']> {
    return getPlayheadFrame((await this.read()).view);
  }

  async planPlacement(clip: ClipRef): ReturnType<AsyncHostApi['planPlacement']> {
    return planPlacement((await this.read()).view, clip);
  }

  async placeMatte(req: PlaceMatteRequest): Promise<PlaceMatteResult> {
    const { view, project, sequence } = await this.read();
    // Decided on the snapshot before anything is imported: a refusal leaves the project as it was.
    const plan = planMatte(view, req);
    if (!project || !sequence) return fail('no_sequence', 'Open the sequence the matte was made for in the Timeline, then place it again.');
    const bin = await this.bin(project);
    let item = await this.itemInBin(bin, req.mattePath);
    const reused = item !== null;
    if (!item) {
      const imported = await project.importFiles([req.mattePath], true, this.ppro.ProjectItem.cast(bin), false);
      if (!imported) fail('import_failed', 'Premiere could not import ' + req.mattePath + '.');
      item = await this.itemInBin(bin, req.mattePath);
      if (!item) fail('import_failed', 'Premiere reported importing ' + req.mattePath + ' but it is not in the "' + MATTES_BIN + '" bin.');
    }
    const matte = item;
    const interp = await matte.clip.getFootageInterpretation();
    const override = fpsOverride(plan.clip.mediaFps, interp ? interp.getFrameRate() || null : null);
    if (override !== null && !this.edit(project, `CleanPlate: interpret matte at ${override} fps`, () => [matte.clip.createSetOverrideFrameRateAction(override)])) {
      fail('import_failed', `Premiere did not interpret ${matte.name} at ${override} fps.`);
    }
    // The matte files have no audio; an audio index past the last track could only add a track,
    // never overwrite the user's audio.
    const audioTracks = await sequence.getAudioTrackCount();
    const at = this.ppro.TickTime.createWithTicks(plan.clip.startTicks);
    const editor = this.ppro.SequenceEditor.getEditor(sequence);
    const ok = this.edit(project, 'CleanPlate: place matte', () => [editor.createOverwriteItemAction(matte.item, at, plan.target.trackIndex, audioTracks)]);
    const placed = ok ? await this.placedItem(sequence, plan.target.trackIndex, plan.clip.startTicks, req.mattePath) : null;
    if (!placed) return fail('place_failed', notPlacedMessage(plan, matte.name));
    // Named in a second step: the track item exists only once the overwrite ran.
    this.edit(project, 'CleanPlate: name matte', () => [placed.item.createSetNameAction(plan.label)]);
    return placedResult(plan, { trackIndex: plan.target.trackIndex, startTicks: placed.startTicks, endTicks: placed.endTicks }, matte.name, reused, override);
  }

  /** One undoable edit: the actions are made inside the project lock and run in one transaction. */
  private edit(project: Project, undoName: string, make: () => Action[]): boolean {
    let ok = false;
    project.lockedAccess(() => {
      const actions = make();
      ok = project.executeTransaction((compound) => {
        for (const a of actions) compound.addAction(a);
      }, undoName);
    });
    return ok;
  }

  private async bin(project: Project): Promise<FolderItem> {
    const root = await project.getRootItem();
    const find = async (): Promise<FolderItem | null> => {
      for (const child of await root.getItems()) {
        if (child.type === this.ppro.ProjectItem.TYPE_BIN && child.name === MATTES_BIN) return this.ppro.FolderItem.cast(child);
      }
      return null;
    };
    const found = await find();
    if (found) return found;
    this.edit(project, `CleanPlate: create the "${MATTES_BIN}" bin`, () => [root.createBinAction(MATTES_BIN, false)]);
    return (await find()) ?? fail('import_failed', 'Premiere did not create the "' + MATTES_BIN + '" bin.');
  }

  private async itemInBin(bin: FolderItem, mediaPath: string): Promise<MatteItem | null> {
    for (const child of await bin.getItems()) {
      if (child.type === this.ppro.ProjectItem.TYPE_BIN) continue;
      const clip = this.ppro.ClipProjectItem.cast(child);
      if (clip && samePath(await clip.getMediaFilePath(), mediaPath)) return { item: child, clip, name: child.name };
    }
    return null;
  }

  private async placedItem(sequence: Sequence, trackIndex: number, startTicks: string, mediaPath: string): Promise<{ item: VideoClipTrackItem; startTicks: string; endTicks: string } | null> {
    const track = await sequence.getVideoTrack(trackIndex);
    for (const t of track.getTrackItems(this.ppro.Constants.TrackItemType.CLIP, false)) {
      const start = (await t.getStartTime()).ticks;
      if (start !== startTicks) continue;
      const item = await t.getProjectItem();
      const clip = item ? this.ppro.ClipProjectItem.cast(item) : null;
      if (clip && samePath(await clip.getMediaFilePath(), mediaPath)) return { item: t, startTicks: start, endTicks: (await t.getEndTime()).ticks };
    }
    return null;
  }
}

/** A host call by name, failing with a HostError in plain words as the CEP bridge does. */
export async function callHost<K extends keyof HostApi>(host: AsyncHostApi, name: K, args: Parameters<HostApi[K]>): Promise<ReturnType<HostApi[K]>> {
  try {
    const fn = host[name] as (...a: Parameters<HostApi[K]>) => Promise<ReturnType<HostApi[K]>>;
    return await fn.apply(host, args);
  } catch (e) {
    if (isHostFailure(e)) throw new HostError(e.code, e.message);
    throw new HostError('internal', 'The CleanPlate plugin failed talking to Premiere: ' + messageOf(e));
  }
}
