// The durability, watch and lease checkers on hand-made data: each problem they exist to find is
// found (a lost acknowledged append, a phantom, a wrong revision; members disagreeing, a revision
// skipped, a watcher's gap, duplicate and reordering, an acknowledged write missing from the history;
// a kept lease gone, a key surviving its revoke or expiry), and clean data passes. Plus the
// availability figures.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkAppends } from "./checker/durability.js";
import { checkLeases } from "./checker/lease.js";
import { checkAckedInHistory, checkReferences, checkWatcher } from "./checker/watch.js";
import { availability } from "./stats.js";
import type { AppendAttempt } from "./workload/append.js";
import type { LeaseRecord } from "./workload/lease.js";
import type { WatchedEvent, WatcherRecord } from "./workload/watch.js";

const att = (key: string, status: AppendAttempt["status"], revision?: number): AppendAttempt => ({
  key,
  value: `v-${key}`,
  client: "c",
  status,
  revision,
  call: 0,
  ret: status === "info" ? undefined : 1,
});
const kv = (key: string, modRevision: number, value = `v-${key}`) => ({ key, value, modRevision });

describe("durability checker", () => {
  test("passes when every acknowledged append is there at its revision", () => {
    const r = checkAppends(
      [att("a", "ok", 2), att("b", "ok", 3), att("c", "info"), att("d", "info"), att("e", "fail")],
      [kv("a", 2), kv("b", 3), kv("c", 4)],
    );
    assert.deepEqual(r.problems, []);
    assert.equal(r.ok, true);
    assert.equal(r.indeterminatePresent, 1);
    assert.equal(r.indeterminateAbsent, 1);
  });

  test("finds a lost append, a phantom, a failed write present, a wrong revision or value", () => {
    const r = checkAppends(
      [att("a", "ok", 2), att("b", "ok", 3), att("e", "fail"), att("f", "ok", 6)],
      [kv("a", 2), kv("e", 4), kv("x", 5), kv("f", 7), kv("b", 3, "other")],
    );
    assert.equal(r.ok, false);
    const text = r.problems.join("\n");
    assert.match(text, /b: value "other"/);
    assert.match(text, /e: present, but its put failed/);
    assert.match(text, /x: present, but nobody wrote it/);
    assert.match(text, /f: at revision 7, but its put was acknowledged at revision 6/);
    const lost = checkAppends([att("a", "ok", 2), att("b", "ok", 3)], [kv("a", 2)]);
    assert.match(lost.problems[0]!, /1 acknowledged append\(s\) lost: b \(acknowledged at revision 3\)/);
  });
});

const ev = (
  rev: number,
  key: string,
  value = `${key}${rev}`,
  type: "put" | "delete" = "put",
): WatchedEvent => ({
  rev,
  key,
  type,
  value,
});
const watcher = (events: WatchedEvent[]): WatcherRecord => ({ name: "w", events, resumes: 2, errors: [] });

describe("watch checker", () => {
  const ref = [ev(2, "a"), ev(3, "b"), ev(4, "a"), ev(4, "c", "", "delete"), ev(5, "b")];

  test("references: members must agree, revisions must not skip or go back", () => {
    assert.deepEqual(
      checkReferences(
        new Map([
          ["m0", ref],
          ["m1", ref],
        ]),
      ),
      [],
    );
    const other = [...ref.slice(0, 2), ev(4, "a", "x"), ...ref.slice(3)];
    assert.match(
      checkReferences(
        new Map([
          ["m0", ref],
          ["m1", other],
        ]),
      )[0]!,
      /members disagree .* event #2/,
    );
    assert.match(
      checkReferences(new Map([["m0", [ev(2, "a"), ev(4, "b")]]]))[0]!,
      /jumps from revision 2 to 4/,
    );
  });

  test("a watcher must see a prefix of the history, exactly", () => {
    assert.deepEqual(checkWatcher(ref, watcher(ref), 5), []);
    assert.deepEqual(checkWatcher(ref, watcher(ref.slice(0, 3)), undefined), []);
    assert.match(checkWatcher(ref, watcher([ref[0]!, ref[2]!]))[0]!, /a gap \(missed put b=/);
    assert.match(checkWatcher(ref, watcher([ref[0]!, ref[1]!, ref[1]!]))[0]!, /a duplicate/);
    assert.match(checkWatcher(ref, watcher([ref[0]!, ref[1]!, ref[0]!]))[0]!, /went back in revision/);
    assert.match(checkWatcher(ref, watcher([ref[0]!, ev(3, "b", "zz")]))[0]!, /a different event/);
    assert.match(checkWatcher(ref, watcher([...ref, ev(6, "z")]))[0]!, /beyond the end/);
    // Caught up through revision 4, yet short of it.
    assert.match(checkWatcher(ref, watcher(ref.slice(0, 3)), 4)[0]!, /stopped at event #3/);
  });

  test("acknowledged writes are in the history where acknowledged; failed values are not", () => {
    const ok = checkAckedInHistory(
      ref,
      [{ key: "b", value: "b3", revision: 3, what: "write" }],
      new Set(["zz"]),
    );
    assert.deepEqual(ok, []);
    const missing = checkAckedInHistory(
      ref,
      [{ key: "b", value: "b3", revision: 4, what: "write" }],
      new Set(),
    );
    assert.match(missing[0]!, /1 acknowledged write\(s\) not in the history/);
    const failed = checkAckedInHistory(ref, [], new Set(["a4"]));
    assert.match(failed[0]!, /written by an operation that failed/);
  });
});

describe("lease checker", () => {
  const rec = (id: string, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
    id,
    key: `lease/${id}`,
    ttl: 5,
    fate: "keep",
    granted: 0,
    put: "ok",
    ...over,
  });

  test("kept leases alive with their keys; nothing left at the end", () => {
    const a = rec("a");
    const r = checkLeases(
      [a, rec("b", { fate: "revoke", revoke: "ok", keyAfterRevoke: "absent" })],
      new Map([[a, { key: true, ttl: 4 }]]),
      new Set(),
    );
    assert.deepEqual(r.problems, []);
    assert.equal(r.revoked, 1);
  });

  test("finds a kept lease gone, a key surviving its revoke, keys left over", () => {
    const a = rec("a");
    const b = rec("b");
    const lost = rec("l", { lost: "expired" });
    const r = checkLeases(
      [a, b, lost, rec("c", { fate: "revoke", revoke: "ok", keyAfterRevoke: "present" })],
      new Map([
        [a, { key: false, ttl: 4 }],
        [b, { key: true, ttl: -1 }],
        [lost, { key: false, ttl: -1 }],
      ]),
      new Set(["lease/d"]),
    );
    const text = r.problems.join("\n");
    assert.match(text, /kept lease a .* lost its key/);
    assert.match(text, /kept lease b .* is gone after healing/);
    assert.doesNotMatch(text, /lease l/, "a lease reported lost carries no claim");
    assert.match(text, /lease c: its key lease\/c was still there right after the revoke/);
    assert.match(text, /1 key\(s\) of expired or revoked leases still present at the end: lease\/d/);
  });
});

describe("availability", () => {
  test("splits operations by fault windows and finds the longest write gap", () => {
    const ops = [
      { call: 0, ret: 1, status: "ok" as const, write: true },
      { call: 10, ret: 11, status: "fail" as const, write: true },
      { call: 12, ret: 13, status: "ok" as const, write: false },
      { call: 30, ret: 31, status: "ok" as const, write: true },
    ];
    const a = availability(
      ops,
      [{ kind: "kill", holdMs: 5, detail: "", start: 5, healed: 10, recovered: 15 }],
      0,
      40,
    );
    assert.equal(a.duringFaults.attempted, 2);
    assert.equal(a.duringFaults.ok, 1);
    assert.equal(a.outsideFaults.attempted, 2);
    assert.equal(a.longestWriteGapMs, 30);
    assert.equal(a.longestWriteGapAt, 1);
  });
});
