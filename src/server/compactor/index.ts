// Automatic compaction of the key space's history (--auto-compaction-mode / --auto-compaction-retention).
// Only the leader proposes compactions; the server pauses the compactor on every other member.

import { PeriodicCompactor } from "./periodic.js";
import type { CompactionPolicy } from "./retention.js";
import { RevisionCompactor } from "./revision.js";
import type { Compactor, CompactorHost } from "./types.js";

export { type CompactionPolicy, CompactionRetentionError, compactionPolicy } from "./retention.js";
export type { Compactor, CompactorHost } from "./types.js";
export { PeriodicCompactor, RevisionCompactor };

/** The compactor for a policy; undefined when automatic compaction is off. */
export function newCompactor(policy: CompactionPolicy, host: CompactorHost): Compactor | undefined {
  switch (policy.mode) {
    case "off":
      return undefined;
    case "periodic":
      return new PeriodicCompactor(policy.periodMs, host);
    case "revision":
      return new RevisionCompactor(policy.retain, host);
  }
}
