// "Available" must mean "opens": a learned model's file is opened once on CPU (contract check and
// an onnxruntime session) before the registry calls it available or picks it as the default. The
// verdict is kept per file path, size and modification time, so a process checks a file once and
// a rebuilt or replaced file is checked again.
import { statSync } from 'node:fs';
import { loadBgmv2Model } from './bgmv2/session.js';
import { bgmv2Settings } from './bgmv2/presets.js';
import { kindNetwork } from './kinds.js';
import type { ManifestEntry } from './manifest.js';
import { providerOrder } from './providers.js';
import { loadRvmModel } from './rvm/session.js';
import { messageOf } from '../../shared/error-message.js';

const verdicts = new Map<string, Promise<string | undefined>>();

/** Path, size and modification time: what a verdict is kept for. */
export function fileStamp(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${file}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

async function tryOpen(entry: ManifestEntry, file: string, label: string): Promise<string | undefined> {
  const cpu = providerOrder({ CLEANPLATE_PROVIDERS: 'cpu' });
  try {
    const opened = entry.kind === 'bgmv2' ? await loadBgmv2Model(file, label, bgmv2Settings(entry), cpu) : await loadRvmModel(file, label, cpu);
    await opened.session.release();
    return undefined;
  } catch (err) {
    return messageOf(err);
  }
}

/** Why a model file of this kind does not open (undefined: it opens). Kinds without files need no check. */
export function verifyModelFile(entry: ManifestEntry, file: string, label: string): Promise<string | undefined> {
  const { kind } = entry;
  if (kindNetwork(kind) === null) return Promise.resolve(undefined);
  const key = fileStamp(file);
  if (key === undefined) return Promise.resolve(`${label} is missing`);
  // rvm and fused open the same file the same way: one check per network and file.
  const memo = `${kindNetwork(kind)}|${key}`;
  let verdict = verdicts.get(memo);
  if (!verdict) {
    verdict = tryOpen(entry, file, label);
    verdicts.set(memo, verdict);
  }
  return verdict;
}
