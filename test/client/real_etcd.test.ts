// The client against the real etcd 3.4 (/usr/bin/etcd): it must speak real etcd, not only etcd-ts. KV
// and typed errors, watch (history, progress, compaction), leases, lock and election, maintenance, and
// authentication with a token that expires (--auth-token-ttl=1) and is refreshed by the client.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  Compare,
  Election,
  EtcdCompactedError,
  EtcdFutureRevisionError,
  EtcdLeaseExpiredError,
  EtcdUserEmptyError,
  Mutex,
  Op,
  runSTM,
  Session,
} from "../../src/client/index.js";
import { type Cluster, haveRealEtcd, startRealEtcd, until } from "../e2e/cluster.js";
import { deferred } from "./helpers.js";

let real: Cluster;
let client: Client;
let url: string;

describe("client against the real etcd 3.4", {
  skip: haveRealEtcd ? false : "no /usr/bin/etcd",
  concurrency: 1,
}, () => {
  before(async () => {
    real = await startRealEtcd({ extraArgs: ["--auth-token-ttl=1"] });
    url = real.members[0]!.spec.clientUrl;
    client = new Client({ endpoints: [url], requestTimeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await real?.destroy();
  });

  test("KV, txn and typed errors", async () => {
    const p = await client.put("re/a", "1");
    await client.put("re/b", Uint8Array.of(0, 1, 255));
    const r = await client.get("re/", { prefix: true, sort: { target: "key", order: "descend" } });
    assert.deepEqual(
      r.kvs.map((kv) => kv.key.toString()),
      ["re/b", "re/a"],
    );
    assert.deepEqual(r.kvs[0]!.value, Buffer.from([0, 1, 255]));
    const t = await client
      .txn()
      .if(Compare.modRevision("re/a", "=", p.header.revision))
      .then(Op.put("re/a", "2", { prevKv: true }))
      .else(Op.get("re/a"))
      .commit();
    assert.equal(t.succeeded, true);
    const put = t.responses[0]!;
    assert.ok(put.type === "put" && put.prevKv?.value.toString() === "1");
    await assert.rejects(client.get("re/a", { revision: 1_000_000 }), EtcdFutureRevisionError);
    await client.compact(p.header.revision + 1n);
    await assert.rejects(client.get("re/a", { revision: p.header.revision }), EtcdCompactedError);
    assert.equal((await client.delete("re/", { prefix: true })).deleted, 2n);
  });

  test("watch: live events, history, progress, compaction", async () => {
    const w = await client.watch("rw/", { prefix: true, prevKv: true });
    const got: string[] = [];
    const three = deferred();
    w.on("event", (e) => {
      got.push(`${e.type} ${e.kv.key} ${e.kv.value} prev=${e.prevKv?.value ?? "-"}`);
      if (got.length === 3) three.resolve();
    });
    const first = (await client.put("rw/k", "1")).header.revision;
    await client.put("rw/k", "2");
    await client.delete("rw/k");
    await three.promise;
    assert.deepEqual(got, ["put rw/k 1 prev=-", "put rw/k 2 prev=1", "delete rw/k  prev=2"]);
    const progress = deferred<bigint>();
    w.on("progress", (r) => progress.resolve(r.header.revision));
    client.requestWatchProgress();
    assert.ok((await progress.promise) >= first + 2n);
    await w.cancel();
    const hist = await client.watch("rw/k", { startRevision: first });
    const revs: bigint[] = [];
    for await (const r of hist) {
      revs.push(...r.events.map((e) => e.kv.modRevision));
      if (revs.length === 3) break;
    }
    assert.deepEqual(revs, [first, first + 1n, first + 2n]);
    await client.compact(first + 2n);
    const c = await client.watch("rw/k", { startRevision: first }).catch((e: unknown) => e);
    const err = c instanceof Error ? c : await (c as { done: Promise<void> }).done.catch((e: unknown) => e);
    assert.ok(err instanceof EtcdCompactedError, String(err));
    assert.equal(err.compactRevision, first + 2n);
  });

  test("lease: keep-alive loop, timeToLive, revoke reported as lost", async () => {
    const g = await client.lease.grant(3);
    await client.put("rl/k", "v", { lease: g.id });
    const ka = client.lease.keepAlive(g.id);
    let n = 0;
    const twice = deferred();
    ka.on("keepalive", () => {
      if (++n === 2) twice.resolve();
    });
    await twice.promise;
    const ttl = await client.lease.timeToLive(g.id, { keys: true });
    assert.ok(ttl.ttl > 0n);
    assert.deepEqual(ttl.keys.map(String), ["rl/k"]);
    await client.lease.revoke(g.id);
    assert.ok((await ka.lost) instanceof EtcdLeaseExpiredError);
    assert.equal(await client.getValue("rl/k"), undefined);
  });

  test("lock, election and STM", async () => {
    const other = new Client({ endpoints: [url] });
    try {
      const sa = await Session.create(client, { ttl: 10 });
      const sb = await Session.create(other, { ttl: 10 });
      const ma = new Mutex(sa, "rlock");
      const mb = new Mutex(sb, "rlock");
      await ma.lock();
      const order: string[] = ["a"];
      const bDone = mb.lock().then(() => order.push("b"));
      await client.put("rlock-data", "x");
      order.push("a-unlock");
      await ma.unlock();
      await bDone;
      assert.deepEqual(order, ["a", "a-unlock", "b"]);
      assert.ok(mb.revision! > 0n);
      await mb.unlock();
      const ea = new Election(sa, "relect");
      const eb = new Election(sb, "relect");
      await ea.campaign("A");
      const bLeads = eb.campaign("B");
      assert.equal((await eb.leader()).value.toString(), "A");
      await ea.resign();
      await bLeads;
      assert.equal((await ea.leader()).value.toString(), "B");
      await eb.resign();
      await client.put("rstm/n", "0");
      await Promise.all(
        [client, other, client, other].map((c) =>
          runSTM(c, async (stm) => {
            stm.put("rstm/n", String(Number(await stm.getString("rstm/n")) + 1));
          }),
        ),
      );
      assert.equal((await client.getValue("rstm/n"))?.toString(), "4");
      await sa.close();
      await sb.close();
    } finally {
      other.close();
    }
  });

  test("cluster and maintenance", async () => {
    const st = await client.maintenance.status();
    assert.match(st.version, /^3\.4\./);
    assert.equal(st.leader, st.header.memberId);
    const ml = await client.cluster.memberList();
    assert.equal(ml.members.length, 1);
    assert.deepEqual(ml.members[0]!.clientURLs, [url]);
    assert.ok((await client.maintenance.hashKV()).hash !== 0);
    let bytes = 0;
    for await (const chunk of client.maintenance.snapshot()) bytes += (chunk as Buffer).length;
    assert.ok(bytes > 4096);
    assert.deepEqual(await client.maintenance.alarmList(), []);
  });

  test("auth: token as metadata, refreshed after it expires", async () => {
    await client.auth.userAdd("root", "rootpw");
    await client.auth.roleAdd("root");
    await client.auth.userGrantRole("root", "root");
    await client.auth.authEnable();
    const authed = new Client({ endpoints: [url], auth: { username: "root", password: "rootpw" } });
    try {
      await authed.put("ra/k", "v");
      // Streams carry the token too: a watch and a lease keep-alive.
      const w = await authed.watch("ra/", { prefix: true });
      const ev = deferred<string>();
      w.on("put", (e) => ev.resolve(e.kv.value.toString()));
      await authed.put("ra/w", "seen");
      assert.equal(await ev.promise, "seen");
      await w.cancel();
      const g = await authed.lease.grant(10);
      const ka = authed.lease.keepAlive(g.id);
      await until(() => ka.last, "a renewal with the token");
      ka.close();
      await authed.lease.revoke(g.id);
      const t1 = authed.conn.authToken;
      assert.ok(t1 !== undefined && t1.length > 0);
      await assert.rejects(client.get("ra/k"), EtcdUserEmptyError);
      // --auth-token-ttl=1: the simple token expires after a second of disuse (each use extends it, so
      // the probe leaves it unused for 2.5 s between tries).
      await until(
        async () => {
          await authed.get("ra/k");
          return authed.conn.authToken !== t1 ? true : undefined;
        },
        "the client to re-authenticate after its token expired",
        15_000,
        2500,
      );
      assert.equal((await authed.getValue("ra/k"))?.toString(), "v");
      assert.deepEqual(await authed.auth.userList(), ["root"]);
      await authed.auth.authDisable();
    } finally {
      authed.close();
    }
    assert.equal((await client.getValue("ra/k"))?.toString(), "v");
  });
});
