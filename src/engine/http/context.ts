// What routes get to work with: the services, never onnxruntime or files directly.
import type { Credentials } from '../auth/credentials.js';
import type { ModelRegistry } from '../matting/registry.js';
import type { BackgroundStore } from '../services/backgrounds.js';
import type { MattingService } from '../services/matting-service.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import type { JobService } from '../services/jobs.js';
import type { PixelBudget } from '../services/pixel-budget.js';

export interface EngineContext {
  readonly version: string;
  /** Date.now() at start, for uptime. */
  readonly startedAt: number;
  /** The bearer secrets the engine accepts (token, panel key). Never embedded in a page. */
  readonly credentials: Credentials;
  /** The port the engine listens on (known once listening). */
  port(): number;
  readonly registry: ModelRegistry;
  readonly matting: MattingService;
  readonly backgrounds: BackgroundStore;
  readonly jobs: JobService;
  /** ffmpeg/ffprobe, located once (rejects when neither is found). */
  readonly mediaTools: () => Promise<MediaTools>;
  /** Largest accepted upload (one file or raw body), bytes. */
  readonly maxUploadBytes: number;
  /** Pixels of still images admitted at once (decode happens only after admission). */
  readonly stillBudget: PixelBudget;
  readonly log: (line: string) => void;
}
