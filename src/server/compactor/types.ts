// What a compactor needs from its member.

import type { Timers } from "../timers.js";

export interface CompactorHost {
  /** The member's current revision. */
  rev(): number;
  /** Proposes a compaction at `rev` through Raft and waits until it is applied. */
  compact(rev: number): Promise<void>;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  timers: Timers;
}

/** Runs in the background; compacts only while resumed (the member leads). */
export interface Compactor {
  /** Starts paused. */
  run(): void;
  stop(): void;
  pause(): void;
  resume(): void;
}

/** A compaction at or below the compacted revision did nothing, which is what was wanted. */
export function alreadyCompacted(err: unknown): boolean {
  return String((err as Error)?.message ?? err).includes("required revision has been compacted");
}
