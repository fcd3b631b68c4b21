import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Registry } from "prom-client";
import type * as pb from "../../src/api/gen/etcdserverpb/rpc.js";
import { DEFAULT_QUOTA_BACKEND_BYTES } from "../../src/server/config.js";
import { ErrGRPCNoSpace } from "../../src/server/errors.js";
import { BackendQuota, humanizeBytes, quotaCost } from "../../src/server/quota.js";

const put = (key: string, value: string): pb.PutRequest => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  lease: 0n,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
});
const opPut = (key: string, value: string): pb.RequestOp => ({
  request: { $case: "requestPut", value: put(key, value) },
});
const opDel = (key: string): pb.RequestOp => ({
  request: {
    $case: "requestDeleteRange",
    value: { key: Buffer.from(key), rangeEnd: new Uint8Array(0), prevKv: false },
  },
});
const txn = (success: pb.RequestOp[], failure: pb.RequestOp[] = []): pb.TxnRequest => ({
  compare: [],
  success,
  failure,
});

describe("quota cost (etcd's quota.go)", () => {
  test("put: key + value + 256; lease grant: 64; others: 0", () => {
    assert.equal(quotaCost({ put: put("foo", "bar!") }), 256 + 3 + 4);
    assert.equal(quotaCost({ leaseGrant: { TTL: 10n, ID: 0n } }), 64);
    assert.equal(quotaCost({}), 0);
  });

  test("txn: the larger branch's puts, nested txns included; a txn without puts costs nothing", () => {
    assert.equal(quotaCost({ txn: txn([opDel("a")], [opDel("b")]) }), 0);
    assert.equal(quotaCost({ txn: txn([opPut("a", "1"), opPut("bb", "22")], [opPut("c", "")]) }), 258 + 260);
    assert.equal(quotaCost({ txn: txn([opPut("c", "")], [opPut("a", "1"), opPut("bb", "22")]) }), 258 + 260);
    const nested: pb.RequestOp = {
      request: { $case: "requestTxn", value: txn([opPut("x", "yz")], [opPut("long", "value")]) },
    };
    assert.equal(quotaCost({ txn: txn([nested, opDel("q")]) }), 256 + 4 + 5);
  });
});

describe("BackendQuota", () => {
  const noRaise = () => Promise.resolve();

  test("fits while size + cost < quota", () => {
    let size = 1000;
    const q = new BackendQuota({ quotaBackendBytes: 1300, size: () => size, raiseAlarm: noRaise });
    assert.equal(q.limit, 1300);
    assert.equal(q.available({ put: put("k", "v") }), true); // 1000 + 258 < 1300
    assert.equal(q.available({ put: put("k", "v".repeat(43)) }), false); // 1000 + 256 + 44 = 1300
    assert.equal(q.available({ put: put("k", "v".repeat(42)) }), true);
    assert.equal(q.available({ txn: txn([opDel("k")]) }), true, "costs nothing");
    size = 1300;
    assert.equal(q.available({ txn: txn([opDel("k")]) }), true, "costs nothing, even past the quota");
    assert.equal(q.available({ leaseGrant: { TTL: 5n, ID: 0n } }), false);
    assert.equal(q.remaining(), 0);
  });

  test("0 is the 2 GiB default; negative disables", () => {
    const zero = new BackendQuota({ quotaBackendBytes: 0, size: () => 0, raiseAlarm: noRaise });
    assert.equal(zero.limit, DEFAULT_QUOTA_BACKEND_BYTES);
    const off = new BackendQuota({ quotaBackendBytes: -1, size: () => 1e15, raiseAlarm: noRaise });
    assert.equal(off.enabled, false);
    assert.equal(off.available({ put: put("k", "v") }), true);
  });

  test("check raises the alarm, waits for it, then refuses with etcd's error (even if raising fails)", async () => {
    const events: string[] = [];
    const q = new BackendQuota({
      quotaBackendBytes: 100,
      size: () => 50,
      raiseAlarm: async () => {
        events.push("raise");
        throw new Error("no leader");
      },
    });
    await q.check({ txn: txn([opDel("k")]) });
    assert.deepEqual(events, []);
    await assert.rejects(q.check({ put: put("k", "v") }), (e: unknown) => ErrGRPCNoSpace.matches(e));
    assert.deepEqual(events, ["raise"]);
    await q.raiseAlarmFromApply(); // never rejects
    assert.deepEqual(events, ["raise", "raise"]);
  });

  test("etcd_server_quota_backend_bytes gauge and log lines", async () => {
    const registry = new Registry();
    const logs: string[] = [];
    const logger = {
      info: (f: object, m: string) => logs.push(`${m} ${JSON.stringify(f)}`),
      warn: (f: object, m: string) => logs.push(`${m} ${JSON.stringify(f)}`),
    };
    new BackendQuota({ quotaBackendBytes: 4194304, size: () => 0, raiseAlarm: noRaise, registry, logger });
    assert.match(await registry.metrics(), /^etcd_server_quota_backend_bytes 4194304$/m);
    assert.equal(
      logs[0],
      'enabled backend quota {"quota-name":"v3-applier","quota-size-bytes":4194304,"quota-size":"4.2 MB"}',
    );
    const reg0 = new Registry();
    new BackendQuota({ quotaBackendBytes: 0, size: () => 0, raiseAlarm: noRaise, registry: reg0 });
    assert.match(await reg0.metrics(), /^etcd_server_quota_backend_bytes 2147483648$/m);
  });

  test("humanize as go-humanize's Bytes", () => {
    assert.equal(humanizeBytes(0), "0 B");
    assert.equal(humanizeBytes(999), "999 B");
    assert.equal(humanizeBytes(2147483648), "2.1 GB");
    assert.equal(humanizeBytes(8589934592), "8.6 GB");
    assert.equal(humanizeBytes(16 * 1024 * 1024), "17 MB");
    assert.equal(humanizeBytes(1000), "1.0 kB");
  });
});
