import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CompactedError, RaftPanic, UnavailableError } from "../../src/raft/errors.js";
import { RaftLog } from "../../src/raft/log.js";
import { discardLogger } from "../../src/raft/logger.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import { type Entry, EntryType, emptyConfState, type Snapshot } from "../../src/raft/types.js";

const noLimit = Number.MAX_SAFE_INTEGER;

function ent(index: number, term: number, size = 0): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(size) };
}

/** Entries index, index+1, ... with the given terms. */
function run(index: number, ...terms: number[]): Entry[] {
  return terms.map((t, i) => ent(index + i, t));
}

function snap(index: number, term: number): Snapshot {
  return { data: new Uint8Array(0), metadata: { index, term, confState: emptyConfState() } };
}

function newLog(storage = new MemoryStorage(), maxApplyingEntsSize = noLimit): RaftLog {
  return new RaftLog(storage, discardLogger, maxApplyingEntsSize);
}

/** A log with unstable entries (1,1) (2,2) (3,3) and nothing in storage. */
function threeEntryLog(): RaftLog {
  const log = newLog();
  log.append(run(1, 1, 2, 3));
  return log;
}

/** [index, term] of every entry in the log, from firstIndex to lastIndex. */
function terms(log: RaftLog): [number, number][] {
  return log.allEntries().map((e) => [e.index, e.term]);
}

function assertPanics(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof RaftPanic, `expected RaftPanic, got ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe("RaftLog construction", () => {
  test("an empty storage gives an empty log at index 0", () => {
    const log = newLog();
    assert.equal(log.committed, 0);
    assert.equal(log.applied, 0);
    assert.equal(log.firstIndex(), 1);
    assert.equal(log.lastIndex(), 0);
    assert.equal(log.lastTerm(), 0);
    assert.equal(log.unstable.offset, 1);
    assert.deepEqual(log.allEntries(), []);
  });

  test("starts after the storage's compaction point with the stored entries stable", () => {
    const ms = new MemoryStorage();
    ms.applySnapshot(snap(5, 2));
    ms.append(run(6, 2, 3, 3));
    const log = newLog(ms);
    assert.equal(log.committed, 5);
    assert.equal(log.applied, 5);
    assert.equal(log.firstIndex(), 6);
    assert.equal(log.lastIndex(), 8);
    assert.equal(log.lastTerm(), 3);
    assert.equal(log.unstable.offset, 9);
    assert.deepEqual(log.unstableEntries(), []);
    assert.equal(log.term(5), 2);
  });

  test("term() distinguishes compacted and unavailable indexes", () => {
    const ms = new MemoryStorage();
    ms.applySnapshot(snap(5, 2));
    ms.append(run(6, 2, 3));
    const log = newLog(ms);
    log.append(run(8, 4));
    assert.throws(() => log.term(4), CompactedError);
    assert.equal(log.term(5), 2);
    assert.equal(log.term(7), 3);
    assert.equal(log.term(8), 4);
    assert.throws(() => log.term(9), UnavailableError);
    assert.equal(log.maybeTerm(4), undefined);
    assert.equal(log.maybeTerm(9), undefined);
    assert.equal(log.zeroTermOnOutOfBounds(9), 0);
    assert.equal(log.matchTerm(8, 4), true);
    assert.equal(log.matchTerm(8, 3), false);
    assert.equal(log.matchTerm(9, 0), false);
  });
});

describe("RaftLog.maybeAppend", () => {
  // Log (1,1) (2,2) (3,3), committed 1.
  const lastIndex = 3;
  const lastTerm = 3;
  const commit = 1;
  const cases: {
    name: string;
    logTerm: number;
    index: number;
    committed: number;
    ents: Entry[];
    want: number | undefined;
    wantCommit: number;
    wantLog: [number, number][];
  }[] = [
    {
      name: "mismatch: different term at index",
      logTerm: lastTerm - 1,
      index: lastIndex,
      committed: lastIndex,
      ents: [ent(lastIndex + 1, 4)],
      want: undefined,
      wantCommit: commit,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "mismatch: index past the end",
      logTerm: lastTerm,
      index: lastIndex + 1,
      committed: lastIndex,
      ents: [ent(lastIndex + 2, 4)],
      want: undefined,
      wantCommit: commit,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "match at the end, nothing appended, commit to the leader's commit",
      logTerm: lastTerm,
      index: lastIndex,
      committed: lastIndex,
      ents: [],
      want: lastIndex,
      wantCommit: lastIndex,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "commit is capped at the last new index",
      logTerm: lastTerm,
      index: lastIndex,
      committed: lastIndex + 1,
      ents: [],
      want: lastIndex,
      wantCommit: lastIndex,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "commit up to the leader's commit",
      logTerm: lastTerm,
      index: lastIndex,
      committed: lastIndex - 1,
      ents: [],
      want: lastIndex,
      wantCommit: lastIndex - 1,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "commit never decreases",
      logTerm: lastTerm,
      index: lastIndex,
      committed: 0,
      ents: [],
      want: lastIndex,
      wantCommit: commit,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "match at index 0",
      logTerm: 0,
      index: 0,
      committed: lastIndex,
      ents: [],
      want: 0,
      wantCommit: commit,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "append one entry",
      logTerm: lastTerm,
      index: lastIndex,
      committed: lastIndex + 2,
      ents: [ent(lastIndex + 1, 4)],
      want: lastIndex + 1,
      wantCommit: lastIndex + 1,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ],
    },
    {
      name: "append two entries",
      logTerm: lastTerm,
      index: lastIndex,
      committed: lastIndex + 2,
      ents: run(lastIndex + 1, 4, 4),
      want: lastIndex + 2,
      wantCommit: lastIndex + 2,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 4],
      ],
    },
    {
      name: "conflict in the middle truncates the tail",
      logTerm: lastTerm - 1,
      index: lastIndex - 1,
      committed: lastIndex,
      ents: [ent(lastIndex, 4)],
      want: lastIndex,
      wantCommit: lastIndex,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 4],
      ],
    },
    {
      name: "conflict right after the commit index",
      logTerm: lastTerm - 2,
      index: lastIndex - 2,
      committed: lastIndex,
      ents: [ent(lastIndex - 1, 4)],
      want: lastIndex - 1,
      wantCommit: lastIndex - 1,
      wantLog: [
        [1, 1],
        [2, 4],
      ],
    },
    {
      name: "entries already present: no truncation",
      logTerm: lastTerm - 2,
      index: lastIndex - 2,
      committed: lastIndex,
      ents: [ent(lastIndex - 1, lastTerm - 1)],
      want: lastIndex - 1,
      wantCommit: lastIndex - 1,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    },
    {
      name: "partly present, partly new",
      logTerm: lastTerm - 1,
      index: lastIndex - 1,
      committed: 0,
      ents: [ent(lastIndex, lastTerm), ent(lastIndex + 1, lastTerm)],
      want: lastIndex + 1,
      wantCommit: commit,
      wantLog: [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 3],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const log = threeEntryLog();
      log.commitTo(commit);
      assert.equal(log.maybeAppend(c.index, c.logTerm, c.committed, c.ents), c.want);
      assert.equal(log.committed, c.wantCommit);
      assert.deepEqual(terms(log), c.wantLog);
    });
  }

  test("a conflict with a committed entry panics and leaves the log intact", () => {
    const log = threeEntryLog();
    log.commitTo(1);
    assertPanics(
      () => log.maybeAppend(0, 0, 3, [ent(1, 4)]),
      "entry 1 conflict with committed entry [committed(1)]",
    );
    assert.equal(log.committed, 1);
    assert.deepEqual(terms(log), [
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  test("a conflict truncating stable entries moves the unstable offset back", () => {
    const ms = new MemoryStorage();
    ms.append(run(1, 1, 1, 1, 1, 1));
    const log = newLog(ms);
    assert.equal(log.unstable.offset, 6);
    assert.equal(log.maybeAppend(2, 1, 0, run(3, 2, 2)), 4);
    assert.equal(log.unstable.offset, 3);
    assert.deepEqual(
      log.unstableEntries().map((e) => [e.index, e.term]),
      [
        [3, 2],
        [4, 2],
      ],
    );
    assert.equal(log.lastIndex(), 4, "the stale stored entry 5 is no longer part of the log");
    assert.deepEqual(terms(log), [
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
    ]);
    assert.equal(log.matchTerm(5, 1), false);
  });

  test("a conflict inside the unstable tail keeps the unstable prefix", () => {
    const ms = new MemoryStorage();
    ms.append(run(1, 1));
    const log = newLog(ms);
    log.append(run(2, 1, 1, 1, 1));
    assert.equal(log.maybeAppend(3, 1, 0, [ent(4, 3)]), 4);
    assert.equal(log.unstable.offset, 2);
    assert.deepEqual(
      log.unstableEntries().map((e) => [e.index, e.term]),
      [
        [2, 1],
        [3, 1],
        [4, 3],
      ],
    );
  });

  test("append refuses to overwrite committed entries", () => {
    const log = threeEntryLog();
    log.commitTo(2);
    assertPanics(() => log.append([ent(2, 9)]), "after(1) is out of range [committed(2)]");
    assert.equal(log.append([]), 3);
    assert.equal(log.append([ent(3, 9)]), 3);
    assert.equal(log.term(3), 9);
  });
});

describe("RaftLog.findConflict", () => {
  const cases: [Entry[], number][] = [
    // no conflict, empty
    [[], 0],
    // no conflict
    [run(1, 1, 2, 3), 0],
    [run(2, 2, 3), 0],
    [run(3, 3), 0],
    // no conflict, but has new entries
    [run(1, 1, 2, 3, 4, 4), 4],
    [run(2, 2, 3, 4, 4), 4],
    [run(3, 3, 4, 4), 4],
    [run(4, 4, 4), 4],
    // conflicts with existing entries
    [run(1, 4, 4), 1],
    [run(2, 1, 4, 4), 2],
    [run(3, 1, 2, 4, 4), 3],
  ];
  for (const [ents, want] of cases) {
    test(`${JSON.stringify(ents.map((e) => [e.index, e.term]))} -> ${want}`, () => {
      assert.equal(threeEntryLog().findConflict(ents), want);
    });
  }
});

describe("RaftLog.findConflictByTerm", () => {
  /** A log whose dummy entry is (first - 1, terms[0]) followed by entries with terms[1..]. */
  function logWith(first: number, ts: number[], stable: boolean): RaftLog {
    const ms = new MemoryStorage();
    if (first > 1) ms.applySnapshot(snap(first - 1, ts[0]!));
    const ents = run(first, ...ts.slice(1));
    if (stable) ms.append(ents);
    const log = newLog(ms);
    if (!stable) log.append(ents);
    return log;
  }
  const fromOne: [number, number, number, number][] = [
    // [index, term, want index, want term]
    [100, 2, 100, 0], // unavailable: term unknown
    [5, 6, 5, 5],
    [5, 5, 5, 5],
    [5, 4, 2, 2],
    [5, 2, 2, 2],
    [5, 1, 0, 0],
    [1, 2, 1, 2],
    [1, 1, 0, 0],
    [0, 0, 0, 0],
  ];
  const compacted: [number, number, number, number][] = [
    [30, 3, 30, 0], // unavailable
    [14, 9, 14, 4],
    [14, 4, 14, 4],
    [14, 3, 12, 3],
    [14, 2, 9, 0], // stops at the compaction point: term unknown
    [11, 5, 11, 3],
    [10, 5, 10, 3],
    [10, 3, 10, 3],
    [10, 2, 9, 0],
    [9, 2, 9, 0],
    [4, 2, 4, 0],
    [0, 0, 0, 0],
  ];
  for (const stable of [false, true]) {
    const where = stable ? "stable" : "unstable";
    test(`log starting at index 1 (${where})`, () => {
      const log = logWith(1, [0, 2, 2, 5, 5, 5], stable);
      for (const [index, term, wi, wt] of fromOne) {
        assert.deepEqual(log.findConflictByTerm(index, term), { index: wi, term: wt }, `(${index}, ${term})`);
      }
    });
    test(`log compacted at index 10 (${where})`, () => {
      const log = logWith(11, [3, 3, 3, 4, 4, 4], stable);
      for (const [index, term, wi, wt] of compacted) {
        assert.deepEqual(log.findConflictByTerm(index, term), { index: wi, term: wt }, `(${index}, ${term})`);
      }
    });
  }
});

describe("RaftLog commitTo / appliedTo", () => {
  test("commitTo only moves forward and never past the last index", () => {
    const log = threeEntryLog();
    log.commitTo(2);
    log.commitTo(3);
    assert.equal(log.committed, 3);
    log.commitTo(1);
    assert.equal(log.committed, 3);
    assertPanics(
      () => log.commitTo(4),
      "tocommit(4) is out of range [lastIndex(3)]. Was the raft log corrupted, truncated, or lost?",
    );
    assert.equal(log.committed, 3);
  });

  test("appliedTo stays within [applied, committed]", () => {
    const log = threeEntryLog();
    log.commitTo(2);
    log.appliedTo(1);
    assert.equal(log.applied, 1);
    log.appliedTo(1);
    assert.equal(log.applied, 1);
    log.appliedTo(2);
    assert.equal(log.applied, 2);
    assertPanics(() => log.appliedTo(3), "applied(3) is out of range [prevApplied(2), committed(2)]");
    assertPanics(() => log.appliedTo(1), "applied(1) is out of range [prevApplied(2), committed(2)]");
    log.appliedTo(0);
    assert.equal(log.applied, 2, "0 is ignored");
  });

  test("nextCommittedEnts hands out committed, unapplied entries within the size budget", () => {
    const ms = new MemoryStorage();
    ms.applySnapshot(snap(3, 1));
    ms.append([ent(4, 1, 4), ent(5, 1, 4)]);
    const log = newLog(ms, 40);
    log.append([ent(6, 1, 4), ent(7, 1, 4)]);
    assert.equal(log.hasNextCommittedEnts(), false);
    assert.deepEqual(log.nextCommittedEnts(), []);
    log.commitTo(7);
    assert.equal(log.hasNextCommittedEnts(), true);
    // 20 bytes per entry, 40 bytes of budget.
    assert.deepEqual(log.nextCommittedEnts(), [ent(4, 1, 4), ent(5, 1, 4)]);
    log.appliedTo(5);
    assert.deepEqual(log.nextCommittedEnts(), [ent(6, 1, 4), ent(7, 1, 4)]);
    log.appliedTo(7);
    assert.equal(log.hasNextCommittedEnts(), false);
    assert.deepEqual(log.nextCommittedEnts(), []);
  });
});

describe("RaftLog.stableTo", () => {
  const cases: [number, number, number][] = [
    // [index, term, remaining unstable entries]
    [1, 1, 1],
    [2, 2, 0],
    [2, 1, 2], // stale term: entry 2 was written at another term
    [3, 1, 2], // past the unstable entries
    [0, 0, 2], // before the unstable entries
  ];
  for (const [i, t, want] of cases) {
    test(`stableTo(${i}, ${t}) leaves ${want} unstable`, () => {
      const ms = new MemoryStorage();
      const log = newLog(ms);
      log.append(run(1, 1, 2));
      // The application persists what it was handed, then acknowledges (i, t).
      ms.append(log.unstableEntries());
      log.stableTo(i, t);
      assert.equal(log.unstableEntries().length, want);
      assert.equal(log.unstable.offset, 3 - want);
      assert.equal(log.lastIndex(), 2);
    });
  }

  test("a stale acknowledgement after the entries were replaced is ignored", () => {
    const log = newLog();
    log.append(run(1, 1, 1, 1));
    // The tail is replaced at a newer term before the old write completes.
    assert.equal(log.maybeAppend(1, 1, 0, run(2, 2, 2)), 3);
    log.stableTo(3, 1);
    assert.equal(log.unstable.offset, 1);
    assert.deepEqual(
      log.unstableEntries().map((e) => [e.index, e.term]),
      [
        [1, 1],
        [2, 2],
        [3, 2],
      ],
    );
    log.stableTo(1, 1);
    assert.equal(log.unstable.offset, 2);
    log.stableTo(3, 2);
    assert.equal(log.unstable.offset, 4);
    assert.deepEqual(log.unstableEntries(), []);
  });

  describe("on a log restored from a storage snapshot at (5, 2)", () => {
    const snapi = 5;
    const snapt = 2;
    const cases: [number, number, Entry[], number][] = [
      // [index, term, appended, want unstable offset]
      [snapi + 1, snapt, [], snapi + 1],
      [snapi, snapt, [], snapi + 1],
      [snapi - 1, snapt, [], snapi + 1],
      [snapi + 1, snapt + 1, [], snapi + 1],
      [snapi, snapt + 1, [], snapi + 1],
      [snapi - 1, snapt + 1, [], snapi + 1],
      [snapi + 1, snapt, [ent(snapi + 1, snapt)], snapi + 2],
      [snapi, snapt, [ent(snapi + 1, snapt)], snapi + 1],
      [snapi - 1, snapt, [ent(snapi + 1, snapt)], snapi + 1],
      [snapi + 1, snapt + 1, [ent(snapi + 1, snapt)], snapi + 1],
      [snapi, snapt + 1, [ent(snapi + 1, snapt)], snapi + 1],
      [snapi - 1, snapt + 1, [ent(snapi + 1, snapt)], snapi + 1],
    ];
    for (const [i, t, ents, want] of cases) {
      test(`append ${ents.length}, stableTo(${i}, ${t}) -> offset ${want}`, () => {
        const ms = new MemoryStorage();
        ms.applySnapshot(snap(snapi, snapt));
        const log = newLog(ms);
        log.append(ents);
        log.stableTo(i, t);
        assert.equal(log.unstable.offset, want);
        assert.equal(log.unstableEntries().length, snapi + 1 + ents.length - want);
      });
    }
  });

  test("the pending snapshot itself is not stabilised by stableTo", () => {
    const log = threeEntryLog();
    log.restore(snap(10, 4));
    log.stableTo(10, 4);
    assert.equal(log.hasPendingSnapshot(), true);
    assert.equal(log.unstable.offset, 11);
    log.stableSnapTo(9);
    assert.equal(log.hasPendingSnapshot(), true);
    log.stableSnapTo(10);
    assert.equal(log.hasPendingSnapshot(), false);
  });
});

describe("RaftLog.restore", () => {
  test("a log over a storage snapshot starts after it", () => {
    const ms = new MemoryStorage();
    ms.applySnapshot(snap(1000, 1000));
    const log = newLog(ms);
    assert.deepEqual(log.allEntries(), []);
    assert.equal(log.firstIndex(), 1001);
    assert.equal(log.lastIndex(), 1000);
    assert.equal(log.committed, 1000);
    assert.equal(log.unstable.offset, 1001);
    assert.equal(log.term(1000), 1000);
  });

  test("restore replaces the log by a pending snapshot", () => {
    const ms = new MemoryStorage();
    ms.append(run(1, 1, 1));
    const log = newLog(ms);
    log.append(run(3, 2));
    log.commitTo(2);
    const s = snap(10, 5);
    log.restore(s);
    assert.equal(log.committed, 10);
    assert.equal(log.firstIndex(), 11);
    assert.equal(log.lastIndex(), 10);
    assert.equal(log.lastTerm(), 5);
    assert.equal(log.term(10), 5);
    assert.throws(() => log.term(3), CompactedError);
    assert.throws(() => log.slice(3, 4, noLimit), CompactedError);
    assert.deepEqual(log.unstableEntries(), []);
    assert.equal(log.unstable.offset, 11);
    assert.equal(log.hasPendingSnapshot(), true);
    assert.equal(log.snapshot(), s);
    assert.equal(log.hasNextCommittedEnts(), false);
    assert.deepEqual(log.nextCommittedEnts(), []);
    // The leader continues right after the snapshot.
    assert.equal(log.maybeAppend(10, 5, 11, [ent(11, 5)]), 11);
    assert.equal(log.committed, 11);
    assert.deepEqual(terms(log), [[11, 5]]);
    // Once the application persisted the snapshot, storage serves it.
    ms.applySnapshot(s);
    log.stableSnapTo(10);
    assert.equal(log.hasPendingSnapshot(), false);
    assert.equal(log.firstIndex(), 11);
    assert.equal(log.term(10), 5);
    assert.equal(log.snapshot(), s);
  });
});

describe("RaftLog.slice", () => {
  // Storage: snapshot at 100, entries 101..150; unstable: 151..200. Entry i has term i and a 4-byte
  // payload, so every entry counts 20 bytes.
  const offset = 100;
  const half = 150;
  const last = 200;
  const size = 20;
  const all: Entry[] = [];
  for (let i = offset + 1; i <= last; i++) all.push(ent(i, i, 4));
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(offset, 0));
  ms.append(all.slice(0, half - offset));
  const log = newLog(ms);
  log.append(all.slice(half - offset));
  /** Entries [lo, hi). */
  const want = (lo: number, hi: number) => all.slice(lo - offset - 1, hi - offset - 1);

  test("the fixture straddles storage and unstable", () => {
    assert.equal(log.unstable.offset, half + 1);
    assert.equal(ms.lastIndex(), half);
    assert.equal(log.lastIndex(), last);
  });

  test("compacted and out-of-bound ranges", () => {
    assert.throws(() => log.slice(offset - 1, offset + 1, noLimit), CompactedError);
    assert.throws(() => log.slice(offset, offset + 1, noLimit), CompactedError);
    assertPanics(() => log.slice(half, half - 1, noLimit), "invalid slice 150 > 149");
    assertPanics(() => log.slice(last, last + 2, noLimit), "slice[200,202) out of bound [101,200]");
  });

  test("without a size limit", () => {
    const ranges: [number, number][] = [
      [offset + 1, offset + 1],
      [offset + 1, half - 1],
      [offset + 1, half],
      [offset + 1, half + 1],
      [offset + 1, half + 2],
      [offset + 1, last + 1],
      [half - 1, half],
      [half - 1, half + 1],
      [half, half + 1],
      [half, half + 2],
      [half + 1, half + 2],
      [half + 1, last + 1],
      [last, last + 1],
      [last + 1, last + 1],
    ];
    for (const [lo, hi] of ranges)
      assert.deepEqual(log.slice(lo, hi, noLimit), want(lo, hi), `[${lo}, ${hi})`);
  });

  test("at least one entry is always returned", () => {
    assert.deepEqual(log.slice(offset + 1, last + 1, 0), want(offset + 1, offset + 2));
    assert.deepEqual(log.slice(half - 1, half + 2, 0), want(half - 1, half));
    assert.deepEqual(log.slice(half, last + 1, 0), want(half, half + 1));
    assert.deepEqual(log.slice(half + 1, last + 1, 0), want(half + 1, half + 2));
  });

  test("size limits across the boundary", () => {
    const cases: [number, number, number, number][] = [
      // [lo, hi, maxSize, want hi]
      [offset + 1, last + 1, size - 1, offset + 2],
      [offset + 1, last + 1, size, offset + 2],
      [offset + 1, last + 1, size * 2 - 1, offset + 2],
      [offset + 1, last + 1, size * 2, offset + 3],
      [half - 1, half + 2, size * 2 - 1, half],
      [half - 1, half + 2, size * 2, half + 1],
      [half - 1, half + 2, size * 3 - 1, half + 1],
      [half - 1, half + 2, size * 3, half + 2],
      [half, half + 3, size, half + 1],
      [half, half + 3, size * 2, half + 2],
      [half, half + 3, size * 2 + 1, half + 2],
      [half, half + 3, size * 3, half + 3],
      [half + 1, half + 4, size * 2, half + 3],
      [half - 2, last + 1, size * 10, half + 8],
      [offset + 1, last + 1, size * 100, last + 1],
    ];
    for (const [lo, hi, max, wantHi] of cases) {
      assert.deepEqual(log.slice(lo, hi, max), want(lo, wantHi), `[${lo}, ${hi}) max ${max}`);
    }
  });

  test("entries() reads from an index to the end", () => {
    assert.deepEqual(log.entries(last + 1, noLimit), []);
    assert.deepEqual(log.entries(last - 1, noLimit), want(last - 1, last + 1));
    assert.deepEqual(log.entries(half, size * 2), want(half, half + 2));
    assert.equal(log.allEntries().length, last - offset);
  });
});

describe("RaftLog.isUpToDate", () => {
  const log = threeEntryLog();
  const cases: [number, number, boolean][] = [
    // greater term wins regardless of the index
    [2, 4, true],
    [3, 4, true],
    [4, 4, true],
    // smaller term loses regardless of the index
    [2, 2, false],
    [3, 2, false],
    [4, 2, false],
    // same term: equal or longer log wins
    [2, 3, false],
    [3, 3, true],
    [4, 3, true],
  ];
  for (const [lasti, term, want] of cases) {
    test(`candidate (${lasti}, ${term}) -> ${want}`, () => {
      assert.equal(log.isUpToDate(lasti, term), want);
    });
  }

  test("any candidate is up to date with an empty log", () => {
    assert.equal(newLog().isUpToDate(0, 0), true);
    assert.equal(newLog().isUpToDate(5, 1), true);
  });
});

describe("RaftLog.maybeCommit", () => {
  test("only an entry of the current term commits (Raft Figure 8)", () => {
    // Entries 1-2 from term 1, 3-4 from term 2; the leader is now in term 3.
    const log = newLog();
    log.append(run(1, 1, 1, 2, 2));
    log.commitTo(1);
    // A quorum holds index 3 or 4, but those entries are from an older term: no commit by counting.
    assert.equal(log.maybeCommit(3, 3), false);
    assert.equal(log.maybeCommit(4, 3), false);
    assert.equal(log.committed, 1);
    // Once an entry of the current term is replicated, it commits with everything before it.
    log.append([ent(5, 3)]);
    assert.equal(log.maybeCommit(4, 3), false);
    assert.equal(log.committed, 1);
    assert.equal(log.maybeCommit(5, 3), true);
    assert.equal(log.committed, 5);
  });

  test("never moves commit backwards or sideways", () => {
    const log = threeEntryLog();
    assert.equal(log.maybeCommit(3, 3), true);
    assert.equal(log.committed, 3);
    assert.equal(log.maybeCommit(3, 3), false);
    assert.equal(log.maybeCommit(2, 2), false);
    assert.equal(log.committed, 3);
  });

  test("an index past the log end does not commit", () => {
    const log = threeEntryLog();
    assert.equal(log.maybeCommit(4, 3), false);
    assert.equal(log.committed, 0);
  });

  test("a matching entry of an earlier index commits in its own term", () => {
    const log = threeEntryLog();
    assert.equal(log.maybeCommit(2, 2), true);
    assert.equal(log.committed, 2);
  });
});
