// The host script's entry: installs one global, `CleanPlateHost.call(name, argsJson)`, that runs a
// HostApi function and answers with JSON text ({ok, value} or {ok:false, error}); the panel's
// bridge (panels/premiere/src/bridge.ts) is its only caller. Also forwards Premiere's selection
// changes to the panel as CSXS events.
import { HOST_EVENT_PREFIX, HOST_GLOBAL, type HostApi, type HostErrorInfo, type HostEvents, type HostResult } from './api.js';
import { parse, stringify } from './json.js';
import { getPlayheadFrame, getSelection, isHostFailure, placeMatte, planPlacement } from './operations.js';
import { PremiereAdapter } from './premiere-adapter.js';

declare const __CLEANPLATE_VERSION__: string;

const adapter = new PremiereAdapter();

const api: HostApi = {
  hello: () => ({ host: adapter.hostName(), hostVersion: adapter.hostVersion(), scriptVersion: __CLEANPLATE_VERSION__ }),
  getSelection: () => getSelection(adapter),
  getPlayheadFrame: () => getPlayheadFrame(adapter),
  planPlacement: (clip) => planPlacement(adapter, clip),
  placeMatte: (request) => placeMatte(adapter, request)
};

function errorInfo(e: unknown): HostErrorInfo {
  if (isHostFailure(e)) return { code: e.code, message: e.message };
  const err = e as { message?: unknown; line?: unknown };
  const where = typeof err.line === 'number' ? ' (host script line ' + err.line + ')' : '';
  return { code: 'internal', message: 'The CleanPlate host script failed: ' + String(err && err.message !== undefined ? err.message : e) + where };
}

function call(name: string, argsJson: string): string {
  let result: HostResult<unknown>;
  try {
    if (!Object.prototype.hasOwnProperty.call(api, name)) throw { hostFailure: true, code: 'bad_request', message: 'the host has no function "' + name + '"' };
    const args = parse(argsJson);
    if (Object.prototype.toString.call(args) !== '[object Array]') throw { hostFailure: true, code: 'bad_request', message: 'host arguments must be a JSON array' };
    const fn = (api as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    result = { ok: true, value: fn.apply(api, args) };
  } catch (e) {
    result = { ok: false, error: errorInfo(e) };
  }
  return stringify(result)!;
}

export function dispatch<K extends keyof HostEvents>(type: K, data: HostEvents[K]): void {
  const event = new CSXSEvent();
  event.type = HOST_EVENT_PREFIX + type;
  event.data = stringify(data)!;
  event.dispatch();
}

function bindEvents(): void {
  try {
    // Loads CSXSEvent into ExtendScript.
    new ExternalObject('lib:PlugPlugExternalObject');
    const changed = function (): void {
      const seq = app.project ? app.project.activeSequence : null;
      dispatch('selectionChanged', { sequenceId: seq ? seq.sequenceID : null });
    };
    app.bind('onActiveSequenceSelectionChanged', changed);
    app.bind('onActiveSequenceChanged', changed);
  } catch (_e) {
    // ES3 has no optional catch binding. No events: the panel also re-reads the selection when it gets focus.
  }
}

$.global[HOST_GLOBAL] = { call: call, version: __CLEANPLATE_VERSION__ };
bindEvents();
