// Wire compatibility of the generated etcd v3 API code (src/api/gen, from proto/) with etcd's format:
// hand-checked bytes, then real clients (the `etcd3` npm client, our generated grpc-js client, and
// etcdctl when installed) against a small in-memory grpc-js server.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { Etcd3 } from "etcd3";
import {
  ClusterClient,
  type ClusterServer,
  ClusterService,
  type KVServer,
  KVService,
  MemberListResponse,
  PutResponse,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeResponse,
  type ResponseHeader,
  TxnRequest,
} from "../../src/api/gen/etcdserverpb/rpc.js";
import type { KeyValue } from "../../src/api/gen/mvccpb/kv.js";

const CLUSTER_ID = 0xffffffffffffffffn; // every bit set: lost by any trip through a JS number
const MEMBER_ID = 0xfedcba9876543210n; // 18364758544493064720, above 2^63 and not a multiple of 2^11

/** Bytes from hex digits; whitespace is ignored, and so is the rest of a line after `#`. */
const hex = (s: string): Uint8Array =>
  Uint8Array.from(Buffer.from(s.replace(/#[^\n]*/g, "").replace(/\s+/g, ""), "hex"));
const str = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

describe("hand-encoded messages", () => {
  test("RangeRequest: bytes, int64 (including -1), enums, bool", () => {
    const wire = hex(`
      0a 03 66 6f 6f                    # key = "foo"
      12 03 66 6f 70                    # range_end = "fop"
      18 0a                             # limit = 10
      20 05                             # revision = 5
      28 02                             # sort_order = DESCEND
      30 03                             # sort_target = MOD
      38 01                             # serializable = true
      58 ff ff ff ff ff ff ff ff ff 01  # max_mod_revision (11) = -1: ten-byte two's complement varint
    `);
    const m = RangeRequest.decode(wire);
    assert.equal(str(m.key), "foo");
    assert.equal(str(m.rangeEnd), "fop");
    assert.equal(m.limit, 10n);
    assert.equal(m.revision, 5n);
    assert.equal(m.sortOrder, RangeRequest_SortOrder.DESCEND);
    assert.equal(m.sortTarget, RangeRequest_SortTarget.MOD);
    assert.equal(m.serializable, true);
    assert.equal(m.keysOnly, false);
    assert.equal(m.maxModRevision, -1n);
    assert.equal(m.minModRevision, 0n);
    assert.deepEqual(RangeRequest.encode(m).finish(), wire);
  });

  test("PutResponse: uint64 cluster_id 0xffffffffffffffff and member_id above 2^63 stay exact", () => {
    const wire = hex(`
      0a 1a                                   # header, 26 bytes
        08 ff ff ff ff ff ff ff ff ff 01      # cluster_id = 2^64-1
        10 90 e4 d0 b2 87 d3 ae ee fe 01      # member_id = 0xfedcba9876543210
        18 2a                                 # revision = 42
        20 03                                 # raft_term = 3
      12 1a                                   # prev_kv, 26 bytes
        0a 03 66 6f 6f                        # key = "foo"
        10 02                                 # create_revision = 2
        18 29                                 # mod_revision = 41
        20 07                                 # version = 7
        2a 03 62 61 72                        # value = "bar"
        30 81 c0 8e c6 9e 8b e0 a6 69         # lease = 0x694d8059e8c3a001
    `);
    const m = PutResponse.decode(wire);
    assert.deepEqual(m.header, { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: 42n, raftTerm: 3n });
    const prev = m.prevKv!;
    assert.equal(str(prev.key), "foo");
    assert.equal(prev.createRevision, 2n);
    assert.equal(prev.modRevision, 41n);
    assert.equal(prev.version, 7n);
    assert.equal(str(prev.value), "bar");
    assert.equal(prev.lease, 0x694d8059e8c3a001n);
    assert.deepEqual(PutResponse.encode(m).finish(), wire);
  });

  test("TxnRequest: oneofs, nested messages and range_end at field 64", () => {
    const wire = hex(`
      0a 0e                 # compare[0], 14 bytes
        08 03               # result = NOT_EQUAL
        10 03               # target = VALUE
        1a 01 6b            # key = "k"
        3a 01 76            # value (7, in target_union) = "v"
        82 04 01 6c         # range_end (64: a two-byte tag) = "l"
      12 08                 # success[0], 8 bytes
        12 06               # request_put
          0a 01 6b          # key = "k"
          12 01 77          # value = "w"
      1a 05                 # failure[0], 5 bytes
        0a 03               # request_range
          0a 01 6b          # key = "k"
    `);
    const m = TxnRequest.decode(wire);
    assert.equal(m.compare.length, 1);
    const c = m.compare[0]!;
    assert.equal(c.result, 3);
    assert.equal(c.target, 3);
    assert.equal(str(c.key), "k");
    assert.equal(c.targetUnion?.$case, "value");
    assert.equal(str(c.targetUnion.value as Uint8Array), "v");
    assert.equal(str(c.rangeEnd), "l");
    const put = m.success[0]!.request;
    assert.equal(put?.$case, "requestPut");
    assert.equal(str(put.value.key), "k");
    assert.equal(str(put.value.value), "w");
    const range = m.failure[0]!.request;
    assert.equal(range?.$case, "requestRange");
    assert.equal(str(range.value.key), "k");
    assert.deepEqual(TxnRequest.encode(m).finish(), wire);
  });

  test("MemberListResponse: uint64 member ID, repeated strings, isLearner", () => {
    const m = MemberListResponse.fromPartial({
      header: { clusterId: 1n },
      members: [
        {
          ID: MEMBER_ID,
          name: "n1",
          peerURLs: ["http://127.0.0.1:2380"],
          clientURLs: ["http://127.0.0.1:2379"],
          isLearner: true,
        },
      ],
    });
    const wire = MemberListResponse.encode(m).finish();
    const url = (port: string) => Buffer.from(`http://127.0.0.1:${port}`).toString("hex");
    const expected = hex(
      "0a 02 08 01" + // header { cluster_id = 1 }
        "12 3f" + // members[0], 63 bytes
        "08 90 e4 d0 b2 87 d3 ae ee fe 01" + // ID = 0xfedcba9876543210
        "12 02 6e 31" + // name = "n1"
        `1a 15 ${url("2380")}` + // peerURLs[0]
        `22 15 ${url("2379")}` + // clientURLs[0]
        "28 01", // isLearner = true
    );
    assert.deepEqual(wire, expected);
    assert.equal(MemberListResponse.decode(wire).members[0]!.ID, MEMBER_ID);
  });

  test("JSON uses etcd's gateway names and strings for 64-bit integers", () => {
    const json = PutResponse.toJSON(
      PutResponse.fromPartial({ header: { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: 2n } }),
    );
    assert.deepEqual(json, {
      header: { cluster_id: "18446744073709551615", member_id: "18364758544493064720", revision: "2" },
    });
    const req = RangeRequest.fromJSON({ key: "Zm9v", range_end: "AA==", limit: "3" });
    assert.equal(str(req.key), "foo");
    assert.deepEqual(req.rangeEnd, new Uint8Array([0]));
    assert.equal(req.limit, 3n);
  });
});

/** A toy etcd: one member, an in-memory key space, KV.Range, KV.Put and Cluster.MemberList. */
class StubEtcd {
  readonly server = new grpc.Server();
  port = 0;
  private revision = 1n;
  private readonly keys = new Map<string, KeyValue>(); // by key as latin1 (one char per byte)

  header(): ResponseHeader {
    return { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: this.revision, raftTerm: 2n };
  }

  async start(): Promise<void> {
    const kv: Pick<KVServer, "range" | "put"> = {
      range: (call, callback) => callback(null, this.range(call.request)),
      put: (call, callback) => {
        const { key, value, lease, prevKv } = call.request;
        const id = Buffer.from(key).toString("latin1");
        const prev = this.keys.get(id);
        this.revision += 1n;
        this.keys.set(id, {
          key,
          value,
          lease,
          createRevision: prev?.createRevision ?? this.revision,
          modRevision: this.revision,
          version: (prev?.version ?? 0n) + 1n,
        });
        callback(null, { header: this.header(), prevKv: prevKv ? prev : undefined });
      },
    };
    const cluster: Pick<ClusterServer, "memberList"> = {
      memberList: (_call, callback) =>
        callback(null, {
          header: this.header(),
          members: [
            {
              ID: MEMBER_ID,
              name: "stub",
              peerURLs: ["http://127.0.0.1:2380"],
              clientURLs: [`http://127.0.0.1:${this.port}`],
              isLearner: false,
            },
          ],
        }),
    };
    // Methods left out answer UNIMPLEMENTED, as grpc-js does for any missing handler.
    this.server.addService(KVService, kv);
    this.server.addService(ClusterService, cluster);
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
  }

  private range(req: RangeRequest): RangeResponse {
    const key = Buffer.from(req.key);
    const end = Buffer.from(req.rangeEnd);
    const all = end.length === 1 && end[0] === 0;
    const matches = [...this.keys.values()]
      .filter((kv) => {
        const k = Buffer.from(kv.key);
        if (end.length === 0) return k.equals(key);
        return k.compare(key) >= 0 && (all || k.compare(end) < 0);
      })
      .sort((a, b) => Buffer.compare(a.key, b.key));
    const limit = Number(req.limit);
    const kvs = limit > 0 ? matches.slice(0, limit) : matches;
    return {
      header: this.header(),
      kvs: req.countOnly ? [] : kvs,
      more: kvs.length < matches.length,
      count: BigInt(matches.length),
    };
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

describe("grpc-js server built from the generated code", () => {
  const stub = new StubEtcd();
  before(() => stub.start());
  after(() => stub.stop());

  test("the etcd3 npm client puts, gets, and reads the uint64 member ID exactly", async () => {
    const client = new Etcd3({ hosts: `127.0.0.1:${stub.port}` });
    try {
      await client.put("etcd3/foo").value("bar");
      assert.equal(await client.get("etcd3/foo").string(), "bar");
      await client.put("etcd3/foo").value("baz");
      const res = await client.kv.range({ key: Buffer.from("etcd3/foo") });
      assert.equal(res.kvs.length, 1);
      assert.equal(res.kvs[0]!.value.toString(), "baz");
      assert.equal(res.kvs[0]!.version, "2");
      assert.equal(res.header.cluster_id, CLUSTER_ID.toString());
      assert.deepEqual(await client.getAll().prefix("etcd3/").strings(), { "etcd3/foo": "baz" });
      const members = await client.cluster.memberList({});
      assert.equal(members.members.length, 1);
      assert.equal(members.members[0]!.ID, "18364758544493064720");
      assert.equal(BigInt(members.members[0]!.ID), MEMBER_ID);
      assert.equal(members.header.member_id, MEMBER_ID.toString());
    } finally {
      client.close();
    }
  });

  test("the generated grpc-js client reads the member ID as an exact bigint", async () => {
    const client = new ClusterClient(`127.0.0.1:${stub.port}`, grpc.credentials.createInsecure());
    try {
      const res = await new Promise<MemberListResponse>((resolve, reject) =>
        client.memberList({ linearizable: false }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      assert.equal(res.members[0]!.ID, MEMBER_ID);
      assert.equal(res.header!.clusterId, CLUSTER_ID);
      await assert.rejects(
        new Promise((resolve, reject) =>
          client.memberAdd({ peerURLs: [], isLearner: false }, (err, r) => (err ? reject(err) : resolve(r))),
        ),
        (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED,
      );
    } finally {
      client.close();
    }
  });

  const etcdctl = findEtcdctl();
  test("etcdctl (Debian etcd-client) puts and gets through the stub", {
    skip: etcdctl ? false : "etcdctl not installed (apt-get install etcd-client to run this test)",
  }, async () => {
    const run = async (...args: string[]): Promise<string> => {
      // etcdctl reads every ETCDCTL_* variable as a flag: pass none but the API version.
      const env: NodeJS.ProcessEnv = { ETCDCTL_API: "3" };
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ETCDCTL_")) env[k] = v;
      const endpoint = `127.0.0.1:${stub.port}`;
      const opts = ["--endpoints", endpoint, "--dial-timeout=5s", "--command-timeout=5s"];
      // Asynchronous on purpose: the server answering etcdctl runs on this event loop.
      const { stdout } = await promisify(execFile)(etcdctl!, [...opts, ...args], { env, timeout: 20_000 });
      return stdout;
    };
    assert.equal((await run("put", "foo", "bar")).trim(), "OK");
    const out = await run("get", "foo", "-w", "json");
    // Go prints uint64 as bare JSON numbers: check them on the text, as JSON.parse would round them.
    assert.match(out, /"cluster_id":18446744073709551615\b/);
    assert.match(out, /"member_id":18364758544493064720\b/);
    const parsed = JSON.parse(out) as {
      kvs: { key: string; value: string; version: number }[];
      count: number;
    };
    assert.equal(parsed.count, 1);
    assert.equal(Buffer.from(parsed.kvs[0]!.key, "base64").toString(), "foo");
    assert.equal(Buffer.from(parsed.kvs[0]!.value, "base64").toString(), "bar");
    assert.equal(parsed.kvs[0]!.version, 1);
    assert.equal((await run("get", "foo", "--print-value-only")).trim(), "bar");
    assert.match(await run("member", "list", "-w", "json"), /"ID":18364758544493064720\b/);
    assert.match(await run("member", "list"), /^fedcba9876543210, started, stub, /);
  });
});

/** The path of etcdctl on PATH, or undefined. */
function findEtcdctl(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    const p = `${dir}/etcdctl`;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}
