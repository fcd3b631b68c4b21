// The client against an in-process member: KV (options, txn, compaction), watch, leases, cluster,
// maintenance, and the typed errors the server's answers become.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  Compare,
  EtcdAuthNotEnabledError,
  EtcdCompactedError,
  EtcdEmptyKeyError,
  EtcdFutureRevisionError,
  EtcdLeaseExpiredError,
  EtcdLeaseNotFoundError,
  Op,
  type WatchResponse,
} from "../../src/client/index.js";
import { freePorts, until } from "../e2e/cluster.js";
import { deferred, type InProcessCluster, startInProcessCluster } from "./helpers.js";

let cluster: InProcessCluster;
let client: Client;

describe("client against an in-process member", { concurrency: 1 }, () => {
  before(async () => {
    cluster = await startInProcessCluster(1);
    client = new Client({ endpoints: cluster.endpoints, requestTimeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await cluster?.close();
  });

  test("put, get, delete with strings and bytes", async () => {
    const p = await client.put("kv/a", "1");
    assert.ok(p.header.revision > 1n);
    assert.equal(typeof p.header.revision, "bigint");
    await client.put(Buffer.from("kv/b"), Uint8Array.of(0, 255, 1));
    assert.equal((await client.getValue("kv/a"))?.toString(), "1");
    assert.deepEqual(await client.getValue("kv/b"), Buffer.from([0, 255, 1]));
    assert.equal(await client.getValue("kv/none"), undefined);
    const prev = await client.put("kv/a", "2", { prevKv: true });
    assert.equal(prev.prevKv?.value.toString(), "1");
    const got = await client.get("kv/a");
    assert.equal(got.kvs[0]!.version, 2n);
    assert.equal(got.kvs[0]!.modRevision, prev.header.revision);
    const d = await client.delete("kv/", { prefix: true, prevKv: true });
    assert.equal(d.deleted, 2n);
    assert.deepEqual(d.prevKvs.map((kv) => kv.key.toString()).sort(), ["kv/a", "kv/b"]);
  });

  test("range options: prefix, fromKey, limit, sort, keysOnly, countOnly, revision, serializable", async () => {
    for (const k of ["r/c", "r/a", "r/b", "s/x"]) await client.put(k, `v-${k}`);
    const pre = await client.get("r/", { prefix: true });
    assert.deepEqual(
      pre.kvs.map((kv) => kv.key.toString()),
      ["r/a", "r/b", "r/c"],
    );
    assert.equal(pre.count, 3n);
    const from = await client.get("r/b", { fromKey: true });
    assert.deepEqual(
      from.kvs.map((kv) => kv.key.toString()),
      ["r/b", "r/c", "s/x"],
    );
    const lim = await client.get("r/", { prefix: true, limit: 2 });
    assert.equal(lim.kvs.length, 2);
    assert.equal(lim.more, true);
    assert.equal(lim.count, 3n);
    const desc = await client.get("r/", { prefix: true, sort: { target: "create", order: "descend" } });
    assert.deepEqual(
      desc.kvs.map((kv) => kv.key.toString()),
      ["r/b", "r/a", "r/c"],
    );
    const keys = await client.get("r/", { prefix: true, keysOnly: true });
    assert.equal(keys.kvs[0]!.value.length, 0);
    const cnt = await client.get("r/", { prefix: true, countOnly: true });
    assert.equal(cnt.kvs.length, 0);
    assert.equal(cnt.count, 3n);
    const before = (await client.get("r/a")).kvs[0]!.modRevision;
    await client.put("r/a", "changed");
    const old = await client.get("r/a", { revision: before });
    assert.equal(old.kvs[0]!.value.toString(), "v-r/a");
    const ser = await client.get("r/a", { serializable: true });
    assert.equal(ser.kvs[0]!.value.toString(), "changed");
    const all = await client.get("", { prefix: true, countOnly: true });
    assert.ok(all.count >= 4n);
    await client.delete("", { fromKey: true });
    assert.equal((await client.get("", { fromKey: true, countOnly: true })).count, 0n);
  });

  test("txn: compare and swap, else branch, nested reads", async () => {
    const p = await client.put("t/k", "v1");
    const ok = await client
      .txn()
      .if(Compare.modRevision("t/k", "=", p.header.revision), Compare.value("t/k", "=", "v1"))
      .then(Op.put("t/k", "v2"), Op.get("t/k"))
      .else(Op.get("t/k"))
      .commit();
    assert.equal(ok.succeeded, true);
    assert.equal(ok.responses[0]!.type, "put");
    const r1 = ok.responses[1]!;
    assert.ok(r1.type === "get" && r1.kvs[0]!.value.toString() === "v2");
    const no = await client
      .txn()
      .if(Compare.value("t/k", "=", "v1"))
      .then(Op.put("t/k", "never"))
      .else(
        Op.get("t/k"),
        Op.txn(
          client
            .txn()
            .if(Compare.version("t/k", ">", 0))
            .then(Op.get("t/k")),
        ),
      )
      .commit();
    assert.equal(no.succeeded, false);
    const nested = no.responses[1]!;
    assert.ok(nested.type === "txn" && nested.succeeded);
    assert.equal(await client.getValue("t/k").then(String), "v2");
    const absent = await client
      .txn()
      .if(Compare.createRevision("t/none", "=", 0))
      .then(Op.put("t/none", "created"))
      .commit();
    assert.equal(absent.succeeded, true);
    // A builder is not a promise: awaiting one fails instead of hanging.
    await assert.rejects(async () => {
      await (client.txn().if(Compare.version("t/k", ">", 0)) as unknown as Promise<unknown>);
    }, TypeError);
    assert.throws(
      () =>
        client
          .txn()
          .then(Op.get("x"))
          .if(Compare.version("x", "=", 0)),
      TypeError,
    );
  });

  test("typed errors: empty key, future revision, compacted, lease not found, auth not enabled", async () => {
    await assert.rejects(client.put("", "x"), EtcdEmptyKeyError);
    const rev = (await client.put("e/k", "1")).header.revision;
    await assert.rejects(client.get("e/k", { revision: rev + 1000n }), (e: unknown) => {
      assert.ok(e instanceof EtcdFutureRevisionError);
      assert.equal(e.message, "etcdserver: mvcc: required revision is a future revision");
      assert.equal(e.catalogName, "ErrGRPCFutureRev");
      return true;
    });
    await client.put("e/k", "2");
    await client.compact(rev + 1n, { physical: true });
    await assert.rejects(client.get("e/k", { revision: rev }), (e: unknown) => {
      assert.ok(e instanceof EtcdCompactedError);
      assert.equal(e.message, "etcdserver: mvcc: required revision has been compacted");
      return true;
    });
    await assert.rejects(client.lease.revoke(12345), EtcdLeaseNotFoundError);
    await assert.rejects(client.put("e/l", "x", { lease: 12345 }), EtcdLeaseNotFoundError);
    await assert.rejects(client.auth.authenticate("nobody", "pw"), EtcdAuthNotEnabledError);
  });

  test("watch: events in order, prevKv, history from a revision, cancel", async () => {
    const w = await client.watch("w/", { prefix: true, prevKv: true });
    const start = (await client.put("w/a", "1")).header.revision;
    await client.put("w/a", "2");
    await client.delete("w/a");
    const seen: string[] = [];
    for await (const r of w) {
      for (const e of r.events) {
        seen.push(`${e.type} ${e.kv.key} ${e.kv.value} prev=${e.prevKv?.value ?? "-"} @${e.kv.modRevision}`);
      }
      if (seen.length >= 3) break; // leaving the loop cancels the watch
    }
    assert.deepEqual(seen, [
      `put w/a 1 prev=- @${start}`,
      `put w/a 2 prev=1 @${start + 1n}`,
      `delete w/a  prev=2 @${start + 2n}`,
    ]);
    assert.equal(w.isDone, true);
    // History: a watch from `start` replays the three events.
    const h = await client.watch("w/a", { startRevision: start });
    const revs: bigint[] = [];
    const got = deferred();
    h.on("event", (e) => {
      revs.push(e.kv.modRevision);
      if (revs.length === 3) got.resolve();
    });
    await got.promise;
    assert.deepEqual(revs, [start, start + 1n, start + 2n]);
    await h.cancel();
    await h.done;
  });

  test("watch: many watchers share one stream; a compacted start revision is an error", async () => {
    const ws = await Promise.all([0, 1, 2, 3, 4].map((i) => client.watch(`m/${i}`)));
    const counts = ws.map(() => 0);
    const all = deferred();
    ws.forEach((w, i) => {
      w.on("put", () => {
        counts[i]!++;
        if (counts.every((c) => c === 2)) all.resolve();
      });
    });
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 5; i++) await client.put(`m/${i}`, `${round}`);
    await all.promise;
    await Promise.all(ws.map((w) => w.cancel()));
    const rev = (await client.put("m/c", "1")).header.revision;
    await client.put("m/c", "2");
    await client.compact(rev + 1n);
    const w = await client.watch("m/c", { startRevision: rev }).catch((e: unknown) => e);
    // The create itself may succeed and the cancel follow: either way the error carries the revision.
    const err = w instanceof Error ? w : await (w as { done: Promise<void> }).done.catch((e: unknown) => e);
    assert.ok(err instanceof EtcdCompactedError, String(err));
    assert.equal(err.compactRevision, rev + 1n);
  });

  test("watch: progress notifications", async () => {
    const w = await client.watch("p/k");
    const it = w[Symbol.asyncIterator]();
    client.requestWatchProgress();
    const r = (await it.next()).value as WatchResponse;
    assert.equal(r.progress, true);
    assert.equal(r.events.length, 0);
    assert.ok(r.header.revision > 0n);
    await w.cancel();
  });

  test("lease: grant, attach, timeToLive, leases, keepAliveOnce, revoke", async () => {
    const g = await client.lease.grant(30);
    assert.equal(g.ttl, 30n);
    await client.put("l/k", "v", { lease: g.id });
    const t = await client.lease.timeToLive(g.id, { keys: true });
    assert.ok(t.ttl > 0n && t.ttl <= 30n);
    assert.equal(t.grantedTtl, 30n);
    assert.deepEqual(t.keys.map(String), ["l/k"]);
    assert.ok((await client.lease.leases()).leases.includes(g.id));
    const k = await client.lease.keepAliveOnce(g.id);
    assert.equal(k.ttl, 30n);
    await client.lease.revoke(g.id);
    assert.equal(await client.getValue("l/k"), undefined);
    assert.equal((await client.lease.timeToLive(g.id)).ttl, -1n);
    await assert.rejects(client.lease.keepAliveOnce(g.id), EtcdLeaseExpiredError);
  });

  test("lease: automatic keep-alive renews; a revoked lease is reported lost", async () => {
    const g = await client.lease.grant(3);
    const ka = client.lease.keepAlive(g.id);
    let renewals = 0;
    const twice = deferred();
    ka.on("keepalive", () => {
      if (++renewals === 2) twice.resolve();
    });
    await twice.promise; // the first at once, the second a TTL/3 later
    await client.lease.revoke(g.id);
    const lost = await ka.lost;
    assert.ok(lost instanceof EtcdLeaseExpiredError);
    assert.equal(ka.isActive, false);
  });

  test("cluster and maintenance", async () => {
    const ml = await client.cluster.memberList();
    assert.equal(ml.members.length, 1);
    assert.equal(ml.members[0]!.name, "c0");
    const st = await client.maintenance.status({ endpoint: cluster.endpoints[0]! });
    assert.equal(st.leader, st.header.memberId);
    assert.ok(st.dbSize > 0n);
    assert.deepEqual(await client.maintenance.alarmList(), []);
    const h1 = await client.maintenance.hashKV(0);
    assert.ok(h1.hashRevision > 0n);
    await client.maintenance.defragment();
    let bytes = 0;
    for await (const chunk of client.maintenance.snapshot()) bytes += (chunk as Buffer).length;
    assert.ok(bytes > 32, `snapshot of ${bytes} bytes`);
  });

  test("a dead first endpoint: writes are retried (never sent), watches and leases move on", async () => {
    const [dead] = await freePorts(1);
    const eps = [`127.0.0.1:${dead}`, ...cluster.endpoints];
    const c = new Client({ endpoints: eps });
    // Fresh clients for the streams, so they too start on the dead endpoint.
    const s = new Client({ endpoints: eps });
    const k = new Client({ endpoints: eps });
    try {
      const p = await c.put("dead/k", "v");
      assert.ok(p.header.revision > 0n);
      assert.equal(c.activeEndpoint, cluster.endpoints[0]);
      const w = await s.watch("dead/k");
      const ev = deferred<string>();
      w.on("put", (e) => ev.resolve(e.kv.value.toString()));
      await client.put("dead/k", "w");
      assert.equal(await ev.promise, "w");
      const g = await client.lease.grant(10);
      const ka = k.lease.keepAlive(g.id);
      await until(() => ka.last, "a renewal");
      ka.close();
      await client.lease.revoke(g.id);
    } finally {
      c.close();
      s.close();
      k.close();
    }
  });

  test("closed client rejects", async () => {
    const c = new Client({ endpoints: cluster.endpoints });
    await c.put("x/closed", "1");
    c.close();
    await assert.rejects(c.get("x/closed"), /client is closed/);
  });
});
