// Periodic compaction (--auto-compaction-mode=periodic): keep `period` of history. Every tenth of the
// period (of an hour at most) the current revision is recorded; the oldest record is the revision of one
// period ago. After a first full period, and then every period (every hour at most), the key space is
// compacted at that revision. Records are kept while paused, so a member that becomes leader compacts
// with the window it already saw.

import { alreadyCompacted, type Compactor, type CompactorHost } from "./types.js";

const HOUR_MS = 3_600_000;
const RETRY_DIVISOR = 10;

export class PeriodicCompactor implements Compactor {
  private readonly compactIntervalMs: number;
  private readonly retryIntervalMs: number;
  /** How many records span one period: revs[0] is the revision one period ago. */
  private readonly retentions: number;
  private revs: number[] = [];
  private paused = true;
  private stopped = false;
  private cancel: (() => void) | undefined;
  private lastSuccess = 0;
  private baseIntervalMs: number;

  constructor(
    private readonly periodMs: number,
    private readonly host: CompactorHost,
  ) {
    this.compactIntervalMs = Math.min(periodMs, HOUR_MS);
    this.retryIntervalMs = this.compactIntervalMs / RETRY_DIVISOR;
    this.retentions = Math.floor(periodMs / this.retryIntervalMs) + 1;
    this.baseIntervalMs = periodMs;
  }

  run(): void {
    this.lastSuccess = this.host.timers.now();
    this.record();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  private record(): void {
    this.revs.push(this.host.rev());
    if (this.revs.length > this.retentions) this.revs.shift();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.host.timers.after(this.retryIntervalMs, () => void this.step());
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    if (!this.paused && this.host.timers.now() - this.lastSuccess >= this.baseIntervalMs) {
      // The first compaction waits a whole period; later ones come every compaction interval.
      this.baseIntervalMs = this.compactIntervalMs;
      await this.compactOnce(this.revs[0]!);
    }
    this.record();
    this.schedule();
  }

  private async compactOnce(rev: number): Promise<void> {
    const h = this.host;
    const fields = { revision: rev, "compact-period": `${this.periodMs}ms` };
    h.info(fields, "starting auto periodic compaction");
    const start = h.timers.now();
    try {
      await h.compact(rev);
    } catch (err) {
      if (!alreadyCompacted(err)) {
        h.warn(
          {
            ...fields,
            "retry-interval": `${this.retryIntervalMs}ms`,
            error: String((err as Error)?.message ?? err),
          },
          "failed auto periodic compaction",
        );
        return;
      }
    }
    this.lastSuccess = h.timers.now();
    h.info(
      { ...fields, took: `${Math.round(this.lastSuccess - start)}ms` },
      "completed auto periodic compaction",
    );
  }
}
