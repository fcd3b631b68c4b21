// The leader's view of one follower's log.
//
// States:
// - StateProbe: the leader does not know the follower's last index. It sends at most one MsgApp per
//   heartbeat interval (msgAppFlowPaused) and waits for the answer to learn where logs diverge.
// - StateReplicate: the follower is known to match up to `match`; entries are streamed optimistically
//   (next advanced on send), bounded by the inflights window.
// - StateSnapshot: a snapshot at `pendingSnapshot` was sent; nothing else is sent until it is reported
//   applied or failed.
//
// Invariants: 0 <= match < next. In StateReplicate, next - 1 is the last index sent. In StateSnapshot,
// pendingSnapshot > 0.

import { Inflights } from "./inflights.js";

export enum ProgressState {
  StateProbe = 0,
  StateReplicate = 1,
  StateSnapshot = 2,
}

export class Progress {
  match = 0;
  next: number;
  state = ProgressState.StateProbe;
  /** In StateSnapshot: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (reset by check-quorum). */
  recentActive = false;
  /** In StateProbe: a MsgApp was sent and no answer or heartbeat came since. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // Coming back from a snapshot, the follower has at least the snapshot's index.
    if (this.state === ProgressState.StateSnapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.StateProbe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.StateProbe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.StateReplicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.StateSnapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Records that entries (lastIndex, lastIndex+n] were sent with `bytes` bytes. In StateReplicate the
   * window grows; in StateProbe the flow pauses until an answer.
   */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === ProgressState.StateReplicate) {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.StateProbe) {
      this.msgAppFlowPaused = true;
    } else {
      throw new Error(`sending append in unhandled state ${ProgressState[this.state]}`);
    }
  }

  /**
   * Applies an acknowledgement up to n. Returns false, changing nothing, if it is stale (n <= match).
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * Handles a rejection of the MsgApp at `rejected`, with the follower's hint `matchHint` of where its
   * log may match. Returns false if the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.StateReplicate) {
      // In replicate state rejections of anything at or below match are stale.
      if (rejected <= this.match) return false;
      // The follower accepted up to match: restart right after it.
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the rejection of the last probe (next - 1) matters.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Whether the leader must hold back MsgApp to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.StateProbe:
        return this.msgAppFlowPaused;
      case ProgressState.StateReplicate:
        return this.msgAppFlowPaused;
      case ProgressState.StateSnapshot:
        return true;
    }
  }

  toString(): string {
    let s = `${ProgressState[this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += " learner";
    if (this.isPaused()) s += " paused";
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += " inactive";
    const n = this.inflights.count();
    if (n > 0) s += ` inflight=${n}${this.inflights.full() ? "[full]" : ""}`;
    return s;
  }
}
