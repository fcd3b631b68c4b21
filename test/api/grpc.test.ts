// The gRPC services through the client listener, against a fake member over a real key space: the etcd3
// npm client as an outside judge, and the generated grpc-js clients for the exact wire behaviour (headers,
// watch protocol, errors with etcd's codes and texts).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { Etcd3 } from "etcd3";
import * as pb from "../../src/api/gen/etcdserverpb/rpc.js";
import { CLUSTER_ID, MEMBER_ID } from "./fake_server.js";
import { type Served, serve, waitFor } from "./helpers.js";

const bytes = (s: string): Buffer => Buffer.from(s);
const str = (u: Uint8Array | undefined): string => Buffer.from(u ?? []).toString();

/** A unary method of a generated client (overloaded: typed loosely, the caller names the response type). */
type AnyUnary = (...args: never[]) => unknown;
type Unary<Res> = (
  req: unknown,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res: Res) => void,
) => unknown;

/** Calls a unary method of a generated client; `Res` names the response type. */
function unaryCall<Res>(fn: AnyUnary, req: unknown, md = new grpc.Metadata()): Promise<Res> {
  const call = fn as unknown as Unary<Res>;
  return new Promise((resolve, reject) => call(req, md, (err, res) => (err ? reject(err) : resolve(res))));
}

/** Rejects with a gRPC error of this code and exact message. */
async function rejectsWith(p: Promise<unknown>, code: number, details: string): Promise<void> {
  await assert.rejects(p, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `code of ${err.details}`);
    assert.equal(err.details, details);
    return true;
  });
}

/** A Watch call with a queue of responses. */
class WatchCall {
  readonly stream: grpc.ClientDuplexStream<pb.WatchRequest, pb.WatchResponse>;
  readonly got: pb.WatchResponse[] = [];
  ended = false;
  error: grpc.ServiceError | undefined;

  constructor(client: pb.WatchClient, md = new grpc.Metadata()) {
    this.stream = client.watch(md);
    this.stream.on("data", (r: pb.WatchResponse) => this.got.push(r));
    this.stream.on("error", (e: grpc.ServiceError) => {
      this.error = e;
    });
    this.stream.on("end", () => {
      this.ended = true;
    });
  }

  create(c: Partial<pb.WatchCreateRequest>): void {
    this.stream.write({
      requestUnion: { $case: "createRequest", value: pb.WatchCreateRequest.fromPartial(c as never) },
    });
  }

  async next(): Promise<pb.WatchResponse> {
    await waitFor(() => this.got.length > 0, 5000, "a watch response");
    return this.got.shift()!;
  }
}

describe("gRPC services", () => {
  let s: Served;
  let kv: pb.KVClient;
  let watch: pb.WatchClient;
  let lease: pb.LeaseClient;
  let maint: pb.MaintenanceClient;
  let cluster: pb.ClusterClient;

  before(async () => {
    s = await serve();
    const creds = grpc.credentials.createInsecure();
    kv = new pb.KVClient(s.hostPort, creds);
    watch = new pb.WatchClient(s.hostPort, creds);
    lease = new pb.LeaseClient(s.hostPort, creds);
    maint = new pb.MaintenanceClient(s.hostPort, creds);
    cluster = new pb.ClusterClient(s.hostPort, creds);
  });
  after(async () => {
    for (const c of [kv, watch, lease, maint, cluster]) c.close();
    await s.close();
  });

  test("etcd3 client: put, get, prefix, txn, delete", async () => {
    const client = new Etcd3({ hosts: s.hostPort });
    try {
      await client.put("e3/foo").value("bar");
      await client.put("e3/baz").value("qux");
      assert.equal(await client.get("e3/foo").string(), "bar");
      assert.deepEqual(await client.getAll().prefix("e3/").strings(), { "e3/foo": "bar", "e3/baz": "qux" });
      const t = await client
        .if("e3/foo", "Value", "==", "bar")
        .then(client.put("e3/foo").value("new"))
        .else(client.get("e3/foo"))
        .commit();
      assert.equal(t.succeeded, true);
      const f = await client.if("e3/foo", "Value", "==", "bar").then(client.put("e3/x").value("1")).commit();
      assert.equal(f.succeeded, false);
      assert.equal(await client.get("e3/foo").string(), "new");
      const d = await client.delete().prefix("e3/");
      assert.equal(d.deleted, "2");
      assert.equal(await client.get("e3/foo").string(), null);
      const res = await client.kv.range({ key: bytes("e3/foo") });
      assert.equal(res.header.cluster_id, CLUSTER_ID.toString());
      assert.equal(res.header.member_id, MEMBER_ID.toString());
    } finally {
      client.close();
    }
  });

  test("etcd3 client: watch with previous values, then cancel", async () => {
    const client = new Etcd3({ hosts: s.hostPort });
    try {
      const w = await client.watch().key("e3w").withPreviousKV().create();
      const seen: string[] = [];
      w.on("put", (kv, prev) =>
        seen.push(`put ${kv.value.toString()} prev=${prev?.value.toString() ?? "-"}`),
      );
      w.on("delete", (kv, prev) =>
        seen.push(`delete ${kv.key.toString()} prev=${prev?.value.toString() ?? "-"}`),
      );
      await client.put("e3w").value("1");
      await client.put("e3w").value("2");
      await client.delete().key("e3w");
      await waitFor(() => seen.length === 3, 5000, "three events");
      assert.deepEqual(seen, ["put 1 prev=-", "put 2 prev=1", "delete e3w prev=2"]);
      await w.cancel();
    } finally {
      client.close();
    }
  });

  test("etcd3 client: lease grant, keep-alive (bidi stream), attached keys, revoke", async () => {
    const client = new Etcd3({ hosts: s.hostPort });
    try {
      const l = client.lease(30, { autoKeepAlive: false });
      const id = await l.grant();
      await l.put("e3lease").value("v");
      const ka = await l.keepaliveOnce();
      assert.equal(ka.TTL, "30");
      assert.equal(ka.ID, id);
      const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
      assert.equal(ttl.grantedTTL, "30");
      assert.deepEqual(
        ttl.keys.map((k) => k.toString()),
        ["e3lease"],
      );
      await l.revoke();
      assert.equal(await client.get("e3lease").string(), null);
    } finally {
      client.close();
    }
  });

  test("every response carries the member's header; revisions stay exact", async () => {
    const put = await unaryCall<pb.PutResponse>(
      kv.put.bind(kv),
      pb.PutRequest.fromPartial({ key: bytes("h"), value: bytes("1") }),
    );
    assert.equal(put.header?.clusterId, CLUSTER_ID);
    assert.equal(put.header?.memberId, MEMBER_ID);
    assert.equal(put.header?.raftTerm, 2n);
    assert.equal(put.header?.revision, BigInt(s.fake.kv.rev()));
    const ml = await unaryCall<pb.MemberListResponse>(cluster.memberList.bind(cluster), {
      linearizable: false,
    });
    assert.equal(ml.members[0]!.ID, MEMBER_ID);
    assert.equal(ml.header?.clusterId, CLUSTER_ID);
    const st = await unaryCall<pb.StatusResponse>(maint.status.bind(maint), {});
    assert.equal(st.leader, MEMBER_ID);
    const df = await unaryCall<pb.DefragmentResponse>(maint.defragment.bind(maint), {});
    assert.equal(df.header?.memberId, MEMBER_ID); // the fake gave none: filled in
    const hk = await unaryCall<pb.HashKVResponse>(maint.hashKv.bind(maint), { revision: 0n });
    assert.equal(hk.header?.clusterId, CLUSTER_ID);
  });

  test("errors carry etcd's codes and texts", async () => {
    const S = grpc.status;
    await rejectsWith(
      unaryCall(kv.range.bind(kv), pb.RangeRequest.fromPartial({})),
      S.INVALID_ARGUMENT,
      "etcdserver: key is not provided",
    );
    await rejectsWith(
      unaryCall(
        kv.put.bind(kv),
        pb.PutRequest.fromPartial({ key: bytes("k"), ignoreValue: true, value: bytes("v") }),
      ),
      S.INVALID_ARGUMENT,
      "etcdserver: value is provided",
    );
    await rejectsWith(
      unaryCall(kv.put.bind(kv), pb.PutRequest.fromPartial({ key: bytes("nokey"), ignoreLease: true })),
      S.INVALID_ARGUMENT,
      "etcdserver: key not found",
    );
    await rejectsWith(
      unaryCall(kv.put.bind(kv), pb.PutRequest.fromPartial({ key: bytes("k"), lease: 12345n })),
      S.NOT_FOUND,
      "etcdserver: requested lease not found",
    );
    const putOp = (k: string) => ({
      request: { $case: "requestPut" as const, value: pb.PutRequest.fromPartial({ key: bytes(k) }) },
    });
    await rejectsWith(
      unaryCall(
        kv.txn.bind(kv),
        pb.TxnRequest.fromPartial({
          success: Array.from({ length: 129 }, (_, i) => putOp(`t${i}`)),
        } as never),
      ),
      S.INVALID_ARGUMENT,
      "etcdserver: too many operations in txn request",
    );
    await rejectsWith(
      unaryCall(kv.txn.bind(kv), pb.TxnRequest.fromPartial({ success: [putOp("d"), putOp("d")] } as never)),
      S.INVALID_ARGUMENT,
      "etcdserver: duplicate key given in txn request",
    );
    const rev = BigInt(s.fake.kv.rev());
    await rejectsWith(
      unaryCall(kv.range.bind(kv), pb.RangeRequest.fromPartial({ key: bytes("h"), revision: rev + 100n })),
      S.OUT_OF_RANGE,
      "etcdserver: mvcc: required revision is a future revision",
    );
    await unaryCall(kv.put.bind(kv), pb.PutRequest.fromPartial({ key: bytes("c"), value: bytes("1") }));
    await unaryCall(kv.compact.bind(kv), { revision: rev, physical: true });
    await rejectsWith(
      unaryCall(kv.range.bind(kv), pb.RangeRequest.fromPartial({ key: bytes("h"), revision: rev - 1n })),
      S.OUT_OF_RANGE,
      "etcdserver: mvcc: required revision has been compacted",
    );
    await rejectsWith(
      unaryCall(lease.leaseRevoke.bind(lease), { ID: 999n }),
      S.NOT_FOUND,
      "etcdserver: requested lease not found",
    );
    await rejectsWith(
      unaryCall(maint.moveLeader.bind(maint), { targetID: 5n }),
      S.FAILED_PRECONDITION,
      "etcdserver: not leader",
    );
    await rejectsWith(
      unaryCall(cluster.memberAdd.bind(cluster), { peerURLs: ["http://x:1"], isLearner: false }),
      S.UNIMPLEMENTED,
      "method MemberAdd not implemented",
    );
    const auth = new pb.AuthClient(s.hostPort, grpc.credentials.createInsecure());
    try {
      await rejectsWith(
        unaryCall(auth.authStatus.bind(auth), {}),
        S.UNIMPLEMENTED,
        "method AuthStatus not implemented",
      );
    } finally {
      auth.close();
    }
  });

  test("lease time-to-live and keep-alive of a missing lease answer TTL -1 and 0, as etcd", async () => {
    const ttl = await unaryCall<pb.LeaseTimeToLiveResponse>(lease.leaseTimeToLive.bind(lease), {
      ID: 4242n,
      keys: false,
    });
    assert.equal(ttl.TTL, -1n);
    assert.equal(ttl.ID, 4242n);
    assert.equal(ttl.header?.clusterId, CLUSTER_ID);
    const granted = await unaryCall<pb.LeaseGrantResponse>(lease.leaseGrant.bind(lease), {
      TTL: 20n,
      ID: 0x7fffffffffffff01n,
    });
    assert.equal(granted.ID, 0x7fffffffffffff01n); // above 2^53: exact
    const call = lease.leaseKeepAlive();
    const got: pb.LeaseKeepAliveResponse[] = [];
    call.on("data", (r: pb.LeaseKeepAliveResponse) => got.push(r));
    const ended = new Promise<void>((resolve) => call.on("status", () => resolve()));
    call.write({ ID: granted.ID });
    call.write({ ID: 4242n });
    call.write({ ID: granted.ID });
    call.end();
    await ended;
    assert.deepEqual(
      got.map((r) => [r.ID, r.TTL]),
      [
        [granted.ID, 20n],
        [4242n, 0n],
        [granted.ID, 20n],
      ],
    );
    assert.equal(got[0]!.header?.memberId, MEMBER_ID);
  });

  test("watch: created, events, history, prev_kv, filters, cancel, progress", async () => {
    const w = new WatchCall(watch);
    const start = BigInt(s.fake.kv.rev());
    w.create({ key: bytes("wk"), prevKv: true });
    const created = await w.next();
    assert.equal(created.created, true);
    assert.equal(created.watchId, 0n);
    assert.equal(created.header?.revision, start);
    assert.equal(created.header?.clusterId, CLUSTER_ID);
    await unaryCall(kv.put.bind(kv), pb.PutRequest.fromPartial({ key: bytes("wk"), value: bytes("a") }));
    await unaryCall(kv.put.bind(kv), pb.PutRequest.fromPartial({ key: bytes("wk"), value: bytes("b") }));
    const evs: pb.WatchResponse[] = [];
    while (evs.flatMap((r) => r.events).length < 2) evs.push(await w.next());
    const events = evs.flatMap((r) => r.events);
    assert.deepEqual(
      events.map((e) => [e.type, str(e.kv?.value), str(e.prevKv?.value)]),
      [
        [0, "a", ""],
        [0, "b", "a"],
      ],
    );
    assert.equal(evs.at(-1)!.header?.revision, start + 2n);

    // History from a past revision, on a second watch of the same stream; deletes only.
    w.create({
      key: bytes("wk"),
      startRevision: start + 1n,
      watchId: 7n,
      filters: [pb.WatchCreateRequest_FilterType.NOPUT],
    });
    const c7 = await w.next();
    assert.deepEqual([c7.created, c7.watchId], [true, 7n]);
    await unaryCall(kv.deleteRange.bind(kv), pb.DeleteRangeRequest.fromPartial({ key: bytes("wk") }));
    const rest: pb.WatchResponse[] = [];
    while (!rest.some((r) => r.watchId === 7n && r.events.length > 0)) rest.push(await w.next());
    const del7 = rest.find((r) => r.watchId === 7n && r.events.length > 0)!;
    assert.deepEqual(
      del7.events.map((e) => [e.type, str(e.kv?.key)]),
      [[1, "wk"]],
    );

    // Progress: watch ID -1, the current revision.
    w.got.length = 0;
    w.stream.write({ requestUnion: { $case: "progressRequest", value: {} } });
    let progress = await w.next();
    while (progress.watchId !== -1n) progress = await w.next();
    assert.equal(progress.header?.revision, BigInt(s.fake.kv.rev()));
    assert.equal(progress.events.length, 0);

    // Cancel: a canceled response; unknown IDs get none.
    w.stream.write({ requestUnion: { $case: "cancelRequest", value: { watchId: 123n } } });
    w.stream.write({ requestUnion: { $case: "cancelRequest", value: { watchId: 7n } } });
    const canceled = await w.next();
    assert.deepEqual([canceled.canceled, canceled.watchId, canceled.created], [true, 7n, false]);
    w.stream.cancel();
  });

  test("watch: refused creates (bad range, negative or compacted start) as etcd answers them", async () => {
    const w = new WatchCall(watch);
    w.create({ key: bytes("b"), rangeEnd: bytes("a") });
    const bad = await w.next();
    assert.deepEqual(
      [bad.watchId, bad.created, bad.canceled, bad.cancelReason],
      [-1n, true, true, "mvcc: watcher range is empty"],
    );
    w.create({ key: bytes("a"), startRevision: -5n });
    const neg = await w.next();
    assert.deepEqual(
      [neg.watchId, neg.created, neg.canceled, neg.cancelReason],
      [-1n, true, true, "etcdserver: mvcc: required revision has been compacted"],
    );
    w.create({ key: bytes("a"), watchId: 3n });
    await w.next();
    w.create({ key: bytes("a"), watchId: 3n });
    const dup = await w.next();
    assert.deepEqual(
      [dup.watchId, dup.canceled, dup.cancelReason],
      [-1n, true, "mvcc: duplicate watch ID provided on the WatchStream"],
    );
    // A start below the compaction: created, then canceled with the compact revision.
    await unaryCall(kv.put.bind(kv), pb.PutRequest.fromPartial({ key: bytes("cw"), value: bytes("1") }));
    const compactAt = BigInt(s.fake.kv.rev());
    await unaryCall(kv.compact.bind(kv), { revision: compactAt, physical: true });
    w.create({ key: bytes("cw"), startRevision: 1n });
    const cr = await w.next();
    assert.equal(cr.created, true);
    const cc = await w.next();
    assert.deepEqual([cc.canceled, cc.compactRevision, cc.watchId], [true, compactAt, cr.watchId]);
    w.stream.cancel();
  });

  test("hasleader metadata: no leader fails unary and stream calls with etcd's no-leader error", async () => {
    s.fake.leaderId = 0n;
    try {
      const md = new grpc.Metadata();
      md.set("hasleader", "true");
      await rejectsWith(
        unaryCall(kv.range.bind(kv), pb.RangeRequest.fromPartial({ key: bytes("x") }), md),
        grpc.status.UNAVAILABLE,
        "etcdserver: no leader",
      );
      // Without it, the member answers.
      await unaryCall(kv.range.bind(kv), pb.RangeRequest.fromPartial({ key: bytes("x") }));
      const w = new WatchCall(watch, md);
      await waitFor(() => w.error !== undefined, 5000, "the watch error");
      assert.equal(w.error!.code, grpc.status.UNAVAILABLE);
      assert.equal(w.error!.details, "etcdserver: no leader");
    } finally {
      s.fake.leaderId = MEMBER_ID;
    }
  });

  test("snapshot: 32 KiB messages and the SHA-256 of the data last", async () => {
    for (let i = 0; i < 200; i++) {
      await unaryCall(
        kv.put.bind(kv),
        pb.PutRequest.fromPartial({ key: bytes(`snap/${i}`), value: Buffer.alloc(1000, i) }),
      );
    }
    const msgs: pb.SnapshotResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = maint.snapshot({});
      call.on("data", (m: pb.SnapshotResponse) => msgs.push(m));
      call.on("end", resolve);
      call.on("error", reject);
    });
    assert.ok(msgs.length >= 3);
    const data = Buffer.concat(msgs.slice(0, -1).map((m) => m.blob));
    for (const m of msgs.slice(0, -2)) assert.equal(m.blob.length, 32 * 1024);
    assert.ok(msgs.slice(0, -2).every((m) => m.remainingBytes > 0n));
    assert.equal(msgs.at(-2)!.remainingBytes, 0n);
    assert.deepEqual(Buffer.from(msgs.at(-1)!.blob), createHash("sha256").update(data).digest());
    assert.equal(msgs[0]!.header?.clusterId, CLUSTER_ID);
  });
});
