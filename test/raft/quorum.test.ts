import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type JointConfig,
  jointCommittedIndex,
  jointIds,
  jointVoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
  sortedIds,
  VoteResult,
} from "../../src/raft/quorum.js";
import type { NodeId } from "../../src/raft/types.js";

const { VotePending, VoteLost, VoteWon } = VoteResult;

function ids(...xs: number[]): Set<NodeId> {
  return new Set(xs.map((x) => BigInt(x)));
}

/** A match lookup from (id, index) pairs; ids not listed are unknown. */
function matches(pairs: Record<number, number>): (id: NodeId) => number | undefined {
  const m = new Map<NodeId, number>();
  for (const [k, v] of Object.entries(pairs)) m.set(BigInt(k), v);
  return (id) => m.get(id);
}

function votes(pairs: Record<number, boolean>): Map<NodeId, boolean> {
  const m = new Map<NodeId, boolean>();
  for (const [k, v] of Object.entries(pairs)) m.set(BigInt(k), v);
  return m;
}

function joint(incoming: Set<NodeId>, outgoing: Set<NodeId>): JointConfig {
  return { incoming, outgoing };
}

/** Reference definition: the largest index such that a majority of the voters has match >= index. */
function bruteForceCommitted(c: ReadonlySet<NodeId>, matched: (id: NodeId) => number | undefined): number {
  if (c.size === 0) return Number.MAX_SAFE_INTEGER;
  const values = [...c].map((id) => matched(id) ?? 0);
  const quorum = Math.floor(c.size / 2) + 1;
  let best = 0;
  for (let index = 0; index <= Math.max(...values); index++) {
    if (values.filter((v) => v >= index).length >= quorum) best = index;
  }
  return best;
}

describe("majorityCommittedIndex", () => {
  test("an empty configuration never limits the commit index", () => {
    assert.equal(majorityCommittedIndex(ids(), matches({})), Number.MAX_SAFE_INTEGER);
    assert.equal(majorityCommittedIndex(ids(), matches({ 1: 7 })), Number.MAX_SAFE_INTEGER);
  });

  test("a single voter commits its own match index", () => {
    assert.equal(majorityCommittedIndex(ids(1), matches({ 1: 12 })), 12);
    assert.equal(majorityCommittedIndex(ids(1), matches({ 1: 0 })), 0);
    assert.equal(majorityCommittedIndex(ids(1), matches({ 2: 12 })), 0);
  });

  test("two voters need both", () => {
    assert.equal(majorityCommittedIndex(ids(1, 2), matches({ 1: 5, 2: 3 })), 3);
    assert.equal(majorityCommittedIndex(ids(1, 2), matches({ 1: 3, 2: 5 })), 3);
    assert.equal(majorityCommittedIndex(ids(1, 2), matches({ 1: 5 })), 0);
  });

  test("odd sizes take the median", () => {
    assert.equal(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 1, 2: 5, 3: 3 })), 3);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 9, 2: 9, 3: 0 })), 9);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4, 5), matches({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 })), 3);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4, 5), matches({ 1: 5, 2: 5, 3: 1, 4: 1, 5: 1 })), 1);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4, 5), matches({ 1: 5, 2: 5, 3: 5, 4: 1, 5: 1 })), 5);
  });

  test("even sizes need more than half", () => {
    // Four voters: three must agree.
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4), matches({ 1: 1, 2: 2, 3: 3, 4: 4 })), 2);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4), matches({ 1: 8, 2: 8, 3: 1, 4: 1 })), 1);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4), matches({ 1: 8, 2: 8, 3: 8, 4: 1 })), 8);
    // Six voters: four must agree.
    const six = ids(1, 2, 3, 4, 5, 6);
    assert.equal(majorityCommittedIndex(six, matches({ 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1 })), 3);
  });

  test("voters without a match count as zero", () => {
    assert.equal(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 5 })), 0);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 5, 2: 4 })), 4);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4, 5), matches({ 1: 5, 2: 4, 3: 3 })), 3);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3, 4, 5), matches({ 1: 5, 2: 4 })), 0);
  });

  test("matches of non-voters are ignored", () => {
    assert.equal(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 2, 4: 100, 5: 100, 6: 100 })), 0);
    assert.equal(majorityCommittedIndex(ids(1, 2, 3), matches({ 1: 2, 2: 2, 4: 100, 5: 100 })), 2);
  });

  test("does not depend on iteration order of the set", () => {
    const m = matches({ 1: 10, 2: 20, 3: 30, 4: 40, 5: 50 });
    assert.equal(majorityCommittedIndex(ids(5, 4, 3, 2, 1), m), 30);
    assert.equal(majorityCommittedIndex(ids(3, 1, 5, 2, 4), m), 30);
  });

  test("agrees with the brute-force definition (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 9 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }), {
          minLength: 12,
          maxLength: 12,
        }),
        (voterIds, matchByPos) => {
          const c = ids(...voterIds);
          const matched = (id: NodeId): number | undefined => matchByPos[Number(id) - 1];
          assert.equal(majorityCommittedIndex(c, matched), bruteForceCommitted(c, matched));
        },
      ),
      { seed: 0x5eed, numRuns: 500 },
    );
  });
});

describe("majorityVoteResult", () => {
  test("an empty configuration wins every election", () => {
    assert.equal(majorityVoteResult(ids(), votes({})), VoteWon);
    assert.equal(majorityVoteResult(ids(), votes({ 1: false })), VoteWon);
  });

  test("single voter", () => {
    assert.equal(majorityVoteResult(ids(1), votes({})), VotePending);
    assert.equal(majorityVoteResult(ids(1), votes({ 1: true })), VoteWon);
    assert.equal(majorityVoteResult(ids(1), votes({ 1: false })), VoteLost);
  });

  test("two voters need both", () => {
    assert.equal(majorityVoteResult(ids(1, 2), votes({ 1: true })), VotePending);
    assert.equal(majorityVoteResult(ids(1, 2), votes({ 1: true, 2: true })), VoteWon);
    assert.equal(majorityVoteResult(ids(1, 2), votes({ 1: true, 2: false })), VoteLost);
    assert.equal(majorityVoteResult(ids(1, 2), votes({ 2: false })), VoteLost);
  });

  test("three voters", () => {
    const c = ids(1, 2, 3);
    assert.equal(majorityVoteResult(c, votes({})), VotePending);
    assert.equal(majorityVoteResult(c, votes({ 1: true })), VotePending);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: false })), VotePending);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: true })), VoteWon);
    assert.equal(majorityVoteResult(c, votes({ 1: false, 2: false })), VoteLost);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: false, 3: false })), VoteLost);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: false, 3: true })), VoteWon);
  });

  test("four voters need three", () => {
    const c = ids(1, 2, 3, 4);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: true })), VotePending);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: true, 3: false })), VotePending);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: true, 3: false, 4: false })), VoteLost);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 2: true, 3: true })), VoteWon);
    assert.equal(majorityVoteResult(c, votes({ 1: false, 2: false })), VoteLost);
  });

  test("votes of non-voters are ignored", () => {
    const c = ids(1, 2, 3);
    assert.equal(majorityVoteResult(c, votes({ 1: true, 4: true, 5: true })), VotePending);
    assert.equal(majorityVoteResult(c, votes({ 1: false, 2: false, 4: true, 5: true, 6: true })), VoteLost);
  });
});

describe("joint configurations", () => {
  test("jointIds is the union of both halves", () => {
    assert.deepEqual(sortedIds(jointIds(joint(ids(1, 2, 3), ids(3, 4)))), [1n, 2n, 3n, 4n]);
    assert.deepEqual(sortedIds(jointIds(joint(ids(1), ids()))), [1n]);
    assert.deepEqual(sortedIds(jointIds(joint(ids(), ids()))), []);
  });

  test("sortedIds orders bigints numerically", () => {
    assert.deepEqual(sortedIds([10n, 2n, 1n, 18446744073709551615n, 3n]), [
      1n,
      2n,
      3n,
      10n,
      18446744073709551615n,
    ]);
  });

  test("committed index is the minimum of both halves", () => {
    const m = matches({ 1: 10, 2: 9, 3: 8, 4: 2, 5: 1 });
    assert.equal(jointCommittedIndex(joint(ids(1, 2, 3), ids(3, 4, 5)), m), 2);
    assert.equal(jointCommittedIndex(joint(ids(3, 4, 5), ids(1, 2, 3)), m), 2);
    assert.equal(jointCommittedIndex(joint(ids(1, 2, 3), ids(1, 2)), m), 9);
    assert.equal(jointCommittedIndex(joint(ids(1, 2, 3), ids(4)), m), 2);
  });

  test("an empty outgoing half behaves like the incoming half", () => {
    const m = matches({ 1: 10, 2: 9, 3: 8 });
    assert.equal(jointCommittedIndex(joint(ids(1, 2, 3), ids()), m), 9);
    assert.equal(jointCommittedIndex(joint(ids(1), ids()), m), 10);
    assert.equal(jointVoteResult(joint(ids(1, 2, 3), ids()), votes({ 1: true })), VotePending);
    assert.equal(jointVoteResult(joint(ids(1, 2, 3), ids()), votes({ 1: true, 2: true })), VoteWon);
    assert.equal(jointVoteResult(joint(ids(1, 2, 3), ids()), votes({ 1: false, 2: false })), VoteLost);
  });

  test("a fully empty joint configuration agrees to everything", () => {
    assert.equal(jointCommittedIndex(joint(ids(), ids()), matches({})), Number.MAX_SAFE_INTEGER);
    assert.equal(jointVoteResult(joint(ids(), ids()), votes({})), VoteWon);
  });

  test("vote result combines both halves", () => {
    const c = joint(ids(1, 2, 3), ids(4, 5, 6));
    // won / won
    assert.equal(jointVoteResult(c, votes({ 1: true, 2: true, 4: true, 5: true })), VoteWon);
    // won / pending
    assert.equal(jointVoteResult(c, votes({ 1: true, 2: true, 4: true })), VotePending);
    // pending / won
    assert.equal(jointVoteResult(c, votes({ 1: true, 4: true, 5: true })), VotePending);
    // pending / pending
    assert.equal(jointVoteResult(c, votes({ 1: true, 4: true })), VotePending);
    // won / lost
    assert.equal(jointVoteResult(c, votes({ 1: true, 2: true, 4: false, 5: false })), VoteLost);
    // lost / pending
    assert.equal(jointVoteResult(c, votes({ 1: false, 2: false, 4: true })), VoteLost);
    // lost / lost
    assert.equal(jointVoteResult(c, votes({ 1: false, 2: false, 4: false, 5: false })), VoteLost);
  });

  test("overlapping halves count a shared voter in both", () => {
    const c = joint(ids(1, 2, 3), ids(2, 3, 4));
    assert.equal(jointVoteResult(c, votes({ 2: true, 3: true })), VoteWon);
    assert.equal(jointVoteResult(c, votes({ 1: true, 2: true })), VotePending);
    assert.equal(jointVoteResult(c, votes({ 1: true, 2: true, 3: false, 4: false })), VoteLost);
  });

  test("joint committed index agrees with the brute-force definition (property)", () => {
    const half = fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { minLength: 0, maxLength: 6 });
    fc.assert(
      fc.property(
        half,
        half,
        fc.array(fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }), {
          minLength: 8,
          maxLength: 8,
        }),
        (inc, out, matchByPos) => {
          const c = joint(ids(...inc), ids(...out));
          const matched = (id: NodeId): number | undefined => matchByPos[Number(id) - 1];
          const expected = Math.min(
            bruteForceCommitted(c.incoming, matched),
            bruteForceCommitted(c.outgoing, matched),
          );
          assert.equal(jointCommittedIndex(c, matched), expected);
          if (out.length === 0) {
            assert.equal(jointCommittedIndex(c, matched), majorityCommittedIndex(c.incoming, matched));
          }
        },
      ),
      { seed: 0xc0ffee, numRuns: 300 },
    );
  });
});
