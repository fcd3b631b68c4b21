import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CompactedError,
  RaftPanic,
  SnapOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "../../src/raft/errors.js";
import { limitSize, MemoryStorage } from "../../src/raft/storage.js";
import {
  type ConfState,
  type Entry,
  EntryType,
  emptyConfState,
  type Snapshot,
} from "../../src/raft/types.js";

function ent(index: number, term: number, size = 0): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(size) };
}

/** Entries index, index+1, ... with the given terms. */
function run(index: number, ...terms: number[]): Entry[] {
  return terms.map((t, i) => ent(index + i, t));
}

function snap(
  index: number,
  term: number,
  cs: ConfState = emptyConfState(),
  data = new Uint8Array(0),
): Snapshot {
  return { data, metadata: { index, term, confState: cs } };
}

/** A storage whose dummy entry is (3, 3) followed by entries 4..5 at terms 4, 5 (etcd's test fixture). */
function fixture(...extraTerms: number[]): MemoryStorage {
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(3, 3));
  ms.append(run(4, 4, 5, ...extraTerms));
  return ms;
}

/** [index, term] of the dummy entry and every stored entry. */
function dump(ms: MemoryStorage): [number, number][] {
  const out: [number, number][] = [];
  for (let i = ms.firstIndex() - 1; i <= ms.lastIndex(); i++) out.push([i, ms.term(i)]);
  return out;
}

describe("MemoryStorage basics", () => {
  test("a fresh storage holds only the dummy entry at index 0", () => {
    const ms = new MemoryStorage();
    assert.equal(ms.firstIndex(), 1);
    assert.equal(ms.lastIndex(), 0);
    assert.equal(ms.term(0), 0);
    assert.throws(() => ms.term(1), UnavailableError);
    assert.throws(() => ms.entries(1, 1, 100), UnavailableError);
    assert.deepEqual(ms.snapshot(), snap(0, 0));
    assert.deepEqual(ms.initialState(), {
      hardState: { term: 0, vote: 0n, commit: 0 },
      confState: emptyConfState(),
    });
  });

  test("withMembers puts the membership in the initial snapshot", () => {
    const ms = MemoryStorage.withMembers([1n, 2n], [3n]);
    assert.deepEqual(ms.initialState().confState, {
      voters: [1n, 2n],
      learners: [3n],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    });
    assert.equal(ms.snapshot().metadata.index, 0);
    assert.equal(ms.lastIndex(), 0);
  });

  test("hard state is stored by value", () => {
    const ms = new MemoryStorage();
    const hs = { term: 3, vote: 2n, commit: 7 };
    ms.setHardState(hs);
    hs.term = 99;
    assert.deepEqual(ms.getHardState(), { term: 3, vote: 2n, commit: 7 });
    ms.getHardState().commit = 100;
    assert.deepEqual(ms.initialState().hardState, { term: 3, vote: 2n, commit: 7 });
  });

  test("snapshot() can be made temporarily unavailable", () => {
    const ms = fixture();
    ms.snapshotUnavailable = true;
    assert.throws(() => ms.snapshot(), SnapshotTemporarilyUnavailableError);
    ms.snapshotUnavailable = false;
    assert.equal(ms.snapshot().metadata.index, 3);
  });
});

describe("MemoryStorage.term / firstIndex / lastIndex", () => {
  test("answers for [firstIndex - 1, lastIndex]", () => {
    const ms = fixture();
    assert.throws(() => ms.term(2), CompactedError);
    assert.equal(ms.term(3), 3);
    assert.equal(ms.term(4), 4);
    assert.equal(ms.term(5), 5);
    assert.throws(() => ms.term(6), UnavailableError);
    assert.equal(ms.firstIndex(), 4);
    assert.equal(ms.lastIndex(), 5);
  });

  test("lastIndex follows appends, firstIndex follows compaction", () => {
    const ms = fixture();
    ms.append([ent(6, 5)]);
    assert.equal(ms.lastIndex(), 6);
    ms.compact(4);
    assert.equal(ms.firstIndex(), 5);
    assert.equal(ms.lastIndex(), 6);
  });
});

describe("MemoryStorage.entries", () => {
  const ms = fixture(6);
  const size = 16; // each entry has no payload

  test("range errors", () => {
    assert.throws(() => ms.entries(2, 6, Infinity), CompactedError);
    assert.throws(() => ms.entries(3, 4, Infinity), CompactedError);
    assert.throws(() => ms.entries(4, 8, Infinity), {
      name: "RaftPanic",
      message: "entries' hi(8) is out of bound lastindex(6)",
    });
  });

  test("returns [lo, hi)", () => {
    assert.deepEqual(ms.entries(4, 5, Infinity), run(4, 4));
    assert.deepEqual(ms.entries(4, 6, Infinity), run(4, 4, 5));
    assert.deepEqual(ms.entries(4, 7, Infinity), run(4, 4, 5, 6));
    assert.deepEqual(ms.entries(6, 7, Infinity), run(6, 6));
    assert.deepEqual(ms.entries(5, 5, Infinity), []);
  });

  test("limits by size but always returns the first entry", () => {
    assert.deepEqual(ms.entries(4, 7, 0), run(4, 4));
    assert.deepEqual(ms.entries(4, 7, size * 2), run(4, 4, 5));
    assert.deepEqual(ms.entries(4, 7, size * 2 + size / 2), run(4, 4, 5));
    assert.deepEqual(ms.entries(4, 7, size * 3 - 1), run(4, 4, 5));
    assert.deepEqual(ms.entries(4, 7, size * 3), run(4, 4, 5, 6));
  });

  test("a storage holding only a snapshot has no entries", () => {
    const only = new MemoryStorage();
    only.applySnapshot(snap(4, 4));
    assert.throws(() => only.entries(5, 5, Infinity), UnavailableError);
    assert.throws(() => only.entries(4, 5, Infinity), CompactedError);
  });

  test("the returned array is a copy", () => {
    const s = fixture(6);
    const got = s.entries(4, 7, Infinity);
    got.length = 0;
    got.push(ent(4, 99));
    assert.deepEqual(s.entries(4, 7, Infinity), run(4, 4, 5, 6));
  });
});

describe("MemoryStorage.compact", () => {
  test("compacting at or below the compaction point is refused", () => {
    const ms = fixture();
    assert.throws(() => ms.compact(2), CompactedError);
    assert.throws(() => ms.compact(3), CompactedError);
    assert.deepEqual(dump(ms), [
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
  });

  test("the compact index becomes the dummy entry", () => {
    const ms = fixture();
    ms.compact(4);
    assert.deepEqual(dump(ms), [
      [4, 4],
      [5, 5],
    ]);
    assert.throws(() => ms.term(3), CompactedError);
    assert.throws(() => ms.entries(4, 5, Infinity), CompactedError);
    ms.compact(5);
    assert.deepEqual(dump(ms), [[5, 5]]);
    assert.equal(ms.firstIndex(), 6);
    assert.equal(ms.lastIndex(), 5);
  });

  test("compacting past the last index panics", () => {
    const ms = fixture();
    assert.throws(() => ms.compact(6), {
      name: "RaftPanic",
      message: "compact 6 is out of bound lastindex(5)",
    });
  });

  test("compaction does not touch the snapshot", () => {
    const ms = fixture();
    ms.compact(5);
    assert.equal(ms.snapshot().metadata.index, 3);
  });
});

describe("MemoryStorage.createSnapshot / applySnapshot", () => {
  const cs: ConfState = { ...emptyConfState(), voters: [1n, 2n, 3n] };
  const data = new TextEncoder().encode("data");

  test("creates snapshots at applied indexes", () => {
    const ms = fixture();
    assert.deepEqual(ms.createSnapshot(4, cs, data), snap(4, 4, cs, data));
    assert.deepEqual(ms.snapshot(), snap(4, 4, cs, data));
    // Without a ConfState the previous one is kept.
    assert.deepEqual(ms.createSnapshot(5, undefined, data), snap(5, 5, cs, data));
    // Creating a snapshot does not compact.
    assert.equal(ms.firstIndex(), 4);
  });

  test("refuses snapshots not newer than the current one", () => {
    const ms = fixture();
    assert.throws(() => ms.createSnapshot(3, cs, data), SnapOutOfDateError);
    ms.createSnapshot(5, cs, data);
    assert.throws(() => ms.createSnapshot(4, cs, data), SnapOutOfDateError);
    assert.throws(() => ms.createSnapshot(5, cs, data), SnapOutOfDateError);
    assert.equal(ms.snapshot().metadata.index, 5);
  });

  test("a snapshot past the last index panics", () => {
    const ms = fixture();
    assert.throws(() => ms.createSnapshot(6, cs, data), {
      name: "RaftPanic",
      message: "snapshot 6 is out of bound lastindex(5)",
    });
  });

  test("applySnapshot replaces the whole contents", () => {
    const ms = fixture();
    ms.applySnapshot(snap(10, 7, cs, data));
    assert.deepEqual(ms.snapshot(), snap(10, 7, cs, data));
    assert.deepEqual(dump(ms), [[10, 7]]);
    assert.equal(ms.firstIndex(), 11);
    assert.equal(ms.lastIndex(), 10);
    assert.deepEqual(ms.initialState().confState, cs);
    ms.append([ent(11, 7)]);
    assert.deepEqual(dump(ms), [
      [10, 7],
      [11, 7],
    ]);
  });

  test("applySnapshot refuses older or equal snapshots", () => {
    const ms = new MemoryStorage();
    ms.applySnapshot(snap(4, 4, cs, data));
    assert.throws(() => ms.applySnapshot(snap(3, 3, cs, data)), SnapOutOfDateError);
    assert.throws(() => ms.applySnapshot(snap(4, 4, cs, data)), SnapOutOfDateError);
    assert.equal(ms.snapshot().metadata.index, 4);
    // The initial (index 0) snapshot cannot be re-applied either.
    assert.throws(() => new MemoryStorage().applySnapshot(snap(0, 0)), SnapOutOfDateError);
  });
});

describe("MemoryStorage.append", () => {
  const cases: { name: string; append: Entry[]; want: [number, number][] }[] = [
    {
      name: "entries entirely before the compaction point are ignored",
      append: run(1, 1, 2),
      want: [
        [3, 3],
        [4, 4],
        [5, 5],
      ],
    },
    {
      name: "identical entries",
      append: run(3, 3, 4, 5),
      want: [
        [3, 3],
        [4, 4],
        [5, 5],
      ],
    },
    {
      name: "conflicting entries replace the existing suffix",
      append: run(3, 3, 6, 6),
      want: [
        [3, 3],
        [4, 6],
        [5, 6],
      ],
    },
    {
      name: "overlap and extend",
      append: run(3, 3, 4, 5, 5),
      want: [
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 5],
      ],
    },
    {
      name: "compacted prefix of the new entries is dropped, then the existing tail is truncated",
      append: [ent(2, 3), ent(3, 3), ent(4, 5)],
      want: [
        [3, 3],
        [4, 5],
      ],
    },
    {
      name: "truncate a shorter tail",
      append: [ent(4, 5)],
      want: [
        [3, 3],
        [4, 5],
      ],
    },
    {
      name: "truncate only the last entry",
      append: [ent(5, 7)],
      want: [
        [3, 3],
        [4, 4],
        [5, 7],
      ],
    },
    {
      name: "direct append",
      append: [ent(6, 5)],
      want: [
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 5],
      ],
    },
    {
      name: "nothing to append",
      append: [],
      want: [
        [3, 3],
        [4, 4],
        [5, 5],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ms = fixture();
      ms.append(c.append);
      assert.deepEqual(dump(ms), c.want);
    });
  }

  test("the dummy entry is never overwritten", () => {
    const ms = fixture();
    ms.append(run(3, 9, 9));
    assert.deepEqual(dump(ms), [
      [3, 3],
      [4, 9],
    ]);
  });

  test("a gap after the last index panics and leaves the storage intact", () => {
    const ms = fixture();
    assert.throws(
      () => ms.append([ent(7, 5)]),
      (e: unknown) => {
        assert.ok(e instanceof RaftPanic);
        assert.equal(e.message, "missing log entry [last: 5, append at: 7]");
        return true;
      },
    );
    assert.deepEqual(dump(ms), [
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
  });

  test("appended entries are served back in full", () => {
    const ms = new MemoryStorage();
    const ents = [ent(1, 1, 3), ent(2, 1, 5), ent(3, 2, 0)];
    ms.append(ents);
    assert.deepEqual(ms.entries(1, 4, Infinity), ents);
    assert.equal(ms.lastIndex(), 3);
  });
});

describe("limitSize", () => {
  // Each entry counts its payload plus 16 bytes of overhead.
  const ents = [ent(1, 1, 4), ent(2, 1, 4), ent(3, 1, 4)];

  test("empty input", () => {
    assert.deepEqual(limitSize([], 0), []);
  });

  test("always keeps the first entry", () => {
    assert.deepEqual(limitSize(ents, 0), ents.slice(0, 1));
    assert.deepEqual(limitSize([ent(1, 1, 1000)], 10), [ent(1, 1, 1000)]);
    assert.deepEqual(limitSize([ent(1, 1, 1000), ent(2, 1, 0)], 10), [ent(1, 1, 1000)]);
  });

  test("keeps entries while the running total fits", () => {
    assert.deepEqual(limitSize(ents, 39), ents.slice(0, 1));
    assert.deepEqual(limitSize(ents, 40), ents.slice(0, 2));
    assert.deepEqual(limitSize(ents, 59), ents.slice(0, 2));
    assert.deepEqual(limitSize(ents, 60), ents);
    assert.deepEqual(limitSize(ents, Number.MAX_SAFE_INTEGER), ents);
  });

  test("stops at the first entry that does not fit", () => {
    const mixed = [ent(1, 1, 0), ent(2, 1, 100), ent(3, 1, 0)];
    // 16 + 116 > 50: the small third entry is not picked up after the big one.
    assert.deepEqual(limitSize(mixed, 50), mixed.slice(0, 1));
  });

  test("does not modify its input", () => {
    const copy = [...ents];
    limitSize(copy, 0);
    assert.equal(copy.length, 3);
  });
});
