// Lease checkpoints: the primary lessor periodically reports each long lease's remaining TTL, the server
// proposes the report through raft (etcd's LeaseCheckpointRequest), and every member applies it
// (Lessor.applyCheckpoint), persisting it. A member that becomes primary later starts each lease's clock
// from its checkpointed remaining TTL instead of the full TTL, so leader changes do not extend leases
// indefinitely.

import type { Lease } from "./lease.js";
import { LeaseQueue } from "./lease_queue.js";

/** One lease's remaining TTL, as proposed and applied. remainingTtl 0 clears it (full TTL again). */
export interface LeaseCheckpoint {
  id: bigint;
  /** Seconds, rounded up. */
  remainingTtl: number;
}

/**
 * Proposes checkpoints through consensus (the server's LeaseCheckpoint proposal). Resolving means the
 * proposal was applied; rejecting, that it was not (renew then fails with the error).
 */
export type Checkpointer = (checkpoints: LeaseCheckpoint[]) => void | Promise<void>;

/** etcd's default --experimental-lease-checkpoint-interval. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;

/** Most checkpoints in one proposal (etcd's maxLeaseCheckpointBatchSize). */
export const MAX_CHECKPOINT_BATCH = 1000;

/** Seconds left before `l` expires as of `now`, rounded up (Infinity if it never expires here). */
export function remainingSeconds(l: Lease, now: number): number {
  return Math.ceil((l.expiry - now) / 1000);
}

/** When the primary checkpoints which lease. */
export class CheckpointSchedule {
  private readonly queue = new LeaseQueue();

  constructor(readonly intervalMs: number) {}

  get size(): number {
    return this.queue.size;
  }

  /**
   * Schedules `l` for a checkpoint one interval from `now` if its clock runs longer than an interval
   * (shorter leases are not worth a raft entry, as in etcd).
   */
  schedule(l: Lease, now: number): void {
    if (l.startTtl() > Math.trunc(this.intervalMs / 1000)) this.queue.upsert(l.id, now + this.intervalMs);
  }

  unschedule(id: bigint): void {
    this.queue.remove(id);
  }

  clear(): void {
    this.queue.clear();
  }

  /** When the lease is next due (clock ms), if scheduled. */
  dueAt(id: bigint): number | undefined {
    return this.queue.timeOf(id);
  }

  /**
   * Removes the checkpoints due by `now` (at most `limit`) and returns the remaining TTLs to report.
   * Leases gone, expired, or with their full TTL still left are skipped.
   */
  due(now: number, leases: ReadonlyMap<bigint, Lease>, limit: number): LeaseCheckpoint[] {
    const out: LeaseCheckpoint[] = [];
    while (out.length < limit) {
      const top = this.queue.peek();
      if (top === undefined || top.time > now) break;
      this.queue.pop();
      const l = leases.get(top.id);
      if (l === undefined || l.expired(now)) continue;
      const remainingTtl = remainingSeconds(l, now);
      if (remainingTtl >= l.ttl) continue;
      out.push({ id: l.id, remainingTtl });
    }
    return out;
  }
}
