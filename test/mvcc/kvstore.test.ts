import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { Bucket, MetaKey } from "../../src/backend/buckets.js";
import {
  CompactedError,
  DuplicateKeyError,
  EmptyKeyError,
  FutureRevError,
  KeyNotFoundError,
  LeaseNotFoundError,
  LeaseProvidedError,
  TooManyOpsError,
  TxnInProgressError,
  ValueProvidedError,
} from "../../src/mvcc/errors.js";
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type RequestOp,
  SortOrder,
  SortTarget,
} from "../../src/mvcc/requests.js";
import { bytesToRev, isTombstoneKey } from "../../src/mvcc/revision.js";
import { type Event, EventType } from "../../src/mvcc/types.js";
import { b, FakeLessor, fmt, str, TestStore } from "./helpers.js";

const put = (key: string, value = "", extra: object = {}): RequestOp => ({
  requestPut: { key: b(key), value: b(value), ...extra },
});
const del = (key: string, rangeEnd?: string): RequestOp => ({
  requestDeleteRange: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) },
});
const get = (key: string, rangeEnd?: string): RequestOp => ({
  requestRange: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) },
});
const cmp = (key: string, target: CompareTarget, result: CompareResult, v: Partial<Compare>): Compare => ({
  key: b(key),
  target,
  result,
  ...v,
});

/** Revisions stored in the key bucket, as "main.sub" (+"t"). */
function backendRevs(t: TestStore): string[] {
  return t.backend
    .readTx()
    .range(Bucket.key)
    .map(([k]) => {
      const r = bytesToRev(k);
      return `${r.main}.${r.sub}${isTombstoneKey(k) ? "t" : ""}`;
    });
}

describe("KVStore revisions", () => {
  test("start at 1; puts, overwrites, deletes and re-creation", () => {
    const t = new TestStore();
    const kv = t.kv;
    try {
      assert.equal(kv.rev(), 1);
      assert.deepEqual(kv.put({ key: b("foo"), value: b("bar") }).header, { revision: 2 });
      kv.put({ key: b("foo"), value: b("baz") });
      assert.deepEqual(kv.range(b("foo")).kvs.map(fmt), ["foo=baz c2 m3 v2"]);
      assert.deepEqual(kv.range(b("foo"), undefined, { rev: 2 }).kvs.map(fmt), ["foo=bar c2 m2 v1"]);
      const d = kv.deleteRange({ key: b("foo") });
      assert.deepEqual(d, { header: { revision: 4 }, deleted: 1, prevKvs: [] });
      assert.deepEqual(kv.range(b("foo")), { kvs: [], count: 0, rev: 4 });
      // Deleting nothing uses no revision.
      assert.deepEqual(kv.deleteRange({ key: b("foo") }), {
        header: { revision: 4 },
        deleted: 0,
        prevKvs: [],
      });
      kv.put({ key: b("foo"), value: b("again") });
      assert.deepEqual(kv.range(b("foo")).kvs.map(fmt), ["foo=again c5 m5 v1"]);
      assert.deepEqual(kv.range(b("foo"), undefined, { rev: 3 }).kvs.map(fmt), ["foo=baz c2 m3 v2"]);
      assert.equal(kv.range(b("foo"), undefined, { rev: 4 }).count, 0);
      assert.throws(() => kv.range(b("foo"), undefined, { rev: 6 }), FutureRevError);
      assert.throws(() => kv.put({ key: b("") }), EmptyKeyError);
      assert.throws(() => kv.rangeRequest({ key: b("") }), EmptyKeyError);
      assert.throws(() => kv.deleteRange({ key: new Uint8Array(0) }), EmptyKeyError);
    } finally {
      t.close();
    }
  });

  test("write(): the low-level transaction; one at a time", () => {
    const t = new TestStore();
    const kv = t.kv;
    try {
      const w = kv.write();
      assert.throws(() => kv.write(), TxnInProgressError);
      w.put(b("a"), b("1"));
      w.put(b("b"), b("2"));
      assert.equal(w.rev(), 2);
      assert.deepEqual(w.range(b("a"), b("c")).kvs.map(fmt), ["a=1 c2 m2 v1", "b=2 c2 m2 v1"]);
      assert.equal(kv.range(b("a"), b("c")).count, 0, "outside the txn the store is still at rev 1");
      assert.equal(w.deleteRange(b("a")), 1);
      assert.equal(w.end(), 2);
      assert.equal(kv.rev(), 2);
      assert.deepEqual(backendRevs(t), ["2.0", "2.1", "2.2t"]);
      assert.throws(() => w.put(b("x"), b("y")), /ended/);
      kv.write().end();
      assert.equal(kv.rev(), 2, "an empty transaction uses no revision");
    } finally {
      t.close();
    }
  });
});

describe("KVStore range", () => {
  const keys = ["a", "a/1", "a/2", "a/3", "b", "c", "\xff", "\xff\x00"];
  function store(): TestStore {
    const t = new TestStore();
    // a: 2 (v1), a/1: 3, a/2: 4, a/3: 5, b: 6, c: 7, \xff: 8, \xff\0: 9, then a/2 again: 10 (v2), c: 11 (v2).
    for (const k of keys) t.kv.put({ key: b(k), value: b(`v-${k}`) });
    t.kv.put({ key: b("a/2"), value: b("zz") });
    t.kv.put({ key: b("c"), value: b("0") });
    return t;
  }
  const names = (kvs: { key: Uint8Array }[]): string[] => kvs.map((kv) => str(kv.key));

  test("single key, prefix, from-key, all keys, empty and inverted ranges", () => {
    const t = store();
    const kv = t.kv;
    try {
      const r = (key: string, end?: string | Uint8Array) =>
        names(kv.range(b(key), typeof end === "string" ? b(end) : end).kvs);
      assert.deepEqual(r("a/2"), ["a/2"]);
      assert.deepEqual(r("a/"), []);
      assert.deepEqual(r("a/", "a0"), ["a/1", "a/2", "a/3"]);
      assert.deepEqual(r("b", Uint8Array.of(0)), ["b", "c", "\xff", "\xff\x00"]);
      assert.deepEqual(r("\0", Uint8Array.of(0)), keys);
      assert.deepEqual(r("\xff", "\xff\x00"), ["\xff"]);
      assert.deepEqual(r("c", "b"), []);
      assert.deepEqual(r("b", "b"), []);
      assert.deepEqual(r("a", new Uint8Array(0)), ["a"]);
    } finally {
      t.close();
    }
  });

  test("limit, more and count; count_only; keys_only; revision", () => {
    const t = store();
    const kv = t.kv;
    try {
      const all = { key: b("\0"), rangeEnd: Uint8Array.of(0) };
      let r = kv.rangeRequest({ ...all, limit: 3 });
      assert.deepEqual(names(r.kvs), ["a", "a/1", "a/2"]);
      assert.equal(r.more, true);
      assert.equal(r.count, 8);
      assert.equal(r.header.revision, 11);
      r = kv.rangeRequest({ ...all, limit: 8 });
      assert.equal(r.more, false);
      assert.equal(r.kvs.length, 8);
      r = kv.rangeRequest({ ...all, countOnly: true });
      assert.deepEqual([r.kvs.length, r.count, r.more], [0, 8, false]);
      r = kv.rangeRequest({ key: b("a/2"), countOnly: true });
      assert.deepEqual([r.kvs.length, r.count], [0, 1]);
      r = kv.rangeRequest({ ...all, keysOnly: true, limit: 1 });
      assert.deepEqual(r.kvs.map(fmt), ["a= c2 m2 v1"]);
      r = kv.rangeRequest({ ...all, revision: 4 });
      assert.deepEqual(names(r.kvs), ["a", "a/1", "a/2"]);
      assert.equal(r.count, 3);
      assert.equal(r.header.revision, 11, "the header carries the current revision");
      assert.throws(() => kv.rangeRequest({ ...all, revision: 12 }), FutureRevError);
    } finally {
      t.close();
    }
  });

  test("sort orders and targets, min/max filters", () => {
    const t = store();
    const kv = t.kv;
    try {
      const all = { key: b("a"), rangeEnd: b("d") };
      const q = (o: object) => names(kv.rangeRequest({ ...all, ...o }).kvs);
      assert.deepEqual(q({ sortOrder: SortOrder.DESCEND }), ["c", "b", "a/3", "a/2", "a/1", "a"]);
      assert.deepEqual(q({ sortOrder: SortOrder.ASCEND, sortTarget: SortTarget.KEY }), [
        "a",
        "a/1",
        "a/2",
        "a/3",
        "b",
        "c",
      ]);
      // Target without order sorts ascending; ties keep key order.
      assert.deepEqual(q({ sortTarget: SortTarget.MOD }), ["a", "a/1", "a/3", "b", "a/2", "c"]);
      assert.deepEqual(q({ sortTarget: SortTarget.VERSION, sortOrder: SortOrder.DESCEND }), [
        "a/2",
        "c",
        "a",
        "a/1",
        "a/3",
        "b",
      ]);
      assert.deepEqual(q({ sortTarget: SortTarget.CREATE, sortOrder: SortOrder.DESCEND, limit: 2 }), [
        "c",
        "b",
      ]);
      assert.deepEqual(q({ sortTarget: SortTarget.VALUE }), ["c", "a", "a/1", "a/3", "b", "a/2"]);
      assert.deepEqual(q({ minModRevision: 5, maxModRevision: 10 }), ["a/2", "a/3", "b"]);
      assert.deepEqual(q({ minCreateRevision: 4, maxCreateRevision: 6 }), ["a/2", "a/3", "b"]);
      const r = kv.rangeRequest({ ...all, minModRevision: 5, limit: 2 });
      assert.deepEqual([names(r.kvs), r.more, r.count], [["a/2", "a/3"], true, 6]);
    } finally {
      t.close();
    }
  });
});

describe("KVStore put and delete options", () => {
  test("prev_kv, ignore_value, ignore_lease and their errors", () => {
    const lessor = new FakeLessor(7n, 8n);
    const t = new TestStore(undefined, {}, { lessor });
    const kv = t.kv;
    try {
      assert.equal(kv.put({ key: b("k"), value: b("v1"), prevKv: true }).prevKv, undefined);
      assert.deepEqual(kv.put({ key: b("k"), value: b("v2"), lease: 7n, prevKv: true }).prevKv, {
        key: b("k"),
        value: b("v1"),
        createRevision: 2,
        modRevision: 2,
        version: 1,
        lease: 0n,
      });
      kv.put({ key: b("k"), ignoreValue: true, lease: 8n });
      assert.deepEqual(kv.range(b("k")).kvs.map(fmt), ["k=v2 c2 m4 v3 l8"]);
      kv.put({ key: b("k"), value: b("v3"), ignoreLease: true });
      assert.deepEqual(kv.range(b("k")).kvs.map(fmt), ["k=v3 c2 m5 v4 l8"]);
      const rev = kv.rev();
      assert.throws(() => kv.put({ key: b("nope"), ignoreValue: true }), KeyNotFoundError);
      assert.throws(() => kv.put({ key: b("nope"), ignoreLease: true }), KeyNotFoundError);
      assert.throws(() => kv.put({ key: b("k"), ignoreValue: true, value: b("x") }), ValueProvidedError);
      assert.throws(() => kv.put({ key: b("k"), ignoreLease: true, lease: 7n }), LeaseProvidedError);
      assert.throws(() => kv.put({ key: b("k"), value: b("x"), lease: 99n }), LeaseNotFoundError);
      assert.equal(kv.rev(), rev, "failed puts write nothing");
      const d = kv.deleteRange({ key: b("k"), prevKv: true });
      assert.deepEqual(d.prevKvs.map(fmt), ["k=v3 c2 m5 v4 l8"]);
    } finally {
      t.close();
    }
  });

  test("leases: attach on put, detach on overwrite and delete, re-attach on restart", () => {
    const lessor = new FakeLessor(1n, 2n);
    const t = new TestStore(undefined, {}, { lessor });
    try {
      t.kv.put({ key: b("a"), value: b("x"), lease: 1n });
      t.kv.put({ key: b("b"), value: b("x"), lease: 1n });
      t.kv.put({ key: b("c"), value: b("x"), lease: 2n });
      assert.deepEqual(lessor.keys(1n), ["a", "b"]);
      t.kv.put({ key: b("a"), value: b("y") }); // no lease now
      t.kv.put({ key: b("c"), value: b("y"), lease: 1n }); // moves to lease 1
      assert.deepEqual([lessor.keys(1n), lessor.keys(2n)], [["b", "c"], []]);
      t.kv.deleteRange({ key: b("b") });
      assert.deepEqual(lessor.keys(1n), ["c"]);
      const fresh = new FakeLessor(1n, 2n);
      t.restart({ lessor: fresh });
      assert.deepEqual([fresh.keys(1n), fresh.keys(2n)], [["c"], []]);
      assert.deepEqual(t.kv.range(b("c")).kvs.map(fmt), ["c=y c4 m6 v2 l1"]);
    } finally {
      t.close();
    }
  });

  test("delete range with prefix and from-key, prev_kv", () => {
    const t = new TestStore();
    const kv = t.kv;
    try {
      for (const k of ["a", "a/1", "a/2", "b", "c"]) kv.put({ key: b(k), value: b(k) });
      const d = kv.deleteRange({ key: b("a/"), rangeEnd: b("a0"), prevKv: true });
      assert.deepEqual(
        [d.deleted, d.prevKvs.map((x) => str(x.key)), d.header.revision],
        [2, ["a/1", "a/2"], 7],
      );
      assert.deepEqual(backendRevs(t).slice(-2), ["7.0t", "7.1t"]);
      assert.equal(kv.deleteRange({ key: b("b"), rangeEnd: Uint8Array.of(0) }).deleted, 2);
      assert.deepEqual(
        kv.range(b("\0"), Uint8Array.of(0)).kvs.map((x) => str(x.key)),
        ["a"],
      );
    } finally {
      t.close();
    }
  });
});

describe("KVStore txn", () => {
  test("compares on every target, with ranges; both branches; one revision for all ops", () => {
    const lessor = new FakeLessor(5n);
    const t = new TestStore(undefined, {}, { lessor });
    const kv = t.kv;
    try {
      kv.put({ key: b("k1"), value: b("abc") }); // 2
      kv.put({ key: b("k2"), value: b("abd"), lease: 5n }); // 3
      kv.put({ key: b("k2"), value: b("abd"), lease: 5n }); // 4
      const E = CompareResult.EQUAL;
      const G = CompareResult.GREATER;
      const L = CompareResult.LESS;
      const N = CompareResult.NOT_EQUAL;
      const holds = (c: Compare): boolean => kv.txn({ compare: [c] }).succeeded;
      assert.ok(holds(cmp("k1", CompareTarget.VERSION, E, { version: 1 })));
      assert.ok(holds(cmp("k2", CompareTarget.VERSION, G, { version: 1 })));
      assert.ok(holds(cmp("k1", CompareTarget.CREATE, E, { createRevision: 2 })));
      assert.ok(holds(cmp("k2", CompareTarget.MOD, E, { modRevision: 4 })));
      assert.ok(holds(cmp("k1", CompareTarget.VALUE, L, { value: b("abd") })));
      assert.ok(holds(cmp("k1", CompareTarget.VALUE, N, { value: b("ab") })));
      assert.ok(holds(cmp("k2", CompareTarget.LEASE, E, { lease: 5n })));
      assert.ok(holds(cmp("k1", CompareTarget.LEASE, E, {})));
      // A missing key compares as zero, except on value, which always fails.
      assert.ok(holds(cmp("zz", CompareTarget.VERSION, E, { version: 0 })));
      assert.ok(holds(cmp("zz", CompareTarget.CREATE, E, {})));
      assert.ok(!holds(cmp("zz", CompareTarget.VALUE, E, { value: b("") })));
      assert.ok(!holds(cmp("zz", CompareTarget.VALUE, N, { value: b("x") })));
      // With a range end, every key in the range must satisfy it.
      assert.ok(holds(cmp("k", CompareTarget.VALUE, G, { rangeEnd: b("l"), value: b("abb") })));
      assert.ok(!holds(cmp("k", CompareTarget.VALUE, G, { rangeEnd: b("l"), value: b("abc") })));
      assert.ok(holds(cmp("k", CompareTarget.MOD, G, { rangeEnd: Uint8Array.of(0), modRevision: 1 })));
      assert.equal(kv.rev(), 4, "read-only txns use no revision");

      const r = kv.txn({
        compare: [cmp("k1", CompareTarget.VALUE, E, { value: b("abc") })],
        success: [put("k3", "new"), get("k", "l"), del("k1"), put("k4", "x", { prevKv: true })],
        failure: [put("never", "x")],
      });
      assert.equal(r.succeeded, true);
      assert.equal(r.header.revision, 5);
      assert.equal(kv.rev(), 5);
      const rr = r.responses[1];
      assert.ok("responseRange" in rr);
      assert.deepEqual(rr.responseRange.kvs.map(fmt), [
        "k1=abc c2 m2 v1",
        "k2=abd c3 m4 v2 l5",
        "k3=new c5 m5 v1",
      ]);
      const rd = r.responses[2];
      assert.ok("responseDeleteRange" in rd && rd.responseDeleteRange.deleted === 1);
      assert.deepEqual(backendRevs(t).slice(-3), ["5.0", "5.1t", "5.2"]);
      const f = kv.txn({
        compare: [cmp("k1", CompareTarget.VERSION, G, { version: 0 })],
        success: [put("never", "x")],
        failure: [put("else", "y")],
      });
      assert.equal(f.succeeded, false);
      assert.deepEqual(kv.range(b("else")).kvs.map(fmt), ["else=y c6 m6 v1"]);
      assert.equal(kv.range(b("never")).count, 0);
    } finally {
      t.close();
    }
  });

  test("nested txns: conditions are read before any write; responses nest", () => {
    const t = new TestStore();
    const kv = t.kv;
    try {
      kv.put({ key: b("a"), value: b("1") });
      const r = kv.txn({
        success: [
          put("a", "2"),
          {
            requestTxn: {
              // Evaluated before the outer put: sees a=1.
              compare: [cmp("a", CompareTarget.VALUE, CompareResult.EQUAL, { value: b("1") })],
              success: [put("saw-old", "yes"), get("a")],
              failure: [put("saw-new", "yes")],
            },
          },
          {
            requestTxn: {
              compare: [cmp("zz", CompareTarget.VERSION, CompareResult.GREATER, {})],
              failure: [get("a")],
            },
          },
        ],
      });
      assert.equal(r.succeeded, true);
      const [p, n1, n2] = r.responses;
      assert.ok("responsePut" in p);
      assert.ok("responseTxn" in n1 && "responseTxn" in n2);
      assert.equal(n1.responseTxn.succeeded, true);
      const inner = n1.responseTxn.responses[1];
      assert.ok("responseRange" in inner);
      assert.deepEqual(inner.responseRange.kvs.map(fmt), ["a=2 c2 m3 v2"], "ops see earlier writes");
      assert.equal(n2.responseTxn.succeeded, false);
      assert.equal(kv.range(b("saw-old")).count, 1);
      assert.equal(kv.range(b("saw-new")).count, 0);
      assert.equal(kv.rev(), 3);
    } finally {
      t.close();
    }
  });

  test("validation: duplicate keys, too many ops, empty keys; a failing check writes nothing", () => {
    const t = new TestStore(undefined, {}, { maxTxnOps: 4 });
    const kv = t.kv;
    try {
      kv.put({ key: b("exists"), value: b("1") });
      const rev = kv.rev();
      const dup = (success: RequestOp[], failure: RequestOp[] = []) =>
        assert.throws(() => kv.txn({ success, failure }), DuplicateKeyError);
      dup([put("a"), put("a")]);
      dup([put("a/x"), del("a/", "a0")]);
      dup([del("a", "\0"), put("b")]); // from-key delete covers b
      dup([put("a"), { requestTxn: { success: [put("a")] } }]);
      dup([del("a"), { requestTxn: { failure: [put("a")] } }]);
      dup([{ requestTxn: { success: [put("a")] } }, { requestTxn: { failure: [put("a")] } }]);
      // A later nested txn deleting what an earlier one put (etcd lets this one through).
      dup([{ requestTxn: { success: [put("a")] } }, { requestTxn: { success: [del("a")] } }]);
      dup([{ requestTxn: { failure: [put("a/1")] } }, { requestTxn: { failure: [del("a/", "a0")] } }]);
      // Mutually exclusive branches may put the same key; deletes may overlap deletes.
      kv.txn({ success: [{ requestTxn: { success: [put("a", "1")], failure: [put("a", "2")] } }] });
      kv.txn({ success: [del("a"), del("\0", "\0")] });
      // The two top-level branches are separate paths.
      kv.txn({ success: [put("b")], failure: [put("b")] });
      assert.throws(
        () => kv.txn({ success: [put("1"), put("2"), put("3"), put("4"), put("5")] }),
        TooManyOpsError,
      );
      assert.throws(
        () => kv.txn({ compare: [cmp("", CompareTarget.VERSION, CompareResult.EQUAL, {})] }),
        EmptyKeyError,
      );
      assert.throws(() => kv.txn({ success: [get("")] }), EmptyKeyError);
      assert.throws(
        () => kv.txn({ success: [{ requestTxn: { success: [put("x", "y", { ignoreValue: true })] } }] }),
        ValueProvidedError,
      );
      const before = kv.rev();
      assert.ok(before > rev);
      // Checks of the chosen path fail the whole txn before any write.
      assert.throws(
        () => kv.txn({ success: [put("first", "1"), put("missing", "", { ignoreValue: true })] }),
        KeyNotFoundError,
      );
      assert.throws(
        () => kv.txn({ success: [put("first", "1"), put("l", "", { lease: 3n })] }),
        LeaseNotFoundError,
      );
      assert.throws(
        () =>
          kv.txn({ success: [put("first", "1"), { requestRange: { key: b("a"), revision: before + 5 } }] }),
        FutureRevError,
      );
      assert.equal(kv.rev(), before);
      assert.equal(kv.range(b("first")).count, 0);
      // ...but only on the path taken.
      kv.txn({ success: [put("ok", "1")], failure: [put("missing", "", { ignoreValue: true })] });
      assert.equal(kv.range(b("ok")).count, 1);
    } finally {
      t.close();
    }
  });
});

describe("KVStore compaction", () => {
  test("errors, reads around the compaction revision, physical deletion, restart", async () => {
    const t = new TestStore();
    let kv = t.kv;
    try {
      kv.put({ key: b("a"), value: b("1") }); // 2
      kv.put({ key: b("a"), value: b("2") }); // 3
      kv.put({ key: b("b"), value: b("1") }); // 4
      kv.deleteRange({ key: b("b") }); // 5
      kv.put({ key: b("a"), value: b("3") }); // 6
      assert.throws(() => kv.compact(7), FutureRevError);
      const c = kv.compact(5);
      assert.deepEqual(c.header, { revision: 6 });
      assert.throws(() => kv.compact(5), CompactedError);
      assert.throws(() => kv.compact(4), CompactedError);
      assert.throws(() => kv.range(b("a"), undefined, { rev: 4 }), CompactedError);
      assert.throws(() => kv.rangeRequest({ key: b("a"), revision: 4 }), CompactedError);
      assert.deepEqual(kv.range(b("a"), undefined, { rev: 5 }).kvs.map(fmt), ["a=2 c2 m3 v2"]);
      assert.equal(kv.range(b("b"), undefined, { rev: 5 }).count, 0);
      await c.done;
      assert.deepEqual(backendRevs(t), ["3.0", "6.0"]);
      kv.compact(6);
      await kv.compactionDone();
      assert.deepEqual(backendRevs(t), ["6.0"]);
      kv = t.restart();
      assert.equal(kv.rev(), 6);
      assert.equal(kv.compactRev(), 6);
      assert.deepEqual(kv.range(b("a")).kvs.map(fmt), ["a=3 c2 m6 v3"]);
      kv.put({ key: b("a"), value: b("4") });
      assert.deepEqual(kv.range(b("a")).kvs.map(fmt), ["a=4 c2 m7 v4"]);
      // Compacting away everything keeps the revision.
      kv.deleteRange({ key: b("a") });
      kv.compact(kv.rev());
      await kv.compactionDone();
      assert.deepEqual(backendRevs(t), []);
      kv = t.restart();
      assert.equal(kv.rev(), 8);
      assert.equal(kv.compactRev(), 8);
      assert.deepEqual(kv.put({ key: b("z") }).header, { revision: 9 });
    } finally {
      t.close();
    }
  });

  test("an interrupted physical compaction resumes on restart, and HashKV does not depend on it", async () => {
    const mk = () => new TestStore(undefined, {}, { compactionBatchLimit: 3, compactionSleepMs: 60_000 });
    const done = mk();
    const interrupted = mk();
    try {
      for (const t of [done, interrupted]) {
        for (let i = 0; i < 20; i++) {
          t.kv.put({ key: b(`k${i % 7}`), value: b(`v${i}`) });
          if (i % 5 === 4) t.kv.deleteRange({ key: b(`k${i % 7}`) });
        }
      }
      const compactAt = done.kv.rev() - 3;
      const hashBefore = done.kv.hashKV().hash;
      assert.equal(interrupted.kv.hashKV().hash, hashBefore);

      // `done` runs its compaction to the end (no sleeping: a fresh store over the same file).
      done.kv.compact(compactAt);
      done.restart({ compactionBatchLimit: 3 });
      await done.kv.compactionDone();
      const finished = done.backend.batchTx.get(Bucket.meta, MetaKey.finishedCompactRev);
      assert.equal(bytesToRev(finished!).main, compactAt);

      // `interrupted` deletes one batch of 3, then sleeps: HashKV already agrees.
      const before = backendRevs(interrupted).length;
      interrupted.kv.compact(compactAt);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      assert.equal(backendRevs(interrupted).length, before - 3, "one batch deleted");
      assert.equal(interrupted.kv.hashKV().hash, done.kv.hashKV().hash);
      assert.equal(interrupted.kv.hashKV(compactAt).hash, done.kv.hashKV(compactAt).hash);
      assert.throws(() => interrupted.kv.hashKV(compactAt - 1), CompactedError);
      assert.throws(() => interrupted.kv.hashKV(interrupted.kv.rev() + 1), FutureRevError);

      // Restart in the middle: the compaction resumes and finishes.
      interrupted.restart({ compactionBatchLimit: 3 });
      assert.equal(interrupted.kv.compactRev(), compactAt);
      await interrupted.kv.compactionDone();
      assert.deepEqual(backendRevs(interrupted), backendRevs(done));
      assert.equal(interrupted.kv.hash(), done.kv.hash());
      const r = (t: TestStore) => t.kv.range(b("\0"), Uint8Array.of(0), { rev: compactAt }).kvs.map(fmt);
      assert.deepEqual(r(interrupted), r(done));
    } finally {
      done.close();
      interrupted.close();
    }
  });
});

describe("KVStore watch hooks", () => {
  test("the commit listener gets each write transaction's events in order", () => {
    const t = new TestStore();
    const kv = t.kv;
    const seen: [number, string[]][] = [];
    const show = (evs: Event[]) =>
      evs.map((e) => `${e.type === EventType.PUT ? "PUT" : "DEL"} ${str(e.kv.key)} m${e.kv.modRevision}`);
    try {
      kv.setCommitListener((evs, rev) => seen.push([rev, show(evs)]));
      kv.put({ key: b("a"), value: b("1") });
      kv.txn({ success: [put("b", "1"), del("a"), put("c", "1")] });
      kv.deleteRange({ key: b("zz") }); // nothing: no call
      kv.txn({ compare: [], success: [get("a")] }); // read-only: no call
      kv.deleteRange({ key: b("b"), rangeEnd: b("d") });
      assert.deepEqual(seen, [
        [2, ["PUT a m2"]],
        [3, ["PUT b m3", "DEL a m3", "PUT c m3"]],
        [4, ["DEL b m4", "DEL c m4"]],
      ]);
      kv.setCommitListener(undefined);
      kv.put({ key: b("x") });
      assert.equal(seen.length, 3);

      // rangeEvents replays the same history from the backend (revisions inclusive).
      assert.deepEqual(show(kv.rangeEvents(b("\0"), Uint8Array.of(0), 2, 4)), [
        "PUT a m2",
        "PUT b m3",
        "DEL a m3",
        "PUT c m3",
        "DEL b m4",
        "DEL c m4",
      ]);
      assert.deepEqual(show(kv.rangeEvents(b("b"), undefined, 3, 100)), ["PUT b m3", "DEL b m4"]);
      assert.deepEqual(show(kv.rangeEvents(b("a"), b("c"), 3, 3)), ["PUT b m3", "DEL a m3"]);
      assert.deepEqual(kv.rangeEvents(b("a"), undefined, 4, 3), []);
      const full = kv.rangeEvents(b("c"), undefined, 3, 3)[0];
      assert.deepEqual(fmt(full.kv), "c=1 c3 m3 v1");
      kv.compact(3);
      assert.throws(() => kv.rangeEvents(b("a"), undefined, 2, 5), CompactedError);
    } finally {
      t.close();
    }
  });
});

describe("KVStore consistent index", () => {
  test("is stored with the data and read back on open", () => {
    const t = new TestStore();
    try {
      assert.deepEqual([t.kv.consistentIndex(), t.kv.consistentTerm()], [0, 0]);
      t.kv.setConsistentIndex(41, 3);
      t.kv.put({ key: b("k") });
      const kv = t.restart();
      assert.deepEqual([kv.consistentIndex(), kv.consistentTerm()], [41, 3]);
    } finally {
      t.close();
    }
  });

  // A child applies entries (each a txn of 1..3 puts, plus the consistent index, in one synchronous run),
  // yielding between bursts, and is killed with SIGKILL: after restart, every entry up to the consistent
  // index is there exactly once and nothing after it (the store's revision counts the entries).
  test("a restart after a crash neither loses nor re-applies an entry", () => {
    const t = new TestStore();
    t.close();
    const script = join(dirname(t.path), "apply-child.mjs");
    const url = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
    writeFileSync(
      script,
      `import { Backend } from ${url("../../src/backend/backend.js")};
import { KVStore } from ${url("../../src/mvcc/kvstore.js")};
const [path, seedArg, killAtArg] = process.argv.slice(2);
let seed = Number(seedArg);
const rnd = (n) => { seed = (seed * 48271) % 2147483647; return seed % n; };
const backend = Backend.open(path, { batchLimit: 5, batchIntervalMs: 1 });
const kv = new KVStore(backend);
let index = kv.consistentIndex();
for (;;) {
  const burst = 1 + rnd(10);
  for (let j = 0; j < burst; j++) {
    index++;
    const n = 1 + rnd(3);
    const success = [];
    for (let i = 0; i < n; i++) success.push({ requestPut: { key: Buffer.from("e" + index + "-" + i), value: Buffer.from(String(n)) } });
    if (rnd(2)) { kv.setConsistentIndex(index, 1); kv.txn({ success }); }
    else { kv.txn({ success }); kv.setConsistentIndex(index, 1); }
  }
  if (index >= Number(killAtArg)) process.kill(process.pid, "SIGKILL");
  await new Promise((r) => (rnd(2) ? setTimeout(r, rnd(3)) : setImmediate(r)));
}
`,
    );
    let last = 0;
    for (let round = 1; round <= 3; round++) {
      const r = spawnSync(
        process.execPath,
        [script, t.path, String(round * 7919), String(last + 150 * round)],
        {
          encoding: "utf8",
          timeout: 20_000,
        },
      );
      assert.equal(r.signal, "SIGKILL", r.stderr);
      const s = new TestStore(t.path);
      try {
        const ci = s.kv.consistentIndex();
        assert.ok(ci >= last);
        assert.equal(s.kv.rev(), ci + 1, "one revision per applied entry");
        for (let i = 1; i <= ci; i++) {
          const kvs = s.kv.range(b(`e${i}-`), b(`e${i}-\xff`)).kvs;
          assert.ok(kvs.length > 0 && kvs.length === Number(str(kvs[0].value)), `entry ${i} whole`);
        }
        assert.equal(s.kv.range(b(`e${ci + 1}-`), b(`e${ci + 1}-\xff`)).count, 0, "nothing after the index");
        last = ci;
      } finally {
        s.close();
      }
    }
    assert.ok(last > 0);
  });
});
