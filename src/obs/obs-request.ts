// obs-websocket requests that always settle. obs-websocket-js (5.0.x) answers a call through a
// listener that it drops when the socket closes: a request in flight when OBS goes away stays
// pending forever, and so does whatever awaits it (a frame loop's stop, a layer being resumed).
// A request here rejects when its connection closes, and after a timeout if one is given.
import type OBSWebSocket from 'obs-websocket-js';
import type { OBSRequestTypes, OBSResponseTypes } from 'obs-websocket-js';

export class ObsRequestError extends Error {
  constructor(
    /** closed: the connection ended before the answer; timeout: no answer in time. */
    readonly reason: 'closed' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'ObsRequestError';
  }
}

export function settledCall<K extends keyof OBSRequestTypes>(obs: OBSWebSocket, request: K, data?: OBSRequestTypes[K], timeoutMs?: number): Promise<OBSResponseTypes[K]> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onClosed = (): void => finish(() => reject(new ObsRequestError('closed', `the OBS connection closed before ${request} was answered`)));
    const finish = (settle: () => void): void => {
      obs.off('ConnectionClosed', onClosed);
      if (timer) clearTimeout(timer);
      settle();
    };
    obs.once('ConnectionClosed', onClosed);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => finish(() => reject(new ObsRequestError('timeout', `OBS did not answer ${request} within ${timeoutMs / 1000} s`))), timeoutMs);
    }
    obs.call(request, data).then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}
