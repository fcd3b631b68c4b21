// The v2 keys store on a real backend: etcd's semantics for set/create/update/compare-and-swap/delete,
// directory listings (hidden names left out), the event history and one-shot watches, persistence across
// a reopen, and pending watches surviving the replacement of the backend (a database snapshot).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Request } from "../../src/api/gen/etcdserverpb/etcdserver.js";
import { Backend } from "../../src/backend/backend.js";
import { Bucket } from "../../src/backend/buckets.js";
import {
  HISTORY,
  type V2ApplyResult,
  type V2Event,
  V2Store,
  v2StoreFor,
  WatcherHub,
} from "../../src/server/v2store/index.js";

const root = mkdtempSync(join(tmpdir(), "etcd-ts-v2store-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const dbPath = () => join(root, `m${seq++}`, "db");

function req(Method: string, Path: string, extra: Partial<Request> = {}): Request {
  return {
    ID: 0n,
    Method,
    Path,
    Val: "",
    Dir: false,
    PrevValue: "",
    PrevIndex: 0n,
    PrevExist: undefined,
    Expiration: 0n,
    Wait: false,
    Since: 0n,
    Recursive: false,
    Sorted: false,
    Quorum: false,
    Time: 0n,
    Stream: false,
    Refresh: undefined,
    ...extra,
  };
}

function ok(r: V2ApplyResult): V2Event {
  if (!r.ok) throw new Error(`unexpected error ${JSON.stringify(r.error.toJSON())}`);
  return r.applied.event;
}

function err(r: V2ApplyResult): object {
  assert.equal(r.ok, false, "expected an error");
  return (r as { error: { toJSON(): object } }).error.toJSON();
}

function open(): { be: Backend; st: V2Store } {
  const be = Backend.open(dbPath());
  return { be, st: new V2Store(be, new WatcherHub()) };
}

test("set, create, update, compare-and-swap: etcd's actions, indexes and errors", () => {
  const { be, st } = open();
  try {
    const put = (p: string, extra: Partial<Request> = {}) => st.apply(req("PUT", p, extra));
    assert.deepEqual(ok(put("/foo", { Val: "bar" })), {
      action: "set",
      node: { key: "/foo", value: "bar", modifiedIndex: 1, createdIndex: 1 },
    });
    assert.deepEqual(ok(put("/foo", { Val: "baz" })), {
      action: "set",
      node: { key: "/foo", value: "baz", modifiedIndex: 2, createdIndex: 2 },
      prevNode: { key: "/foo", value: "bar", modifiedIndex: 1, createdIndex: 1 },
    });
    assert.deepEqual(err(put("/foo", { Val: "x", PrevExist: false })), {
      errorCode: 105,
      message: "Key already exists",
      cause: "/foo",
      index: 2,
    });
    assert.deepEqual(ok(put("/foo", { Val: "y", PrevExist: true })).node, {
      key: "/foo",
      value: "y",
      modifiedIndex: 3,
      createdIndex: 2,
    });
    assert.deepEqual(err(put("/nope", { Val: "y", PrevExist: true })), {
      errorCode: 100,
      message: "Key not found",
      cause: "/nope",
      index: 3,
    });
    assert.deepEqual(err(put("/foo", { Val: "z", PrevValue: "q", PrevIndex: 1n })), {
      errorCode: 101,
      message: "Compare failed",
      cause: "[q != y] [1 != 3]",
      index: 3,
    });
    assert.equal(ok(put("/foo", { Val: "z", PrevValue: "y" })).action, "compareAndSwap");
    assert.deepEqual(err(put("/foo/bar", { Val: "1" })), {
      errorCode: 104,
      message: "Not a directory",
      cause: "/foo",
      index: 4,
    });
    assert.deepEqual(err(put("/", { Val: "1" })), {
      errorCode: 107,
      message: "Root is read only",
      cause: "/",
      index: 4,
    });
    // In-order creation names the key after the next index, zero-padded to 20 digits.
    assert.equal(ok(st.apply(req("POST", "/q", { Val: "a" }))).node.key, "/q/00000000000000000005");
    assert.equal(st.index(), 5);
  } finally {
    be.close();
  }
});

test("directories: implicit creation, listings without hidden names, delete rules", () => {
  const { be, st } = open();
  try {
    ok(st.apply(req("PUT", "/d/_config/size", { Val: "3" })));
    ok(st.apply(req("PUT", "/d/a", { Val: "1", PrevExist: false })));
    ok(st.apply(req("PUT", "/d/sub", { Dir: true })));
    ok(st.apply(req("PUT", "/d/sub/x", { Val: "xx" })));
    assert.deepEqual(st.get("/d", false).event.node, {
      key: "/d",
      dir: true,
      nodes: [
        { key: "/d/a", value: "1", modifiedIndex: 2, createdIndex: 2 },
        { key: "/d/sub", dir: true, modifiedIndex: 3, createdIndex: 3 },
      ],
      modifiedIndex: 1,
      createdIndex: 1,
    });
    assert.deepEqual(st.get("/d/sub", true).event.node.nodes, [
      { key: "/d/sub/x", value: "xx", modifiedIndex: 4, createdIndex: 4 },
    ]);
    assert.equal(st.get("/d/_config/size", false).event.node.value, "3");
    assert.deepEqual(st.get("/", false).event.node, {
      dir: true,
      nodes: [{ key: "/d", dir: true, modifiedIndex: 1, createdIndex: 1 }],
    });
    assert.throws(() => st.get("/d/zz/y", false), /Key not found \(\/d\/zz\)/);
    assert.equal((err(st.apply(req("DELETE", "/d"))) as { errorCode: number }).errorCode, 102);
    assert.equal((err(st.apply(req("DELETE", "/d", { Dir: true }))) as { errorCode: number }).errorCode, 108);
    assert.deepEqual(ok(st.apply(req("DELETE", "/d", { Recursive: true }))), {
      action: "delete",
      node: { key: "/d", dir: true, modifiedIndex: 5, createdIndex: 1 },
      prevNode: { key: "/d", dir: true, modifiedIndex: 1, createdIndex: 1 },
    });
    assert.deepEqual(st.get("/", true).event.node, { dir: true });
    assert.equal(
      be
        .readTx()
        .range(Bucket.v2store)
        .filter(([k]) => Buffer.from(k).toString()[0] === "n").length,
      0,
      "no node left in the bucket",
    );
  } finally {
    be.close();
  }
});

test("watches: from the history, waiting for the next change, recursive, hidden, deleted parents", () => {
  const { be, st } = open();
  try {
    ok(st.apply(req("PUT", "/r/_config/size", { Val: "3" })));
    ok(st.apply(req("PUT", "/r/m1", { Val: "a" })));
    const got: V2Event[] = [];
    const on = { deliver: (e: V2Event) => got.push(e), fail: (e: Error) => assert.fail(e.message) };
    // From the history: the first wanted event at or after the index.
    const past = st.watch("/r", true, 2, on);
    assert.ok("event" in past && past.event.node.key === "/r/m1");
    // Waiting: a hidden change does not answer a recursive watch above it; the next member does.
    const w = st.watch("/r", true, 0, on);
    assert.ok("pending" in w);
    ok(st.apply(req("PUT", "/r/_config/other", { Val: "x" })));
    assert.equal(got.length, 0);
    ok(st.apply(req("PUT", "/r/m2", { Val: "b" })));
    assert.deepEqual(
      got.map((e) => e.node.key),
      ["/r/m2"],
    );
    // One-shot: the same watch is not called again.
    ok(st.apply(req("PUT", "/r/m3", { Val: "c" })));
    assert.equal(got.length, 1);
    // A watch of a key is answered when a directory above it is deleted.
    st.watch("/r/m3", false, 0, on);
    ok(st.apply(req("DELETE", "/r", { Recursive: true })));
    assert.equal(got.at(-1)?.action, "delete");
    assert.equal(got.at(-1)?.node.key, "/r");
    assert.equal(st.hub.size, 0);
  } finally {
    be.close();
  }
});

test("the history keeps the last HISTORY events; older watches are refused as etcd does", () => {
  const { be, st } = open();
  try {
    for (let i = 0; i < HISTORY + 5; i++) ok(st.apply(req("PUT", "/k", { Val: String(i) })));
    assert.throws(
      () => st.watch("/k", false, 3, { deliver() {}, fail() {} }),
      (e: { toJSON(): object }) => {
        assert.deepEqual(e.toJSON(), {
          errorCode: 401,
          message: "The event in requested index is outdated and cleared",
          cause: `the requested history has been cleared [6/3]`,
          index: HISTORY + 5,
        });
        return true;
      },
    );
    const r = st.watch("/k", false, 6, { deliver() {}, fail() {} });
    assert.ok("event" in r && r.event.node.value === "5");
    const events = be
      .readTx()
      .range(Bucket.v2store)
      .filter(([k]) => Buffer.from(k).toString()[0] === "e");
    assert.equal(events.length, HISTORY);
  } finally {
    be.close();
  }
});

test("the store survives a reopen; a pending watch follows a replaced backend and sees missed changes", () => {
  const path = dbPath();
  const be1 = Backend.open(path);
  const st1 = v2StoreFor(be1);
  ok(st1.apply(req("PUT", "/a/b", { Val: "1" })));
  const got: V2Event[] = [];
  const w = st1.watch("/a", true, 0, { deliver: (e) => got.push(e), fail: (e) => assert.fail(e.message) });
  assert.ok("pending" in w);
  be1.forceCommit();
  be1.close();
  // Another member's database (here: the same file changed behind the store's back) replaces it.
  const other = Backend.open(path);
  ok(new V2Store(other, new WatcherHub()).apply(req("PUT", "/a/c", { Val: "2" })));
  other.close();
  const be2 = Backend.open(path);
  try {
    const st2 = v2StoreFor(be2);
    assert.notEqual(st2, st1);
    assert.equal(st2.index(), 2);
    assert.equal(st2.get("/a/b", false).event.node.value, "1");
    assert.deepEqual(
      got.map((e) => e.node.key),
      ["/a/c"],
    );
    assert.equal(v2StoreFor(be2), st2);
  } finally {
    be2.close();
  }
});
