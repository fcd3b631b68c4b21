// The applier under alarms (etcd's applierV3Capped / applierV3Corrupt / quotaApplierV3), on a real backend,
// key space and lessor: what each member does with committed entries while an alarm is up.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { InternalRaftRequest } from "../../src/api/gen/etcdserverpb/raft_internal.js";
import * as pb from "../../src/api/gen/etcdserverpb/rpc.js";
import { AlarmRequest_AlarmAction as Action, AlarmType } from "../../src/api/gen/etcdserverpb/rpc.js";
import { Backend } from "../../src/backend/index.js";
import { Lessor } from "../../src/lease/index.js";
import { KVStore } from "../../src/mvcc/index.js";
import { AlarmStore } from "../../src/server/alarms.js";
import { type ApplyContext, applyRequest } from "../../src/server/apply.js";
import { ErrGRPCCorrupt, ErrGRPCNoSpace } from "../../src/server/errors.js";
import { RaftCluster } from "../../src/server/membership.js";
import { quotaCost } from "../../src/server/quota.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(fits = () => true): { ctx: ApplyContext; backend: Backend; path: string } {
  const d = mkdtempSync(join(tmpdir(), "apply-alarms-"));
  dirs.push(d);
  const path = join(d, "db");
  const backend = Backend.open(path);
  const lessor = new Lessor(backend, { clock: { now: () => 0 } });
  const kv = new KVStore(backend, {});
  kv.setLessor(lessor);
  lessor.setRangeDeleter(() => kv.write());
  const ctx: ApplyContext = {
    kv,
    lessor,
    cluster: new RaftCluster(backend),
    alarms: new AlarmStore(backend),
    quota: { available: (req) => quotaCost(req) === 0 || fits() },
    header: (rev) => ({ clusterId: 1n, memberId: 2n, raftTerm: 3n, revision: BigInt(rev) }),
  };
  return { ctx, backend, path };
}

const apply = (ctx: ApplyContext, req: Partial<InternalRaftRequest>) =>
  applyRequest(ctx, InternalRaftRequest.fromPartial(req));

const put = (k: string, v = "v") => ({
  put: pb.PutRequest.fromPartial({ key: Buffer.from(k), value: Buffer.from(v) }),
});
const del = (k: string) => ({ deleteRange: pb.DeleteRangeRequest.fromPartial({ key: Buffer.from(k) }) });
const txnOf = (ops: pb.RequestOp[]) => ({ txn: pb.TxnRequest.fromPartial({ success: ops }) });
const alarm = (action: Action, memberID: bigint, type: AlarmType) => ({
  alarm: { action, memberID, alarm: type },
});
const alarmsOf = (r: unknown) => (r as pb.AlarmResponse).alarms.map((a) => [a.memberID, a.alarm]);
const isNoSpace = (e: unknown) => ErrGRPCNoSpace.matches(e);

describe("applying alarms", () => {
  test("GET / ACTIVATE / DEACTIVATE as etcd's applier answers them", () => {
    const { ctx } = setup();
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.GET, 0n, AlarmType.NONE))), []);
    assert.deepEqual(
      alarmsOf(apply(ctx, alarm(Action.ACTIVATE, 9n, AlarmType.NONE))),
      [],
      "NONE is not raised",
    );
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.ACTIVATE, 9n, AlarmType.NOSPACE))), [
      [9n, AlarmType.NOSPACE],
    ]);
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.ACTIVATE, 9n, AlarmType.NOSPACE))), [
      [9n, AlarmType.NOSPACE],
    ]);
    apply(ctx, alarm(Action.ACTIVATE, 4n, AlarmType.CORRUPT));
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.GET, 0n, AlarmType.NONE))), [
      [9n, AlarmType.NOSPACE],
      [4n, AlarmType.CORRUPT],
    ]);
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.GET, 0n, AlarmType.CORRUPT))), [
      [4n, AlarmType.CORRUPT],
    ]);
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.DEACTIVATE, 4n, AlarmType.NOSPACE))), []);
    assert.deepEqual(alarmsOf(apply(ctx, alarm(Action.DEACTIVATE, 4n, AlarmType.CORRUPT))), [
      [4n, AlarmType.CORRUPT],
    ]);
    const r = apply(ctx, alarm(Action.GET, 0n, AlarmType.NONE)) as pb.AlarmResponse;
    assert.equal(r.header?.memberId, 2n);
  });

  test("NOSPACE caps the key space: puts, txns with puts, lease grants refused; the rest applies", () => {
    const { ctx } = setup();
    apply(ctx, put("a"));
    apply(ctx, put("b"));
    apply(ctx, { leaseGrant: { ID: 100n, TTL: 60n } });
    apply(ctx, alarm(Action.ACTIVATE, 1n, AlarmType.NOSPACE));
    const rev = ctx.kv.rev();

    assert.throws(() => apply(ctx, put("c")), isNoSpace);
    assert.throws(() => apply(ctx, { leaseGrant: { ID: 101n, TTL: 60n } }), isNoSpace);
    const putOp: pb.RequestOp = { request: { $case: "requestPut", value: put("d").put } };
    const delOp: pb.RequestOp = { request: { $case: "requestDeleteRange", value: del("a").deleteRange } };
    assert.throws(() => apply(ctx, txnOf([delOp, putOp])), isNoSpace);
    assert.equal(ctx.kv.rev(), rev, "nothing refused was applied");

    apply(ctx, txnOf([delOp]));
    apply(ctx, del("b"));
    apply(ctx, { compaction: { revision: BigInt(ctx.kv.rev()), physical: false } });
    apply(ctx, { leaseRevoke: { ID: 100n } });
    assert.equal(ctx.kv.rev(), rev + 2);
    assert.equal(ctx.lessor.lookup(100n), undefined);

    apply(ctx, alarm(Action.DEACTIVATE, 1n, AlarmType.NOSPACE));
    apply(ctx, put("c"));
    apply(ctx, { leaseGrant: { ID: 101n, TTL: 60n } });
  });

  test("CORRUPT refuses key-space and lease requests; alarm changes still apply", () => {
    const { ctx } = setup();
    apply(ctx, { leaseGrant: { ID: 100n, TTL: 60n } });
    apply(ctx, alarm(Action.ACTIVATE, 1n, AlarmType.CORRUPT));
    const isCorrupt = (e: unknown) => ErrGRPCCorrupt.matches(e);
    for (const req of [
      put("a"),
      del("a"),
      txnOf([]),
      { range: pb.RangeRequest.fromPartial({ key: Buffer.from("a") }) },
      { compaction: { revision: 1n, physical: false } },
      { leaseGrant: { ID: 101n, TTL: 60n } },
      { leaseRevoke: { ID: 100n } },
    ]) {
      assert.throws(() => apply(ctx, req), isCorrupt, JSON.stringify(Object.keys(req)));
    }
    apply(ctx, alarm(Action.DEACTIVATE, 1n, AlarmType.CORRUPT));
    apply(ctx, put("a"));
  });

  test("past the quota when applied: the write applies (same state everywhere) but answers no space", () => {
    let fits = true;
    const { ctx } = setup(() => fits);
    apply(ctx, put("a", "1"));
    fits = false;
    assert.throws(() => apply(ctx, put("a", "2")), isNoSpace);
    const r = ctx.kv.rangeRequest({ key: Buffer.from("a") } as never);
    assert.equal(Buffer.from(r.kvs[0]!.value).toString(), "2");
    apply(ctx, del("a")); // costs nothing: not judged
  });

  test("alarms are applied in the entry's batch and survive a reopen", () => {
    const { ctx, backend, path } = setup();
    apply(ctx, alarm(Action.ACTIVATE, 5n, AlarmType.NOSPACE));
    backend.close();
    const reopened = Backend.open(path);
    assert.deepEqual(new AlarmStore(reopened).get(), [{ memberID: 5n, alarm: AlarmType.NOSPACE }]);
    reopened.close();
  });
});
