// Rolling duration samples of a live session (latency, per-hop times) summarised as median / p95:
// the last N frames only, so a session's figures follow what it does now, in bounded memory.
import { LIVE_HOPS, type LatencySummary, type LiveHop, type LiveHops } from '../../shared/api.js';

export class SampleWindow {
  private readonly samples: number[] = [];
  constructor(private readonly size = 300) {}
  get count(): number {
    return this.samples.length;
  }
  add(v: number): void {
    this.samples.push(v);
    if (this.samples.length > this.size) this.samples.shift();
  }
  summary(): LatencySummary {
    if (this.samples.length === 0) return { median: null, p95: null };
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
    return { median: at(0.5), p95: at(0.95) };
  }
}

/** One SampleWindow per hop, created on the first sample (an unmeasured hop stays absent). */
export class HopTimes {
  private readonly hops = new Map<LiveHop, SampleWindow>();
  add(hop: LiveHop, ms: number): void {
    let w = this.hops.get(hop);
    if (!w) this.hops.set(hop, (w = new SampleWindow()));
    w.add(ms);
  }
  /** The hop's median so far, 0 before its first sample. */
  median(hop: LiveHop): number {
    return this.hops.get(hop)?.summary().median ?? 0;
  }

  /** The measured hops in path order; `extra` adds hops measured elsewhere (the stream's mux). */
  summary(extra: Partial<Record<LiveHop, SampleWindow>> = {}): LiveHops {
    const windows = LIVE_HOPS.map((hop) => [hop, extra[hop] ?? this.hops.get(hop)] as const);
    return Object.fromEntries(windows.filter(([, w]) => w !== undefined && w.count > 0).map(([hop, w]) => [hop, w!.summary()]));
  }
}
