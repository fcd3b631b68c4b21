// The checker on hand-made histories: each invariant accepts a correct history and reports a breach.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryStorage } from "../../src/raft/storage.js";
import { type Entry, EntryType } from "../../src/raft/types.js";
import { type CheckedNode, Checker, Violation } from "../../src/sim/checker.js";
import { applyHash, asciiBytes } from "../../src/sim/node.js";
import { hashInit } from "../../src/sim/seeds.js";

function ent(index: number, term: number, data = ""): Entry {
  return { index, term, type: EntryType.Normal, data: asciiBytes(data) };
}

/** A node whose disk holds the given entries. */
function node(id: number, entries: Entry[] = []): CheckedNode & { storage: MemoryStorage } {
  const storage = MemoryStorage.withMembers([1n, 2n, 3n]);
  storage.append(entries);
  return { id: BigInt(id), storage };
}

function throwsViolation(f: () => void, invariant: string): void {
  assert.throws(f, (err: unknown) => err instanceof Violation && err.invariant === invariant);
}

/** Applies entries in order on n, returning the hashes reached. */
function applyAll(c: Checker, n: CheckedNode, entries: Entry[]): void {
  let h = hashInit;
  for (const e of entries) {
    h = applyHash(h, e);
    c.onApply(n, e, h);
  }
}

describe("checker", () => {
  test("Election Safety: one leader per term, ever", () => {
    const c = new Checker();
    c.onLeader(node(1), 1);
    c.onLeader(node(1), 1); // the same leader again is fine
    c.onLeader(node(2), 2);
    throwsViolation(() => c.onLeader(node(3), 2), "Election Safety");
  });

  test("Log Matching: same index and term means same entry and same predecessor", () => {
    const c = new Checker();
    c.onAppend(node(1), [ent(1, 1, "a"), ent(2, 2, "b")], 0);
    c.onAppend(node(2), [ent(1, 1, "a"), ent(2, 2, "b")], 0);
    throwsViolation(() => c.onAppend(node(3), [ent(2, 2, "x")], 1), "Log Matching");
    throwsViolation(() => c.onAppend(node(3), [ent(2, 2, "b")], 3), "Log Matching");
    throwsViolation(() => c.onAppend(node(3), [ent(3, 1, "c")], 2), "Log Matching"); // terms go backwards
  });

  test("Leader Completeness: a later leader holds every committed entry", () => {
    const c = new Checker();
    const log = [ent(1, 1, "a"), ent(2, 1, "b")];
    const leader = node(1, log);
    c.onLeader(leader, 1);
    c.onCommit(leader, 0, 2, 1);
    c.onLeader(node(2, log), 2);
    throwsViolation(() => c.onLeader(node(3, [ent(1, 1, "a")]), 3), "Leader Completeness");
    throwsViolation(() => c.onLeader(node(4, [ent(1, 1, "a"), ent(2, 3, "z")]), 4), "Leader Completeness");
  });

  test("Leader Completeness: a stale leader of an earlier term need not hold later commits", () => {
    const c = new Checker();
    const leader = node(1, [ent(1, 5, "a")]);
    c.onLeader(leader, 5);
    c.onCommit(leader, 0, 1, 5);
    c.onLeader(node(2), 4); // elected late by delayed votes of term 4
  });

  test("strict: commits only on an entry of the leader's term, follower commits follow a leader", () => {
    const c = new Checker();
    throwsViolation(() => c.onCommit(node(1, [ent(1, 1), ent(2, 2)]), 0, 1, 2), "Commit");
    throwsViolation(() => c.onCommit(node(2, [ent(1, 1)]), 0, 1, undefined), "Commit");
    const lax = new Checker();
    lax.strict = false;
    lax.onCommit(node(1, [ent(1, 1), ent(2, 2)]), 0, 1, 2);
    lax.onCommit(node(2, [ent(1, 1)]), 0, 1, undefined);
  });

  test("State Machine Safety: same index, same entry, in order, committed, never twice", () => {
    const c = new Checker();
    const log = [ent(1, 1, "k=a"), ent(2, 1, "k=b")];
    const n1 = node(1, log);
    c.onCommit(n1, 0, 2, 1);
    applyAll(c, n1, log);
    applyAll(c, node(2), log);
    throwsViolation(() => applyAll(c, node(3), [ent(1, 1, "k=a"), ent(2, 1, "k=x")]), "State Machine Safety");
    throwsViolation(() => c.onApply(node(4), ent(2, 1, "k=b"), 0), "State Machine Safety"); // gap
    throwsViolation(() => c.onApply(node(5), ent(3, 1, "k=c"), 0), "State Machine Safety"); // uncommitted
  });

  test("State Machine Safety: one proposal applied at two indexes", () => {
    const c = new Checker();
    c.strict = false;
    throwsViolation(() => applyAll(c, node(1), [ent(1, 1, "k=a"), ent(2, 1, "k=a")]), "State Machine Safety");
  });

  test("strict: one vote per term", () => {
    const c = new Checker();
    c.onVoteGranted(1n, 2n, 3);
    c.onVoteGranted(1n, 2n, 3);
    c.onVoteGranted(1n, 3n, 4);
    throwsViolation(() => c.onVoteGranted(1n, 3n, 3), "Vote");
  });

  test("linearizable reads: a read issued after an acknowledged write sees it", () => {
    const c = new Checker();
    const n = node(1);
    const before = c.readRequirement();
    c.onAck(7);
    const after = c.readRequirement();
    c.onReadServed(n, 3, before); // issued before the write was acknowledged
    c.onReadServed(n, 7, after);
    throwsViolation(() => c.onReadServed(n, 6, after), "Linearizable Read");
  });
});
