// Corruption checks end to end: a member whose backend was altered behind its back (one stored value
// changed while it was stopped) refuses to start, naming the inconsistency (the initial check, on by
// default in etcd-ts); started without that check, it is caught by the leader's periodic check, which
// raises the CORRUPT alarm: etcdctl 3.4 lists it and writes fail with etcd's "corrupt cluster".

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Backend, Bucket } from "../../src/backend/index.js";
import { decodeKeyValue, encodeKeyValue } from "../../src/mvcc/kv_codec.js";
import { Cluster, ctlOk, etcdctl, parseJsonBig, skipWithoutEtcdctl, until } from "./cluster.js";

/** Rewrites the value of every stored revision of `key` in a stopped member's backend. */
function alterStoredValue(dataDir: string, key: string, value: string): number {
  const be = Backend.open(join(dataDir, "member", "snap", "db"));
  let changed = 0;
  try {
    for (const [rev, raw] of be.readTx().range(Bucket.key)) {
      const kv = decodeKeyValue(raw);
      if (Buffer.from(kv.key).toString() !== key) continue;
      be.batchTx.put(Bucket.key, rev, encodeKeyValue({ ...kv, value: Buffer.from(value) }));
      changed++;
    }
    be.forceCommit();
  } finally {
    be.close();
  }
  return changed;
}

describe("corruption checks", { skip: skipWithoutEtcdctl }, () => {
  let c: Cluster;

  before(async () => {
    c = await Cluster.start({ size: 3, extraArgs: ["--experimental-corrupt-check-time", "500ms"] });
  });
  after(async () => {
    await c?.destroy();
  });

  test("a member with altered data stops at start; without the initial check the leader raises CORRUPT", async () => {
    const eps = c.endpoints();
    for (let i = 0; i < 10; i++) await ctlOk(["put", `k${i}`, `v${i}`], { endpoints: eps });
    const victim = c.members[2]!;
    const status = parseJsonBig(
      await ctlOk(["endpoint", "status", "-w", "json"], { endpoints: [victim.endpoint] }),
    );
    const victimId = BigInt(status[0].Status.header.member_id);
    // Every member has applied the puts before the victim stops.
    await until(async () => {
      const r = await etcdctl(["get", "k9", "--consistency", "s", "--print-value-only"], {
        endpoints: victim.endpoint,
      });
      return r.stdout.trim() === "v9" ? true : undefined;
    }, "k9 on the victim");
    await victim.kill("SIGTERM");
    assert.equal(alterStoredValue(c.dataDir(2), "k5", "tampered"), 1);

    victim.start();
    const exit = await victim.exited();
    assert.equal(exit.code, 1, victim.logTail());
    assert.match(victim.log(), new RegExp(`${victimId.toString(16)} found data inconsistency with peers`));
    assert.match(victim.log(), /found different hash values from remote peer/);

    victim.spec.args.push("--experimental-initial-corrupt-check=false");
    victim.start();
    const alarm = await until(
      async () => {
        const out = await ctlOk(["alarm", "list"], { endpoints: eps });
        return out.includes("alarm:CORRUPT") ? out : undefined;
      },
      "a CORRUPT alarm",
      20_000,
      200,
    );
    assert.equal(alarm.trim(), `memberID:${victimId} alarm:CORRUPT`);
    const put = await etcdctl(["put", "x", "y"], { endpoints: c.endpoints([0]) });
    assert.notEqual(put.code, 0);
    assert.match(put.stderr, /etcdserver: corrupt cluster/);
  });
});
