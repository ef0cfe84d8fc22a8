// A full garbage collection on the calling thread (the engine's or a worker's), for after large
// frames: their buffers are external memory, and an isolate that goes idle holds them until V8
// happens to collect (its memory reducer, about 8 s later), or for good in an idle worker.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Undefined where the runtime refuses to expose gc. */
export const collectGarbage: (() => void) | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();
