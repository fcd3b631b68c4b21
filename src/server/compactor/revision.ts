// Revision compaction (--auto-compaction-mode=revision): every 5 minutes, compact at the current revision
// minus `retain`, unless that is not positive or was the last revision compacted.

import { alreadyCompacted, type Compactor, type CompactorHost } from "./types.js";

export const REVISION_COMPACT_INTERVAL_MS = 5 * 60_000;

export class RevisionCompactor implements Compactor {
  private paused = true;
  private stopped = false;
  private cancel: (() => void) | undefined;
  private prev = 0;

  constructor(
    private readonly retain: number,
    private readonly host: CompactorHost,
    private readonly intervalMs = REVISION_COMPACT_INTERVAL_MS,
  ) {}

  run(): void {
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

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.host.timers.after(this.intervalMs, () => void this.step());
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    const rev = this.host.rev() - this.retain;
    if (!this.paused && rev > 0 && rev !== this.prev) await this.compactOnce(rev);
    this.schedule();
  }

  private async compactOnce(rev: number): Promise<void> {
    const h = this.host;
    const fields = { revision: rev, "revision-compaction-retention": this.retain };
    h.info(fields, "starting auto revision compaction");
    const start = h.timers.now();
    try {
      await h.compact(rev);
    } catch (err) {
      if (!alreadyCompacted(err)) {
        h.warn(
          {
            ...fields,
            "retry-interval": `${this.intervalMs}ms`,
            error: String((err as Error)?.message ?? err),
          },
          "failed auto revision compaction",
        );
        return;
      }
    }
    this.prev = rev;
    h.info(
      { ...fields, took: `${Math.round(h.timers.now() - start)}ms` },
      "completed auto revision compaction",
    );
  }
}
