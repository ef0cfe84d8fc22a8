// The worker's side of ./client.ts: answers each request with its handler's result, or with the
// error it threw (name, message, code), and moves the buffers the handler lists to the engine.
import { parentPort } from 'node:worker_threads';
import { collectGarbage } from './gc.js';

export interface WorkerRequest {
  readonly id: number;
  readonly op: string;
  readonly payload: unknown;
}

/** The request that ends the worker with the exit code in its payload (see WorkerClient.stop). */
export const EXIT_OP = 'exit';

export interface WorkerAnswer {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
}

/** What a handler returns: the result and the buffers in it to transfer rather than copy. */
export interface HandlerResult {
  readonly result: unknown;
  readonly transfer?: readonly ArrayBuffer[];
}

export type Handler = (payload: never) => Promise<HandlerResult> | HandlerResult;

/**
 * After a request that brought at least this many bytes of buffers, the worker collects garbage
 * once it has had nothing in flight for COLLECT_IDLE_MS: an idle worker's isolate does not collect
 * by itself, and the align worker held an 8192x8192 still's two frame copies (384 MiB) until it
 * stopped. The short wait lets the request that frees them (an aligner's dispose) arrive first.
 */
const COLLECT_AFTER_BYTES = 16 << 20;
const COLLECT_IDLE_MS = 100;

/** Bytes of typed arrays in a request's payload (frames and tensors sit a few levels down). */
function bufferBytes(value: unknown, depth = 0): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value !== 'object' || value === null || depth > 4) return 0;
  let sum = 0;
  for (const v of Object.values(value)) sum += bufferBytes(v, depth + 1);
  return sum;
}

export function serve(handlers: Record<string, Handler>): void {
  const port = parentPort;
  if (!port) throw new Error('serve() runs inside a worker thread');
  let inFlight = 0;
  let owed = false;
  let collectTimer: NodeJS.Timeout | undefined;
  // Made here, not per request: a closure made inside the handler would keep its request (and
  // the buffers it brought) alive.
  const collect = (): void => {
    collectTimer = undefined;
    owed = false;
    collectGarbage?.();
  };
  port.on('message', (request: WorkerRequest) => {
    // Ending from inside, between tasks: terminate() from outside while onnxruntime is in a
    // native run aborts the whole process (its binding throws a C++ exception nobody catches).
    if (request.op === EXIT_OP) process.exit(request.payload as number);
    if (bufferBytes(request.payload) >= COLLECT_AFTER_BYTES) owed = true;
    clearTimeout(collectTimer);
    inFlight++;
    void (async () => {
      let answer: WorkerAnswer;
      let transfer: readonly ArrayBuffer[] = [];
      try {
        const handler = handlers[request.op];
        if (!handler) throw new Error(`unknown worker request "${request.op}"`);
        const out = await handler(request.payload as never);
        answer = { id: request.id, result: out.result };
        transfer = out.transfer ?? [];
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        const code = (e as { code?: unknown }).code;
        answer = { id: request.id, error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) } };
      }
      port.postMessage(answer, [...transfer]);
      if (--inFlight === 0 && owed && collectGarbage) collectTimer = setTimeout(collect, COLLECT_IDLE_MS);
    })();
  });
}
