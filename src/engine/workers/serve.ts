// The worker's side of ./client.ts: answers each request with its handler's result, or with the
// error it threw (name, message, code), and moves the buffers the handler lists to the engine.
import { parentPort } from 'node:worker_threads';

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

export function serve(handlers: Record<string, Handler>): void {
  const port = parentPort;
  if (!port) throw new Error('serve() runs inside a worker thread');
  port.on('message', (request: WorkerRequest) => {
    // Ending from inside, between tasks: terminate() from outside while onnxruntime is in a
    // native run aborts the whole process (its binding throws a C++ exception nobody catches).
    if (request.op === EXIT_OP) process.exit(request.payload as number);
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
    })();
  });
}
