import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Progress, ProgressState } from "../../src/raft/progress.js";

const { StateProbe, StateReplicate, StateSnapshot } = ProgressState;

/** A progress with the given match and next, in StateProbe unless `replicate` is set. */
function progress(opts: {
  match?: number;
  next: number;
  replicate?: boolean;
  maxInflight?: number;
}): Progress {
  const pr = new Progress(opts.next, opts.maxInflight ?? 256, 0, false);
  pr.match = opts.match ?? 0;
  if (opts.replicate) {
    pr.becomeReplicate();
    pr.next = opts.next;
  }
  return pr;
}

describe("Progress construction", () => {
  test("starts probing from next with nothing matched", () => {
    const pr = new Progress(5, 16, 1024, true);
    assert.equal(pr.match, 0);
    assert.equal(pr.next, 5);
    assert.equal(pr.state, StateProbe);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.recentActive, false);
    assert.equal(pr.msgAppFlowPaused, false);
    assert.equal(pr.isLearner, true);
    assert.equal(pr.inflights.maxCount, 16);
    assert.equal(pr.inflights.maxBytes, 1024);
    assert.equal(pr.inflights.count(), 0);
    assert.equal(pr.isPaused(), false);
  });
});

describe("Progress state transitions", () => {
  test("becomeReplicate restarts right after match and clears the pause", () => {
    const pr = progress({ match: 3, next: 10 });
    pr.msgAppFlowPaused = true;
    pr.becomeReplicate();
    assert.equal(pr.state, StateReplicate);
    assert.equal(pr.match, 3);
    assert.equal(pr.next, 4);
    assert.equal(pr.msgAppFlowPaused, false);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.inflights.count(), 0);
  });

  test("becomeProbe from replicate restarts after match and drops the inflights", () => {
    const pr = progress({ match: 3, next: 4, replicate: true, maxInflight: 2 });
    pr.sentEntries(2, 20);
    pr.sentEntries(3, 30);
    assert.equal(pr.next, 9);
    assert.equal(pr.inflights.count(), 2);
    assert.equal(pr.msgAppFlowPaused, true);
    pr.becomeProbe();
    assert.equal(pr.state, StateProbe);
    assert.equal(pr.match, 3);
    assert.equal(pr.next, 4);
    assert.equal(pr.msgAppFlowPaused, false);
    assert.equal(pr.inflights.count(), 0);
  });

  test("becomeProbe from probe resets next to match + 1", () => {
    const pr = progress({ match: 6, next: 12 });
    pr.msgAppFlowPaused = true;
    pr.becomeProbe();
    assert.equal(pr.state, StateProbe);
    assert.equal(pr.next, 7);
    assert.equal(pr.msgAppFlowPaused, false);
  });

  test("becomeSnapshot records the pending snapshot and pauses", () => {
    const pr = progress({ match: 3, next: 4, replicate: true });
    pr.sentEntries(1, 10);
    pr.becomeSnapshot(20);
    assert.equal(pr.state, StateSnapshot);
    assert.equal(pr.pendingSnapshot, 20);
    assert.equal(pr.match, 3);
    assert.equal(pr.msgAppFlowPaused, false);
    assert.equal(pr.inflights.count(), 0);
    assert.equal(pr.isPaused(), true);
  });

  test("becomeProbe after a snapshot resumes after the snapshot when match is behind it", () => {
    const pr = progress({ match: 5, next: 6 });
    pr.becomeSnapshot(20);
    pr.becomeProbe();
    assert.equal(pr.state, StateProbe);
    assert.equal(pr.next, 21);
    assert.equal(pr.match, 5);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.isPaused(), false);
  });

  test("becomeProbe after a snapshot resumes after match when match passed the snapshot", () => {
    const pr = progress({ match: 5, next: 6 });
    pr.becomeSnapshot(20);
    assert.equal(pr.maybeUpdate(25), true);
    pr.becomeProbe();
    assert.equal(pr.next, 26);
    assert.equal(pr.match, 25);
    assert.equal(pr.pendingSnapshot, 0);
  });

  test("becomeProbe after a snapshot at exactly match", () => {
    const pr = progress({ match: 20, next: 21 });
    pr.becomeSnapshot(20);
    pr.becomeProbe();
    assert.equal(pr.next, 21);
  });

  test("becomeReplicate after a snapshot clears the pending snapshot", () => {
    const pr = progress({ match: 5, next: 6 });
    pr.becomeSnapshot(20);
    pr.maybeUpdate(20);
    pr.becomeReplicate();
    assert.equal(pr.state, StateReplicate);
    assert.equal(pr.pendingSnapshot, 0);
    assert.equal(pr.next, 21);
    assert.equal(pr.isPaused(), false);
  });
});

describe("Progress.maybeUpdate", () => {
  test("moves match forward and keeps next > match", () => {
    const pr = progress({ match: 2, next: 5 });
    assert.equal(pr.maybeUpdate(4), true);
    assert.equal(pr.match, 4);
    assert.equal(pr.next, 5, "next is not moved back");
    assert.equal(pr.maybeUpdate(7), true);
    assert.equal(pr.match, 7);
    assert.equal(pr.next, 8);
  });

  test("stale or duplicate acknowledgements change nothing", () => {
    const pr = progress({ match: 7, next: 12 });
    assert.equal(pr.maybeUpdate(7), false);
    assert.equal(pr.maybeUpdate(3), false);
    assert.equal(pr.maybeUpdate(0), false);
    assert.equal(pr.match, 7);
    assert.equal(pr.next, 12);
  });

  test("an update lifts the probe pause; a stale one does not", () => {
    const pr = progress({ match: 2, next: 3 });
    pr.sentEntries(1, 10);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.maybeUpdate(2), false);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.maybeUpdate(3), true);
    assert.equal(pr.isPaused(), false);
    assert.equal(pr.next, 4);
  });

  test("in replicate, next stays ahead of optimistic sends", () => {
    const pr = progress({ match: 3, next: 4, replicate: true });
    pr.sentEntries(5, 50);
    assert.equal(pr.next, 9);
    assert.equal(pr.maybeUpdate(6), true);
    assert.equal(pr.match, 6);
    assert.equal(pr.next, 9);
  });
});

describe("Progress.maybeDecrTo", () => {
  test("replicate: rejections at or below match are stale", () => {
    const pr = progress({ match: 5, next: 10, replicate: true });
    assert.equal(pr.maybeDecrTo(5, 5), false);
    assert.equal(pr.maybeDecrTo(4, 0), false);
    assert.equal(pr.maybeDecrTo(0, 0), false);
    assert.equal(pr.next, 10);
    assert.equal(pr.match, 5);
  });

  test("replicate: a real rejection restarts right after match, ignoring the hint", () => {
    const pr = progress({ match: 5, next: 10, replicate: true });
    assert.equal(pr.maybeDecrTo(9, 2), true);
    assert.equal(pr.next, 6);
    const pr2 = progress({ match: 5, next: 10, replicate: true });
    assert.equal(pr2.maybeDecrTo(7, 8), true);
    assert.equal(pr2.next, 6);
    assert.equal(pr2.match, 5);
  });

  test("probe: only the rejection of next - 1 counts", () => {
    const pr = progress({ next: 10 });
    pr.sentEntries(1, 0);
    assert.equal(pr.maybeDecrTo(8, 8), false);
    assert.equal(pr.maybeDecrTo(10, 3), false);
    assert.equal(pr.next, 10);
    assert.equal(pr.isPaused(), true, "a stale rejection does not unpause");
    assert.equal(pr.maybeDecrTo(9, 5), true);
    assert.equal(pr.next, 6);
    assert.equal(pr.isPaused(), false);
  });

  test("probe: next becomes min(rejected, hint + 1)", () => {
    const pr = progress({ next: 10 });
    assert.equal(pr.maybeDecrTo(9, 100), true);
    assert.equal(pr.next, 9, "a hint past the rejection does not move next forward");
    assert.equal(pr.maybeDecrTo(8, 2), true);
    assert.equal(pr.next, 3);
  });

  test("probe: next never drops to match or below", () => {
    const pr = progress({ match: 3, next: 5 });
    assert.equal(pr.maybeDecrTo(4, 0), true);
    assert.equal(pr.next, 4);
    const pr2 = progress({ next: 1 });
    assert.equal(pr2.maybeDecrTo(0, 0), true);
    assert.equal(pr2.next, 1);
  });
});

describe("Progress.isPaused and sentEntries", () => {
  test("probe: any send pauses until an answer", () => {
    const pr = progress({ next: 4 });
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(3, 30);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.next, 4, "probe sends do not advance next");
    assert.equal(pr.inflights.count(), 0);
    pr.msgAppFlowPaused = false;
    pr.sentEntries(0, 0);
    assert.equal(pr.isPaused(), true);
  });

  test("replicate: paused exactly when the inflights window is full", () => {
    const pr = progress({ match: 0, next: 1, replicate: true, maxInflight: 2 });
    pr.sentEntries(3, 30);
    assert.equal(pr.next, 4);
    assert.equal(pr.inflights.count(), 1);
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(2, 20);
    assert.equal(pr.next, 6);
    assert.equal(pr.inflights.count(), 2);
    assert.equal(pr.isPaused(), true);
    // An empty send (e.g. a commit-only MsgApp) re-evaluates the window without adding to it.
    pr.sentEntries(0, 0);
    assert.equal(pr.inflights.count(), 2);
    assert.equal(pr.isPaused(), true);
    // The acknowledgement path: maybeUpdate + freeLE.
    assert.equal(pr.maybeUpdate(3), true);
    pr.inflights.freeLE(3);
    assert.equal(pr.inflights.count(), 1);
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(0, 0);
    assert.equal(pr.isPaused(), false);
  });

  test("replicate: the byte limit pauses too", () => {
    const pr = new Progress(1, 100, 50, false);
    pr.becomeReplicate();
    pr.sentEntries(1, 49);
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(1, 1);
    assert.equal(pr.isPaused(), true);
  });

  test("snapshot: always paused, and sending entries is a bug", () => {
    const pr = progress({ next: 4 });
    pr.becomeSnapshot(10);
    assert.equal(pr.isPaused(), true);
    pr.msgAppFlowPaused = false;
    assert.equal(pr.isPaused(), true);
    assert.throws(() => pr.sentEntries(1, 1), { message: "sending append in unhandled state StateSnapshot" });
  });
});

describe("Progress.toString", () => {
  test("describes state, flags and window", () => {
    const pr = progress({ match: 3, next: 4, replicate: true, maxInflight: 1 });
    assert.equal(pr.toString(), "StateReplicate match=3 next=4 inactive");
    pr.recentActive = true;
    pr.sentEntries(1, 0);
    assert.equal(pr.toString(), "StateReplicate match=3 next=5 paused inflight=1[full]");
    pr.isLearner = true;
    pr.becomeSnapshot(9);
    assert.equal(pr.toString(), "StateSnapshot match=3 next=5 learner paused pendingSnap=9");
  });
});
