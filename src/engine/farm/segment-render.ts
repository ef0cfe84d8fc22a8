// A worker renders one segment: map the engine's paths to this machine's, check it can see and
// write them, then run the same clip pipeline as a local job (runClipJob) on the segment's
// frames, warm-up frames included but not written.
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import { formatRational } from '../media/frame-range.js';
import { decodeImage } from '../media/image.js';
import { probeMedia } from '../media/probe.js';
import { runClipJob, type ClipPlan } from '../services/clip-job.js';
import type { MattingService } from '../services/matting-service.js';
import { mapPath, type PathRule } from './path-map.js';
import { FarmError, type SegmentResult, type SegmentTask } from './task.js';

export interface RenderContext {
  readonly worker: string;
  readonly tools: MediaTools;
  readonly matting: Pick<MattingService, 'run'>;
  readonly pathMap: readonly PathRule[];
}

/** Fails with `path_not_visible` naming both paths when this machine cannot reach a file. */
async function visible(ctx: RenderContext, enginePath: string, mode: number, what: string): Promise<string> {
  const local = mapPath(enginePath, ctx.pathMap);
  try {
    await access(local, mode);
  } catch (err) {
    const how = local === enginePath ? 'no path mapping applied' : `mapped from ${enginePath}`;
    throw new FarmError(
      'path_not_visible',
      `worker "${ctx.worker}" cannot ${mode === constants.W_OK ? 'write' : 'read'} the ${what} ${local} (${how}; ${(err as NodeJS.ErrnoException).code ?? 'error'}): mount the shared storage there or set CLEANPLATE_PATH_MAP`,
    );
  }
  return local;
}

export async function renderSegment(ctx: RenderContext, task: SegmentTask, signal: AbortSignal, onFrame: (done: number) => void): Promise<SegmentResult> {
  const started = performance.now();
  const mediaPath = await visible(ctx, task.mediaPath, constants.R_OK, 'media');
  const dir = await visible(ctx, task.dir, constants.W_OK, 'farm folder');
  const platePath = task.platePath ? await visible(ctx, task.platePath, constants.R_OK, 'plate') : undefined;
  const info = await probeMedia(ctx.tools, mediaPath);
  const rate = formatRational(info.frameRate);
  if (info.width !== task.expect.width || info.height !== task.expect.height || rate !== task.expect.frameRate) {
    throw new FarmError(
      'media_mismatch',
      `worker "${ctx.worker}" sees ${mediaPath} as ${info.width}x${info.height} at ${rate} fps, the engine as ${task.expect.width}x${task.expect.height} at ${task.expect.frameRate}: the path mapping points at another file`,
    );
  }
  const plate = platePath ? await decodeImage(await readFile(platePath), `plate ${platePath}`) : undefined;
  const plan: ClipPlan = {
    info,
    span: { first: task.first, count: task.count },
    warmUpFrames: task.warmUp,
    modelId: task.modelId,
    plate,
    outputs: task.outputs,
    outputDir: dir,
    stem: path.join(dir, `seg-${String(task.index).padStart(5, '0')}`),
    composite: undefined,
    align: task.align,
  };
  const result = await runClipJob(ctx.tools, ctx.matting, plan, { signal, onFrame });
  return {
    worker: ctx.worker,
    // Names inside the farm folder: the engine joins them with its own path of that folder.
    outputs: result.outputs.map((o) => ({ kind: o.kind as SegmentTask['outputs'][number], name: path.basename(o.path) })),
    frames: task.count,
    ms: performance.now() - started,
  };
}
