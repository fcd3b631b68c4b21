// Revision compaction (--auto-compaction-mode=revision): every 5 minutes, compact at the current revision
// minus `retain`, unless that is not positive or was the last revision compacted.

import { TimedCompactor } from "./timed.js";
import type { CompactorHost } from "./types.js";

export const REVISION_COMPACT_INTERVAL_MS = 5 * 60_000;

export class RevisionCompactor extends TimedCompactor {
  private prev = 0;

  constructor(
    private readonly retain: number,
    host: CompactorHost,
    private readonly intervalMs = REVISION_COMPACT_INTERVAL_MS,
  ) {
    super(host, "revision", { "revision-compaction-retention": retain });
  }

  run(): void {
    this.schedule(this.intervalMs, () => this.step());
  }

  private async step(): Promise<void> {
    const rev = this.host.rev() - this.retain;
    if (!this.paused && rev > 0 && rev !== this.prev && (await this.compactOnce(rev, this.intervalMs))) {
      this.prev = rev;
    }
    this.schedule(this.intervalMs, () => this.step());
  }
}
