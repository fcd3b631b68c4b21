// What both compactors share: a timer loop that does nothing while paused or after stop(), and one
// compaction attempt logged as etcd logs it ("starting/completed/failed auto <mode> compaction").

import { alreadyCompacted, type Compactor, type CompactorHost } from "./types.js";

export abstract class TimedCompactor implements Compactor {
  protected paused = true;
  private stopped = false;
  private cancel: (() => void) | undefined;

  constructor(
    protected readonly host: CompactorHost,
    private readonly mode: "periodic" | "revision",
    /** The retention as etcd's log lines name it. */
    private readonly retentionField: object,
  ) {}

  abstract run(): void;

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

  /** Runs `step` after `ms` unless stopped; `step` reschedules itself. */
  protected schedule(ms: number, step: () => Promise<void>): void {
    if (this.stopped) return;
    this.cancel = this.host.timers.after(ms, () => {
      if (!this.stopped) void step();
    });
  }

  /** One compaction at `rev`; true when done (or already done), false when it failed. */
  protected async compactOnce(rev: number, retryMs: number): Promise<boolean> {
    const h = this.host;
    const fields = { revision: rev, ...this.retentionField };
    h.info(fields, `starting auto ${this.mode} compaction`);
    const start = h.timers.now();
    try {
      await h.compact(rev);
    } catch (err) {
      if (!alreadyCompacted(err)) {
        const error = String((err as Error)?.message ?? err);
        h.warn({ ...fields, "retry-interval": `${retryMs}ms`, error }, `failed auto ${this.mode} compaction`);
        return false;
      }
    }
    h.info(
      { ...fields, took: `${Math.round(h.timers.now() - start)}ms` },
      `completed auto ${this.mode} compaction`,
    );
    return true;
  }
}
