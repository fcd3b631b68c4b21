// Defragmenting the leader while clients write (etcd blocks the member for the whole copy; etcd-ts
// copies in the background): the leader stays leader (same term), writes made during the defrag are
// acknowledged and all present afterwards on every member, and the file shrinks.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client } from "../../src/client/index.js";
import { Cluster } from "./cluster.js";

describe("online defrag", () => {
  let c: Cluster;
  let client: Client;
  before(async () => {
    c = await Cluster.start({ size: 3 });
    client = new Client({ endpoints: c.endpoints() });
  });
  after(async () => {
    client?.close();
    await c?.destroy();
  });

  test("the leader defragments while writes go on: no leader change, no write lost, smaller file", async () => {
    const big = Buffer.alloc(20_000, 3);
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; i < 1200; i += 8) await client.put(`fill/${i}`, big);
      }),
    );
    const del = await client.delete("fill/", { prefix: true });
    // The deleted values stay in the history until compacted: only then is there space to reclaim.
    await client.compact(del.header.revision, { physical: true });
    const leaderIdx = await c.leaderIndex();
    const leaderEp = c.members[leaderIdx]!.spec.clientUrl;
    const before = await client.maintenance.status({ endpoint: leaderEp });

    let writing = true;
    const written: string[] = [];
    const writers = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; writing; i++) {
          const k = `during/${w}/${i}`;
          await client.put(k, `v${i}`);
          written.push(k);
        }
      }),
    );
    await client.maintenance.defragment({ endpoint: leaderEp });
    writing = false;
    await writers;

    const after = await client.maintenance.status({ endpoint: leaderEp });
    assert.equal(after.leader, before.leader, "the leader kept its leadership");
    assert.equal(after.raftTerm, before.raftTerm, "no election happened");
    assert.ok(after.dbSize < before.dbSize, `the file shrank: ${before.dbSize} -> ${after.dbSize}`);
    assert.ok(written.length > 0, "writes went on during the defrag");
    // A linearizable read on each member: it has applied everything acknowledged.
    for (const m of c.members) {
      const one = new Client({ endpoints: [m.spec.clientUrl] });
      try {
        const r = await one.get("during/", { prefix: true, keysOnly: true });
        const keys = new Set(r.kvs.map((kv) => kv.key.toString()));
        for (const k of written) assert.ok(keys.has(k), `${k} on ${m.name}`);
      } finally {
        one.close();
      }
    }
  });
});
