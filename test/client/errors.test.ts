// Unit tests of the client's pieces that need no server: the typed errors (every entry of the server's
// catalog), the retry policy, byte helpers, endpoint parsing, and the Txn builder's guards.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseEndpoint } from "../../src/client/endpoints.js";
import {
  Compare,
  EtcdAuthError,
  EtcdCompactedError,
  EtcdConnectionError,
  EtcdDeadlineExceededError,
  EtcdError,
  EtcdInvalidAuthTokenError,
  EtcdLeaderChangedError,
  EtcdLeaseNotFoundError,
  EtcdMembershipError,
  EtcdNoLeaderError,
  EtcdRequestTimeoutError,
  EtcdStoppedError,
  EtcdTooManyRequestsError,
  EtcdUnavailableError,
  EtcdUnimplementedError,
  etcdErrorFromMessage,
  isRetryable,
  Op,
  prefixRangeEnd,
  provablyNotExecuted,
  Status,
  shouldFailover,
  Txn,
  toClientError,
} from "../../src/client/index.js";
import { rangeOf } from "../../src/client/requests.js";
import * as cat from "../../src/server/errors.js";

describe("typed errors", () => {
  test("every catalog entry becomes an EtcdError with its text, code and name", () => {
    for (const e of cat.catalog()) {
      const err = toClientError({ code: e.code, details: e.message });
      assert.ok(err instanceof EtcdError, e.name);
      assert.equal(err.message, e.message);
      assert.equal(err.code, e.code);
      assert.equal(err.catalogName, e.name);
      // Every UNAVAILABLE text is transient, whatever its class.
      if (e.code === Status.UNAVAILABLE) assert.ok(err instanceof EtcdUnavailableError, e.name);
    }
  });

  test("the named classes", () => {
    const cls = (m: string) => etcdErrorFromMessage(m)?.constructor;
    assert.equal(cls("etcdserver: mvcc: required revision has been compacted"), EtcdCompactedError);
    assert.equal(cls("etcdserver: requested lease not found"), EtcdLeaseNotFoundError);
    assert.equal(cls("etcdserver: request timed out"), EtcdRequestTimeoutError);
    assert.equal(
      cls("etcdserver: request timed out, possibly due to previous leader failure"),
      EtcdRequestTimeoutError,
    );
    assert.equal(cls("etcdserver: no leader"), EtcdNoLeaderError);
    assert.equal(cls("etcdserver: leader changed"), EtcdLeaderChangedError);
    assert.equal(cls("etcdserver: server stopped"), EtcdStoppedError);
    assert.equal(cls("etcdserver: invalid auth token"), EtcdInvalidAuthTokenError);
    assert.equal(cls("etcdserver: too many requests"), EtcdTooManyRequestsError);
    assert.ok(etcdErrorFromMessage("etcdserver: role name not found") instanceof EtcdAuthError);
    assert.ok(etcdErrorFromMessage("etcdserver: member ID already exist") instanceof EtcdMembershipError);
    assert.equal(etcdErrorFromMessage("something else"), undefined);
  });

  test("transport failures: whether the request was sent", () => {
    const refused = toClientError({
      code: Status.UNAVAILABLE,
      details: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1",
    });
    assert.ok(refused instanceof EtcdConnectionError);
    assert.equal(refused.sent, false);
    const dropped = toClientError({ code: Status.UNAVAILABLE, details: "Connection dropped" });
    assert.ok(dropped instanceof EtcdConnectionError);
    assert.equal(dropped.sent, true);
    const refusedStream = toClientError({ code: Status.UNAVAILABLE, details: "Stream refused by server" });
    assert.equal((refusedStream as EtcdConnectionError).sent, false);
    assert.ok(
      toClientError({ code: Status.DEADLINE_EXCEEDED, details: "Deadline exceeded" }) instanceof
        EtcdDeadlineExceededError,
    );
    assert.ok(
      toClientError({ code: Status.UNIMPLEMENTED, details: "method AuthEnable not implemented" }) instanceof
        EtcdUnimplementedError,
    );
  });

  test("retry policy: reads on any transient error, writes only when provably not executed", () => {
    const e = (code: Status, details: string) => toClientError({ code, details });
    const noLeader = e(Status.UNAVAILABLE, "etcdserver: no leader");
    const timeout = e(Status.UNAVAILABLE, "etcdserver: request timed out");
    const dropped = e(Status.UNAVAILABLE, "Connection dropped");
    const notSent = e(Status.UNAVAILABLE, "No connection established. Last error: x");
    const stopped = e(Status.UNAVAILABLE, "etcdserver: server stopped");
    const compacted = e(Status.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
    const tooMany = e(Status.RESOURCE_EXHAUSTED, "etcdserver: too many requests");
    for (const x of [noLeader, timeout, dropped, notSent, stopped, tooMany])
      assert.ok(isRetryable("read", x));
    assert.equal(isRetryable("read", compacted), false);
    for (const x of [noLeader, notSent, tooMany]) assert.ok(isRetryable("write", x), x.message);
    for (const x of [timeout, dropped, stopped, compacted])
      assert.equal(isRetryable("write", x), false, x.message);
    assert.ok(provablyNotExecuted(notSent));
    assert.equal(provablyNotExecuted(dropped), false);
    for (const x of [noLeader, timeout, dropped, notSent, stopped]) assert.ok(shouldFailover(x));
    assert.equal(shouldFailover(compacted), false);
  });
});

describe("bytes and ranges", () => {
  test("prefix range ends (and the caller's key is not modified)", () => {
    const k = Buffer.from("ab");
    assert.deepEqual(prefixRangeEnd(k), Uint8Array.from(Buffer.from("ac")));
    assert.equal(k.toString(), "ab");
    assert.deepEqual(prefixRangeEnd(Uint8Array.of(0x61, 0xff)), Uint8Array.of(0x62));
    assert.deepEqual(prefixRangeEnd(Uint8Array.of(0xff, 0xff)), Uint8Array.of(0));
    assert.deepEqual(rangeOf("", { prefix: true }), { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) });
    assert.deepEqual(rangeOf("a", { fromKey: true }).rangeEnd, Uint8Array.of(0));
    assert.throws(() => rangeOf("a", { prefix: true, fromKey: true }), TypeError);
  });

  test("endpoint forms", () => {
    assert.deepEqual(parseEndpoint("http://127.0.0.1:2379"), {
      url: "http://127.0.0.1:2379",
      target: "127.0.0.1:2379",
      secure: false,
    });
    assert.equal(parseEndpoint("127.0.0.1:22379").url, "http://127.0.0.1:22379");
    assert.equal(parseEndpoint("localhost").target, "localhost:2379");
    assert.equal(parseEndpoint("https://h:1").secure, true);
    assert.throws(() => parseEndpoint("ftp://h:1"), TypeError);
  });
});

describe("Txn builder", () => {
  test("order, read-only detection and guards", () => {
    const ro = new Txn()
      .if(Compare.version("a", ">", 0))
      .then(Op.get("a"))
      .else(Op.get("b"));
    assert.equal(ro.isReadOnly(), true);
    const rw = new Txn().then(Op.get("a"), Op.put("a", "1"));
    assert.equal(rw.isReadOnly(), false);
    assert.equal(Op.txn(rw).isWrite, true);
    assert.throws(() => new Txn().else(Op.get("a")).then(Op.get("b")), TypeError);
    assert.throws(() => new Txn().if(Op.get("a") as unknown as Compare), TypeError);
    assert.throws(() => new Txn().then((() => {}) as unknown as Op), /not a promise/);
    const req = new Txn().if(Compare.value("k", "!=", "v", { prefix: true })).toRequest();
    assert.deepEqual(Buffer.from(req.compare[0]!.rangeEnd).toString(), "l");
  });
});
