// The text the panel sends through CSInterface.evalScript for one host call, and how its answer
// is read. Pure functions (no DOM, no CEP), shared by the panel's bridge and the tests.
import { HOST_GLOBAL, type HostErrorInfo, type HostResult } from '../../../host/src/api.js';

/** A JS string literal ExtendScript parses: JSON's, with U+2028/2029 escaped (line ends in ES3). */
function scriptString(text: string): string {
  return JSON.stringify(text)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** `CleanPlateHost.call("name", "[args as JSON]")`, guarded so a missing host script answers in JSON too. */
export function hostCallScript(name: string, args: readonly unknown[]): string {
  return (
    `(typeof ${HOST_GLOBAL} === "undefined") ? '{"ok":false,"error":{"code":"host_not_loaded","message":"The CleanPlate host script is not loaded in Premiere."}}' : ` +
    `${HOST_GLOBAL}.call(${scriptString(name)}, ${scriptString(JSON.stringify(args))})`
  );
}

export type BridgeErrorCode = HostErrorInfo['code'] | 'host_not_loaded' | 'bridge_failed';

export class HostError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

/** The value of a host reply, or a HostError. CEP answers "EvalScript error." when the script itself threw. */
export function readHostReply<T>(reply: string): T {
  let parsed: HostResult<T> | { ok: false; error: { code: BridgeErrorCode; message: string } };
  try {
    parsed = JSON.parse(reply) as HostResult<T>;
  } catch {
    throw new HostError('bridge_failed', `Premiere did not answer the panel (${reply.slice(0, 120) || 'empty reply'}). Reopen the panel; if it persists, restart Premiere.`);
  }
  if (parsed.ok) return parsed.value;
  throw new HostError(parsed.error.code, parsed.error.message);
}
