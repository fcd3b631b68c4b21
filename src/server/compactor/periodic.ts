// Periodic compaction (--auto-compaction-mode=periodic): keep `period` of history. Every tenth of the
// period (of an hour at most) the current revision is recorded; the oldest record is the revision of one
// period ago. After a first full period, and then every period (every hour at most), the key space is
// compacted at that revision. Records are kept while paused, so a member that becomes leader compacts
// with the window it already saw.

import { TimedCompactor } from "./timed.js";
import type { CompactorHost } from "./types.js";

const HOUR_MS = 3_600_000;
const RETRY_DIVISOR = 10;

export class PeriodicCompactor extends TimedCompactor {
  private readonly compactIntervalMs: number;
  private readonly retryIntervalMs: number;
  /** How many records span one period: revs[0] is the revision one period ago. */
  private readonly retentions: number;
  private revs: number[] = [];
  private lastSuccess = 0;
  private baseIntervalMs: number;

  constructor(periodMs: number, host: CompactorHost) {
    super(host, "periodic", { "compact-period": `${periodMs}ms` });
    this.compactIntervalMs = Math.min(periodMs, HOUR_MS);
    this.retryIntervalMs = this.compactIntervalMs / RETRY_DIVISOR;
    this.retentions = Math.floor(periodMs / this.retryIntervalMs) + 1;
    this.baseIntervalMs = periodMs;
  }

  run(): void {
    this.lastSuccess = this.host.timers.now();
    this.record();
    this.schedule(this.retryIntervalMs, () => this.step());
  }

  private record(): void {
    this.revs.push(this.host.rev());
    if (this.revs.length > this.retentions) this.revs.shift();
  }

  private async step(): Promise<void> {
    if (!this.paused && this.host.timers.now() - this.lastSuccess >= this.baseIntervalMs) {
      // The first compaction waits a whole period; later ones come every compaction interval.
      this.baseIntervalMs = this.compactIntervalMs;
      if (await this.compactOnce(this.revs[0]!, this.retryIntervalMs))
        this.lastSuccess = this.host.timers.now();
    }
    this.record();
    this.schedule(this.retryIntervalMs, () => this.step());
  }
}
