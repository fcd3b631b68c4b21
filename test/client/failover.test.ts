// Failover against a 3-member cluster of bin/etcd processes: the leader is killed (SIGKILL) while the
// client writes, watches, and keeps a lease alive through it. The client starts on the leader (it is the
// first endpoint), so every stream and request of it must move to another member.
//
// - writes: every acknowledged write is present afterwards, on every live member; writes whose outcome
//   is unknown fail with a typed error and the writer just goes on;
// - watch: the events seen are exactly the acknowledged writes (plus possibly writes whose outcome was
//   unknown), in revision order, none twice, none missing;
// - lease: still alive a whole TTL after the kill, its key still there.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  EtcdError,
  EtcdUnavailableError,
  provablyNotExecuted,
  type Watcher,
} from "../../src/client/index.js";
import { Cluster, until } from "../e2e/cluster.js";

let c: Cluster;
const clients: Client[] = [];

function client(endpoints: string[]): Client {
  const cl = new Client({ endpoints, requestTimeoutMs: 20_000 });
  clients.push(cl);
  return cl;
}

/** The leader's index and the client URLs with the leader's first. */
async function leaderFirst(): Promise<{ leader: number; urls: string[] }> {
  const urls = c.members.map((m) => m.spec.clientUrl);
  const probe = client(urls);
  try {
    const leader = await until(async () => {
      for (let i = 0; i < urls.length; i++) {
        if (!c.members[i]!.running()) continue;
        const st = await probe.maintenance
          .status({ endpoint: urls[i]!, timeoutMs: 1000 })
          .catch(() => undefined);
        if (st !== undefined && st.leader !== 0n && st.leader === st.header.memberId) return i;
      }
      return undefined;
    }, "a leader");
    return { leader, urls: [urls[leader]!, ...urls.filter((_, i) => i !== leader)] };
  } finally {
    probe.close();
  }
}

interface WriteLog {
  /** key index -> revision of the acknowledged put */
  acked: Map<number, bigint>;
  /** writes that failed (outcome unknown unless the error says otherwise) */
  failed: { i: number; err: EtcdError }[];
  ackedAfterKill: number;
}

/**
 * Puts prefix/0, prefix/1, ... one after another; once `killAfter` are acknowledged, kills the leader
 * (without waiting, so the kill lands while writes are in flight) and goes on until `after` more are
 * acknowledged.
 */
async function writeThroughKill(
  cl: Client,
  prefix: string,
  leader: number,
  killAfter: number,
  afterKill: number,
): Promise<WriteLog> {
  const log: WriteLog = { acked: new Map(), failed: [], ackedAfterKill: 0 };
  let kill: Promise<unknown> | undefined;
  for (let i = 0; log.ackedAfterKill < afterKill; i++) {
    if (kill === undefined && log.acked.size === killAfter) kill = c.members[leader]!.kill("SIGKILL");
    try {
      const r = await cl.put(`${prefix}/${i}`, `v${i}`);
      log.acked.set(i, r.header.revision);
      if (kill !== undefined) log.ackedAfterKill++;
    } catch (e) {
      assert.ok(e instanceof EtcdError, `untyped error ${String(e)}`);
      log.failed.push({ i, err: e });
      assert.ok(log.failed.length < 20, `too many failed writes: ${log.failed.map((f) => f.err.message)}`);
    }
  }
  await kill;
  return log;
}

async function restart(i: number): Promise<void> {
  await c.members[i]!.restart();
}

describe("client failover across a leader kill (3 bin/etcd processes)", { concurrency: 1 }, () => {
  before(async () => {
    c = await Cluster.start({ extraArgs: ["--heartbeat-interval=50", "--election-timeout=500"] });
  });
  after(async () => {
    for (const cl of clients) cl.close();
    await c?.destroy();
  });

  const withLogs = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.stack : String(e)}\n${c?.logs(15) ?? ""}`);
    }
  };

  test("writes: every acknowledged write survives and the writer continues", { timeout: 60_000 }, () =>
    withLogs(async () => {
      const { leader, urls } = await leaderFirst();
      const cl = client(urls);
      const log = await writeThroughKill(cl, "fw", leader, 40, 40);
      assert.equal(log.ackedAfterKill, 40);
      assert.notEqual(cl.activeEndpoint, urls[0], "the client left the dead leader");
      // Each failure is a transient one the client could not safely repeat: the write may have run.
      for (const f of log.failed) {
        assert.ok(
          f.err instanceof EtcdUnavailableError,
          `unexpected failure: ${f.err.name}: ${f.err.message}`,
        );
        assert.equal(provablyNotExecuted(f.err), false, `should have been retried: ${f.err.message}`);
      }
      // Every acknowledged write is there, at the revision acknowledged, on every live member.
      for (const url of urls.slice(1)) {
        const one = client([url]);
        const all = await one.get("fw/", { prefix: true });
        const byKey = new Map(all.kvs.map((kv) => [kv.key.toString(), kv]));
        for (const [i, rev] of log.acked) {
          const kv = byKey.get(`fw/${i}`);
          assert.ok(kv !== undefined, `acknowledged write fw/${i} missing on ${url}`);
          assert.equal(kv.value.toString(), `v${i}`);
          assert.equal(kv.modRevision, rev);
        }
        one.close();
      }
      await restart(leader);
    }),
  );

  test("watch: resumes on another member with no event lost or repeated", { timeout: 60_000 }, () =>
    withLogs(async () => {
      const { leader, urls } = await leaderFirst();
      const watching = client(urls);
      const writing = client([...urls.slice(1), urls[0]!]);
      const w: Watcher = await watching.watch("ww/", { prefix: true });
      const seen: { rev: bigint; key: string; value: string }[] = [];
      let resumed = 0;
      w.on("event", (e) =>
        seen.push({ rev: e.kv.modRevision, key: e.kv.key.toString(), value: e.kv.value.toString() }),
      );
      w.on("resumed", () => resumed++);
      const log = await writeThroughKill(writing, "ww", leader, 30, 30);
      const last = [...log.acked.values()].at(-1)!; // sequential writes: the highest revision
      await until(
        () => (seen.some((s) => s.rev >= last) ? true : undefined),
        `the watch to reach revision ${last}`,
      );
      assert.ok(resumed >= 1, "the watch stream was re-established");
      // In order, none twice.
      for (let k = 1; k < seen.length; k++) assert.ok(seen[k]!.rev > seen[k - 1]!.rev, `order at ${k}`);
      const seenRevs = new Set(seen.map((s) => s.rev));
      // None missing: every acknowledged write was seen, with its value.
      for (const [i, rev] of log.acked) assert.ok(seenRevs.has(rev), `event of ww/${i} @${rev} missing`);
      // Nothing else: any other event is a write whose outcome was unknown.
      const unknown = new Set(log.failed.map((f) => `ww/${f.i}`));
      for (const s of seen) {
        const i = Number(s.key.slice(3));
        assert.equal(s.value, `v${i}`);
        if (log.acked.get(i) !== s.rev) assert.ok(unknown.has(s.key), `unexpected event ${s.key} @${s.rev}`);
      }
      await w.cancel();
      await restart(leader);
    }),
  );

  test("lease: kept alive through the leader kill", { timeout: 60_000 }, () =>
    withLogs(async () => {
      const { leader, urls } = await leaderFirst();
      const cl = client(urls);
      const ttl = 3;
      const g = await cl.lease.grant(ttl);
      await cl.put("fl/key", "held", { lease: g.id });
      const ka = cl.lease.keepAlive(g.id);
      await until(() => ka.last, "a first renewal");
      let lost: unknown;
      ka.on("lost", (e) => {
        lost = e;
      });
      let renewedAfterKill = 0;
      await c.members[leader]!.kill("SIGKILL");
      const killedAt = performance.now();
      ka.on("keepalive", () => renewedAfterKill++);
      // The lease must outlive a whole TTL (plus margin) after the kill: only renewals through another
      // member can achieve that.
      await until(
        () => (performance.now() - killedAt > ttl * 1000 + 1500 && renewedAfterKill >= 2 ? true : undefined),
        "renewals after the kill, a TTL long",
        20_000,
        100,
      );
      assert.equal(lost, undefined);
      assert.equal(ka.isActive, true);
      const t = await cl.lease.timeToLive(g.id);
      assert.ok(t.ttl > 0n, `lease TTL ${t.ttl}`);
      assert.equal((await cl.getValue("fl/key"))?.toString(), "held");
      ka.close();
      await cl.lease.revoke(g.id);
      await restart(leader);
    }),
  );
});
