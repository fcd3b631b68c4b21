// The concurrency recipes against an in-process member: Mutex (ordering, fencing, tryLock, a crashed
// holder's lease expiring), Election (handover on resign, proclaim, observe) and STM (conflicting
// transfers keep the total).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  Compare,
  Election,
  EtcdElectionNoLeaderError,
  EtcdElectionNotLeaderError,
  EtcdLockedError,
  type KeyValue,
  Mutex,
  Op,
  runSTM,
  Session,
} from "../../src/client/index.js";
import { until } from "../e2e/cluster.js";
import { type InProcessCluster, startInProcessCluster } from "./helpers.js";

let cluster: InProcessCluster;
let a: Client;
let b: Client;

describe("concurrency recipes", { concurrency: 1 }, () => {
  before(async () => {
    cluster = await startInProcessCluster(1);
    a = new Client({ endpoints: cluster.endpoints });
    b = new Client({ endpoints: cluster.endpoints });
  });
  after(async () => {
    a?.close();
    b?.close();
    await cluster?.close();
  });

  test("Mutex: two contenders take turns; revisions fence", async () => {
    const sa = await Session.create(a, { ttl: 10 });
    const sb = await Session.create(b, { ttl: 10 });
    const ma = new Mutex(sa, "locks/m1");
    const mb = new Mutex(sb, "locks/m1");
    const order: string[] = [];
    await ma.lock();
    order.push("a in");
    let bIn = false;
    const bLocked = mb.lock().then(() => {
      bIn = true;
      order.push("b in");
    });
    // b waits in line while a holds the lock (a's writes all happen before b gets in).
    for (let i = 0; i < 5; i++) {
      await a.put("locks/data", `a${i}`);
      assert.equal(bIn, false);
    }
    const sc = await Session.create(b, { ttl: 10 });
    await assert.rejects(new Mutex(sc, "locks/m1").tryLock(), EtcdLockedError);
    await sc.close();
    // A fenced write succeeds while a owns the lock.
    const fenced = await a.txn().if(ma.isOwner()).then(Op.put("locks/data", "fenced-a")).commit();
    assert.equal(fenced.succeeded, true);
    const aRev = ma.revision!;
    const aOwner = ma.isOwner();
    order.push("a out");
    await ma.unlock();
    await bLocked;
    assert.deepEqual(order, ["a in", "a out", "b in"]);
    assert.ok(mb.revision! > aRev, "the later holder has the higher fencing revision");
    // a's fence no longer holds.
    const stale = await a.txn().if(aOwner).then(Op.put("locks/data", "stale-a")).commit();
    assert.equal(stale.succeeded, false);
    // a's key is gone, and the failed tryLock left none behind: only b's key remains.
    const keys = await a.get("locks/m1/", { prefix: true, keysOnly: true });
    assert.deepEqual(
      keys.kvs.map((kv) => kv.key.toString()),
      [mb.key],
    );
    await mb.unlock();
    await sa.close();
    await sb.close();
  });

  test("Mutex: critical sections never overlap (read-modify-write counter)", async () => {
    await a.put("locks/counter", "0");
    let inside = 0;
    const worker = async (c: Client) => {
      const s = await Session.create(c, { ttl: 10 });
      const m = new Mutex(s, "locks/m2");
      for (let i = 0; i < 5; i++) {
        await m.lock();
        inside++;
        assert.equal(inside, 1, "two holders at once");
        const v = Number(await c.getValue("locks/counter"));
        await c.put("locks/counter", String(v + 1));
        inside--;
        await m.unlock();
      }
      await s.close();
    };
    await Promise.all([worker(a), worker(b)]);
    assert.equal((await a.getValue("locks/counter"))?.toString(), "10");
  });

  test("Mutex: a crashed holder's lock is released when its lease expires", async () => {
    const sa = await Session.create(a, { ttl: 2 });
    const sb = await Session.create(b, { ttl: 10 });
    const ma = new Mutex(sa, "locks/m3");
    await ma.lock();
    sa.orphan(); // "crash": keep-alives stop, the lease runs out
    const t0 = performance.now();
    await new Mutex(sb, "locks/m3").lock();
    assert.ok(performance.now() - t0 >= 500, "b waited for the lease to expire");
    await sb.close();
  });

  test("Election: leader, proclaim, observe, handover on resign", async () => {
    const sa = await Session.create(a, { ttl: 10 });
    const sb = await Session.create(b, { ttl: 10 });
    const ea = new Election(sa, "elect/e1");
    const eb = new Election(sb, "elect/e1");
    await assert.rejects(ea.leader(), EtcdElectionNoLeaderError);
    const observed: string[] = [];
    const stop = new AbortController();
    const observer = (async () => {
      for await (const kv of new Election(sa, "elect/e1").observe({ signal: stop.signal })) {
        observed.push((kv as KeyValue).value.toString());
      }
    })();
    await ea.campaign("a-1");
    assert.equal((await eb.leader()).value.toString(), "a-1");
    let bLeads = false;
    const bCampaign = eb.campaign("b-1").then(() => {
      bLeads = true;
    });
    await ea.proclaim("a-2");
    await until(() => (observed.includes("a-2") ? true : undefined), "the observer to see a-2");
    assert.equal(bLeads, false);
    await assert.rejects(eb.proclaim("b-x"), EtcdElectionNotLeaderError);
    await ea.resign();
    await bCampaign;
    assert.equal((await ea.leader()).value.toString(), "b-1");
    await eb.proclaim("b-2");
    await until(() => (observed.includes("b-2") ? true : undefined), "the observer to see b-2");
    stop.abort();
    await observer;
    assert.deepEqual(observed, ["a-1", "a-2", "b-1", "b-2"]);
    await assert.rejects(ea.proclaim("a-3"), EtcdElectionNotLeaderError);
    // The leader's term fences: b's key's create revision.
    const f = await b.txn().if(eb.isLeader()).then(Op.put("elect/data", "by-b")).commit();
    assert.equal(f.succeeded, true);
    await eb.resign();
    await sa.close();
    await sb.close();
  });

  test("STM: concurrent transfers conflict and retry, the total is kept", async () => {
    await a.put("stm/x", "100");
    await a.put("stm/y", "100");
    let attempts = 0;
    const transfer = (c: Client, from: string, to: string) =>
      runSTM(c, async (stm) => {
        const f = Number(await stm.getString(from));
        const t = Number(await stm.getString(to));
        stm.put(from, String(f - 1));
        stm.put(to, String(t + 1));
      }).then((r) => {
        attempts += r.attempts;
      });
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      jobs.push(transfer(a, "stm/x", "stm/y"), transfer(b, "stm/y", "stm/x"), transfer(b, "stm/x", "stm/y"));
    }
    await Promise.all(jobs);
    const x = Number(await a.getValue("stm/x"));
    const y = Number(await a.getValue("stm/y"));
    assert.equal(x + y, 200);
    assert.equal(x, 90);
    assert.ok(attempts > 30, `${attempts} attempts for 30 transfers: some conflicted`);
    // read-committed does no conflict checks; prefetch works.
    const r = await runSTM(a, async (stm) => (await stm.getString("stm/x")) ?? "", {
      isolation: "read-committed",
      prefetch: ["stm/x"],
    });
    assert.equal(r.result, "90");
    // A txn with a stale comparison is what the STM would have to retry.
    const stale = await a
      .txn()
      .if(Compare.modRevision("stm/x", "=", 1))
      .then(Op.put("stm/x", "0"))
      .commit();
    assert.equal(stale.succeeded, false);
  });
});
