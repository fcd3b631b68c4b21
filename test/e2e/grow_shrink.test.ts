// Growing a cluster from 1 to 3 to 5 members and shrinking it back to 3 while a writer runs, the
// safe way (each new member added as a learner, started, promoted once caught up): no acknowledged
// write is lost, and no write fails for longer than an election timeout.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Cluster,
  ctlOk,
  etcdctl,
  freePorts,
  type Member,
  parseJsonBig,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

const ELECTION_MS = 1000;

let c: Cluster | undefined;

async function idOf(m: Member): Promise<string> {
  const st = parseJsonBig(await ctlOk(["endpoint", "status", "-w", "json"], { endpoints: [m.endpoint] }));
  return BigInt(st[0].Status.header.member_id).toString(16);
}

/** Adds a learner, starts it, and promotes it once the leader agrees it has caught up. */
async function grow(name: string): Promise<void> {
  const [p] = await freePorts(1);
  const out = await ctlOk(["member", "add", name, `--peer-urls=http://127.0.0.1:${p}`, "--learner"], {
    endpoints: c!.liveEndpoints(),
  });
  const id = /^Member +([0-9a-f]+) added/m.exec(out)![1]!;
  const m = await c!.join(out);
  await m.waitHealthy();
  await until(async () => {
    const r = await etcdctl(["member", "promote", id], { endpoints: c!.liveEndpoints() });
    if (r.code === 0) return true;
    assert.match(r.stderr, /in sync with leader|unhealthy cluster|not enough started/);
    return undefined;
  }, `${name} promoted`);
}

describe("grow 1 -> 3 -> 5 -> 3 under writes", { skip: skipWithoutEtcdctl, concurrency: 1 }, () => {
  before(async () => {
    c = await Cluster.start({ size: 1 });
  });
  after(async () => {
    await c?.destroy();
  });

  test("no acknowledged write lost, no outage longer than an election timeout", {
    timeout: 180_000,
  }, async (t) => {
    const m0 = c!.members[0]!;
    const acked: string[] = [];
    let failures = 0;
    let longestGapMs = 0;
    let stop = false;
    // The writer talks to m0, which stays in the cluster throughout.
    const writer = (async () => {
      let i = 0;
      let lastOk = performance.now();
      while (!stop) {
        const key = `w/${String(i++).padStart(6, "0")}`;
        const r = await etcdctl(["put", key, "v"], { endpoints: [m0.endpoint], timeoutMs: 20_000 });
        const now = performance.now();
        if (r.code === 0) {
          acked.push(key);
          longestGapMs = Math.max(longestGapMs, now - lastOk);
          lastOk = now;
        } else failures++;
      }
    })();
    try {
      await until(() => (acked.length >= 5 ? true : undefined), "first writes");
      for (const name of ["g1", "g2", "g3", "g4"]) await grow(name);
      const list = await ctlOk(["member", "list"], { endpoints: [m0.endpoint] });
      assert.equal(list.trim().split("\n").length, 5, list);
      assert.doesNotMatch(list, /, true$/m, "no learner left");
      // Shrink back to 3: remove two of the newer members.
      for (const name of ["g3", "g4"]) {
        const m = c!.members.find((x) => x.name === name)!;
        await ctlOk(["member", "remove", await idOf(m)], { endpoints: [m0.endpoint] });
        assert.equal((await m.exited()).code, 0, m.logTail());
      }
      const n = acked.length;
      await until(() => (acked.length >= n + 5 ? true : undefined), "writes after shrinking");
    } finally {
      stop = true;
      await writer;
    }
    assert.equal(
      (await ctlOk(["member", "list"], { endpoints: [m0.endpoint] })).trim().split("\n").length,
      3,
    );
    // Every acknowledged write is there, on every remaining member.
    for (const m of c!.members.filter((x) => x.running())) {
      const keys = (
        await ctlOk(["get", "w/", "--prefix", "--keys-only", "--consistency=s"], { endpoints: [m.endpoint] })
      )
        .split("\n")
        .filter((l) => l !== "");
      const have = new Set(keys);
      const missing = acked.filter((k) => !have.has(k));
      assert.deepEqual(missing, [], `${m.name} misses acknowledged writes`);
    }
    t.diagnostic(
      `${acked.length} writes acknowledged, ${failures} failed, longest gap ${Math.round(longestGapMs)} ms`,
    );
    assert.ok(
      longestGapMs < ELECTION_MS,
      `longest time without a successful write: ${Math.round(longestGapMs)} ms (${failures} failed writes)`,
    );
  });
});
