// How fast a model runs here at a frame size: the median of a few timed runs on a synthetic frame
// (with a plate for models that need one), after an untimed run that compiles or warms up.
// Measured once per model and size for the engine's lifetime: the machine does not change.
import type { ModelSpeed } from '../../shared/api.js';
import type { Frame } from '../frame.js';
import type { MattingService } from './matting-service.js';

const TIMED_RUNS = 3;

/** A textured frame (gradient + hash noise) and, with `subject`, a square over it. */
function syntheticFrame(width: number, height: number, subject: boolean): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const noise = ((x * 73856093) ^ (y * 19349663)) & 31;
      const inside = subject && Math.abs(x - width / 2) < width / 6 && Math.abs(y - height / 2) < height / 4;
      data[i] = inside ? 220 : (x * 255) / width / 2 + noise;
      data[i + 1] = inside ? 60 : (y * 255) / height / 2 + noise;
      data[i + 2] = inside ? 150 : 90 + noise;
    }
  }
  return { data, width, height, channels: 3 };
}

export class ModelSpeedMeter {
  private readonly measured = new Map<string, Promise<ModelSpeed>>();

  constructor(private readonly matting: MattingService) {}

  measure(model: string, width: number, height: number): Promise<ModelSpeed> {
    const key = `${model} ${width}x${height}`;
    let speed = this.measured.get(key);
    if (!speed) {
      speed = this.run(model, width, height);
      this.measured.set(key, speed);
      speed.catch(() => this.measured.delete(key)); // a failed measure (model missing) is retried later
    }
    return speed;
  }

  private async run(model: string, width: number, height: number): Promise<ModelSpeed> {
    const session = await this.matting.session(model);
    const frame = syntheticFrame(width, height, true);
    const plate = session.needsPlate ? syntheticFrame(width, height, false) : undefined;
    await this.matting.run(model, frame, plate, { foreground: true });
    const times: number[] = [];
    for (let i = 0; i < TIMED_RUNS; i++) times.push((await this.matting.run(model, frame, plate, { foreground: true })).ms);
    times.sort((a, b) => a - b);
    return { model, width, height, msPerFrame: Math.round(times[Math.floor(times.length / 2)]! * 10) / 10, runs: TIMED_RUNS };
  }
}
