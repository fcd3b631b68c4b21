// --auto-compaction-retention end to end: a 3-member cluster keeping 2 s of history compacts by itself
// (the leader proposes, every member applies), so an old revision becomes unreadable through the real
// etcdctl with etcd's error; followers never start a compaction of their own.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Cluster, ctlOk, etcdctl, skipWithoutEtcdctl, until } from "./cluster.js";

let cluster: Cluster | undefined;

describe("automatic compaction", { skip: skipWithoutEtcdctl }, () => {
  before(async () => {
    cluster = await Cluster.start({ size: 3, extraArgs: ["--auto-compaction-retention", "2s"] });
  });
  after(async () => {
    await cluster?.destroy();
  });

  test("periodic retention of 2 s compacts an old revision away on every member, through the leader", async () => {
    const c = cluster!;
    const eps = c.endpoints();
    await ctlOk(["put", "foo", "a"], { endpoints: eps });
    await ctlOk(["put", "foo", "b"], { endpoints: eps });
    const rev = Number(
      JSON.parse(await ctlOk(["get", "foo", "-w", "json"], { endpoints: eps })).header.revision,
    );
    const old = String(rev - 1);
    assert.equal(
      (await ctlOk(["get", "foo", "--rev", old, "--print-value-only"], { endpoints: eps })).trim(),
      "a",
    );
    for (const ep of eps) {
      const r = await until(
        async () => {
          const r = await etcdctl(["get", "foo", "--rev", old, "--consistency", "s"], { endpoints: ep });
          return r.code !== 0 ? r : undefined;
        },
        `revision ${old} compacted on ${ep}`,
        20_000,
        200,
      );
      assert.match(r.stderr, /Error: etcdserver: mvcc: required revision has been compacted/);
    }
    assert.equal((await ctlOk(["get", "foo", "--print-value-only"], { endpoints: eps })).trim(), "b");
    const logs = c.members.map((m) => m.logTail(100_000));
    assert.ok(logs.some((l) => /completed auto periodic compaction/.test(l)));
    for (const [i, log] of logs.entries()) {
      if (!/became leader/.test(log)) {
        assert.doesNotMatch(log, /starting auto periodic compaction/, `member ${i} never led but compacted`);
      }
    }
  });
});
