// Clip jobs: POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/:id, DELETE /v1/jobs/:id (cancel),
// POST /v1/jobs/:id/rerun, and GET /v1/jobs/:id/events (server-sent events: a snapshot,
// then progress and state changes, ending after done / failed / cancelled / interrupted).
import { Router } from 'express';
import { isTerminalJobState, JobRequestSchema, parseWire, type JobEvent, type JobRecord } from '../../../shared/api.js';
import type { EngineContext } from '../context.js';

const HEARTBEAT_MS = 15_000;

function terminalEvent(job: JobRecord): JobEvent | undefined {
  switch (job.state) {
    case 'done':
      return { type: 'done', job };
    case 'failed':
      return { type: 'failed', job, error: job.error ?? { code: 'internal', message: 'failed' } };
    case 'cancelled':
      return { type: 'cancelled', job };
    case 'interrupted':
      return { type: 'interrupted', job };
    default:
      return undefined;
  }
}

export function jobRoutes(ctx: EngineContext): Router {
  const router = Router();

  router.post('/jobs', async (req, res) => {
    const job = await ctx.jobs.create(parseWire(JobRequestSchema, req.body));
    res.status(201).json(job);
  });

  router.get('/jobs', (_req, res) => {
    res.json(ctx.jobs.list());
  });

  router.get('/jobs/:id', (req, res) => {
    res.json(ctx.jobs.get(req.params.id));
  });

  router.delete('/jobs/:id', async (req, res) => {
    res.json(await ctx.jobs.cancel(req.params.id));
  });

  router.post('/jobs/:id/rerun', async (req, res) => {
    res.status(201).json(await ctx.jobs.rerun(req.params.id));
  });

  router.get('/jobs/:id/events', (req, res) => {
    const snapshot = ctx.jobs.get(req.params.id); // 404 before any stream starts
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    const send = (event: JobEvent): void => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    send({ type: 'snapshot', job: snapshot });
    const finished = terminalEvent(snapshot);
    if (finished) {
      send(finished);
      res.end();
      return;
    }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const stop = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
    };
    const unsubscribe = ctx.jobs.subscribe(snapshot.id, (event) => {
      send(event);
      if (isTerminalJobState(event.type)) {
        stop();
        res.end();
      }
    });
    req.on('close', stop);
  });

  return router;
}
