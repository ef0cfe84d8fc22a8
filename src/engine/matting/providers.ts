// Execution providers: try the platform's GPU providers in order and fall back to CPU on any
// failure. onnxruntime-node throws when a provider cannot load instead of falling back itself,
// so each candidate gets its own attempt and the one that worked is reported.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { currentThreadBudget, intraOpSpinning, threadOverride } from './thread-policy.js';
import { createWorkerSession, type OrtSession } from './ort-transport.js';
import { messageOf } from '../../shared/error-message.js';

export type ProviderName = 'cuda' | 'tensorrt' | 'dml' | 'coreml' | 'cpu';

/** GPU providers worth trying on this platform, best first; CPU always comes last. */
export function platformProviders(platform: NodeJS.Platform = process.platform): ProviderName[] {
  switch (platform) {
    case 'linux':
      return ['tensorrt', 'cuda', 'cpu'];
    case 'win32':
      return ['dml', 'cpu'];
    case 'darwin':
      return ['coreml', 'cpu'];
    default:
      return ['cpu'];
  }
}

/**
 * Which providers to try: `CLEANPLATE_PROVIDERS` (comma list, e.g. "cpu" or "cuda,cpu") wins,
 * else the platform order. CPU is appended when missing so there is always a fallback.
 */
export function providerOrder(env: NodeJS.ProcessEnv = process.env, platform = process.platform): ProviderName[] {
  const wanted = env.CLEANPLATE_PROVIDERS?.split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean) as ProviderName[] | undefined;
  const order = wanted && wanted.length > 0 ? wanted : platformProviders(platform);
  return order.includes('cpu') ? order : [...order, 'cpu'];
}

export interface OpenedSession {
  /** The session, in the inference worker (ort-transport.ts). */
  readonly session: OrtSession;
  readonly provider: ProviderName;
  /** Why each provider tried before the one in use failed (for /v1/health and logs). */
  readonly fallbacks: { provider: ProviderName; reason: string }[];
}

/**
 * Threads for CPU inference: `CLEANPLATE_THREADS` when set, else the budget the engine chose for
 * the call (thread-policy.ts: cores minus the job's side work), else all cores.
 */
export function cpuThreads(env: NodeJS.ProcessEnv = process.env): number {
  return threadOverride(env) ?? currentThreadBudget() ?? Math.max(1, os.availableParallelism());
}

/**
 * The CUDA and TensorRT providers are separate shared libraries that onnxruntime-node's
 * postinstall downloads (skipped for CPU installs). Without them the attempt can only fail,
 * loudly on stderr, so it is not made.
 */
export function providerMissingReason(provider: ProviderName): string | undefined {
  if (provider !== 'cuda' && provider !== 'tensorrt') return undefined;
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const lib = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch, `libonnxruntime_providers_${provider}.so`);
  return existsSync(lib) ? undefined : `${provider} provider library not installed (${path.basename(lib)}); see README "GPU"`;
}

/**
 * Frames up to this many pixels run with onnxruntime's CPU memory arena (much faster per frame:
 * ~1.8x at 1080p); larger ones without it, because the arena keeps its peak for the life of the
 * session (an 8192x8192 still held ~4.5 GB after it was done).
 */
export const ARENA_MAX_PIXELS = 4096 * 4096;

export interface OrtSessionSettings {
  /** onnxruntime's CPU memory arena (default true): see ARENA_MAX_PIXELS. */
  readonly memoryArena?: boolean;
  /** Options that override the engine's (benchmarks compare onnxruntime's settings with these). */
  readonly override?: ort.InferenceSession.SessionOptions;
}

/**
 * `CLEANPLATE_ORT_PROFILE=<folder>`: every session writes onnxruntime's per-node profile (Chrome
 * trace JSON) there when released (`npm run bench profile` sums it per op).
 */
function profileOptions(env: NodeJS.ProcessEnv = process.env): ort.InferenceSession.SessionOptions {
  const dir = env.CLEANPLATE_ORT_PROFILE;
  return dir ? { enableProfiling: true, profileFilePrefix: path.join(dir, 'ort') } : {};
}

/** Creates an inference session (in the inference worker) on the first provider that loads the model. */
export async function openOrtSession(model: Uint8Array | string, order: ProviderName[] = providerOrder(), settings: OrtSessionSettings = {}): Promise<OpenedSession> {
  const fallbacks: { provider: ProviderName; reason: string }[] = [];
  for (const provider of order) {
    const missing = providerMissingReason(provider);
    if (missing) {
      fallbacks.push({ provider, reason: missing });
      continue;
    }
    const threads = cpuThreads();
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      extra: { session: { intra_op: { allow_spinning: intraOpSpinning(threads) ? '1' : '0' } } },
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableCpuMemArena: settings.memoryArena ?? true,
      // A GPU provider that cannot load is expected on most machines: keep its noise off stderr.
      logSeverityLevel: provider === 'cpu' ? 2 : 4,
      ...profileOptions(),
      ...settings.override,
    };
    try {
      const session = await createWorkerSession(model, options);
      return { session, provider, fallbacks };
    } catch (err) {
      if (provider === 'cpu') throw err; // CPU failing means the model itself is bad.
      fallbacks.push({ provider, reason: messageOf(err) });
    }
  }
  throw new Error(`no execution provider in [${order.join(', ')}] could load the model`);
}
