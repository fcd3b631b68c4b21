// The `etcd3` npm client (grpc-js, etcd's v3 API) against a 3-member `bin/etcd` cluster: KV, watch, and
// leases kept alive by the client's keep-alive stream, through each member.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Etcd3, type IKeyValue } from "etcd3";
import { Cluster, ctlOk, skipWithoutEtcdctl, until } from "./cluster.js";

let c: Cluster | undefined;
const clients: Etcd3[] = [];

function client(hosts: string[]): Etcd3 {
  const e = new Etcd3({ hosts, dialTimeout: 3000 });
  clients.push(e);
  return e;
}

// The cluster is checked with etcdctl too, so the same skip applies.
describe("etcd3 npm client against bin/etcd", { skip: skipWithoutEtcdctl, concurrency: 1 }, () => {
  before(async () => {
    c = await Cluster.start();
  });
  after(async () => {
    for (const e of clients) e.close();
    await c?.destroy();
  });

  const withLogs = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      throw new Error(`${e instanceof Error ? e.stack : String(e)}\n${c?.logs(15) ?? ""}`);
    }
  };
  const urls = () => c!.members.map((m) => m.spec.clientUrl);

  test("put, get, getAll, delete", { timeout: 60_000 }, () =>
    withLogs(async () => {
      const e = client(urls());
      const put = await e.put("e3/a").value("1");
      assert.ok(Number(put.header.revision) >= 2);
      await e.put("e3/b").value("2");
      await e.put("e3/c").value(Buffer.from([0, 255, 1]));
      assert.equal(await e.get("e3/a").string(), "1");
      assert.deepEqual(await e.get("e3/c").buffer(), Buffer.from([0, 255, 1]));
      assert.equal(await e.get("e3/none").string(), null);
      assert.deepEqual(await e.getAll().prefix("e3/").keys(), ["e3/a", "e3/b", "e3/c"]);
      assert.equal(await e.getAll().prefix("e3/").count(), 3);
      const prev = await e.put("e3/a").value("1b").getPrevious();
      assert.equal(prev?.value.toString(), "1");
      // Every member agrees (etcdctl through each one).
      for (const ep of c!.endpoints()) {
        assert.equal(await ctlOk(["get", "e3/a", "--print-value-only"], { endpoints: [ep] }), "1b\n");
      }
      const del = await e.delete().key("e3/a");
      assert.equal(del.deleted, "1");
      assert.equal(await e.get("e3/a").string(), null);
      const delAll = await e.delete().prefix("e3/");
      assert.equal(delAll.deleted, "2");
      assert.deepEqual(await e.getAll().prefix("e3/").keys(), []);
    }),
  );

  test("watch receives puts and deletes (key and prefix)", { timeout: 60_000 }, () =>
    withLogs(async () => {
      const e = client(urls());
      const seen: string[] = [];
      const prefixSeen: string[] = [];
      const w = await e.watch().key("e3w/k").withPreviousKV().create();
      const pw = await e.watch().prefix("e3w/").create();
      try {
        w.on("put", (kv: IKeyValue, prev?: IKeyValue) =>
          seen.push(`put ${kv.key} ${kv.value} prev=${prev?.value.toString() ?? "-"}`),
        );
        w.on("delete", (kv: IKeyValue, prev?: IKeyValue) =>
          seen.push(`delete ${kv.key} prev=${prev?.value.toString() ?? "-"}`),
        );
        pw.on("put", (kv: IKeyValue) => prefixSeen.push(`put ${kv.key} ${kv.value}`));
        pw.on("delete", (kv: IKeyValue) => prefixSeen.push(`delete ${kv.key}`));

        await e.put("e3w/k").value("v1");
        await e.put("e3w/other").value("o");
        await e.put("e3w/k").value("v2");
        await e.delete().key("e3w/k");
        // A write through another client and member is seen too.
        await ctlOk(["put", "e3w/k", "v3"], { endpoints: c!.endpoints([2]) });

        const want = [
          "put e3w/k v1 prev=-",
          "put e3w/k v2 prev=v1",
          "delete e3w/k prev=v2",
          "put e3w/k v3 prev=-",
        ];
        await until(
          () => (seen.length >= want.length ? true : undefined),
          `key watch events (${seen})`,
          10_000,
          20,
        );
        assert.deepEqual(seen, want);
        const wantPrefix = [
          "put e3w/k v1",
          "put e3w/other o",
          "put e3w/k v2",
          "delete e3w/k",
          "put e3w/k v3",
        ];
        await until(
          () => (prefixSeen.length >= wantPrefix.length ? true : undefined),
          `prefix watch events (${prefixSeen})`,
          10_000,
          20,
        );
        assert.deepEqual(prefixSeen, wantPrefix);
      } finally {
        await w.cancel();
        await pw.cancel();
      }
    }),
  );

  test(
    "a lease kept alive by the client outlives its TTL, through each member; revoke removes the key",
    { timeout: 60_000 },
    () =>
      withLogs(async () => {
        const TTL = 2;
        // One client per member (its only host), so the keep-alive stream goes to that member.
        const results = await Promise.all(
          c!.members.map(async (m) => {
            const e = client([m.spec.clientUrl]);
            const lease = e.lease(TTL);
            let kept = 0;
            const errors: string[] = [];
            lease.on("keepaliveSucceeded", () => {
              kept++;
            });
            // (etcd3's typings say a response; it passes the gRPC error.)
            lease.on("keepaliveFailed", (err: unknown) =>
              errors.push(`keepaliveFailed: ${(err as Error).message}`),
            );
            lease.on("lost", (err) => errors.push(`lost: ${err.message}`));
            const key = `e3l/${m.name}`;
            await lease.put(key).value("alive");
            const t0 = Date.now();
            // Twice the TTL: without working keep-alives the lease would have expired by then.
            await until(
              () => (Date.now() - t0 >= 2 * TTL * 1000 ? true : undefined),
              "twice the TTL",
              10_000,
              50,
            );
            const alive = await ctlOk(["get", key, "--print-value-only"], { endpoints: c!.endpoints() });
            await lease.revoke();
            const afterRevoke = await ctlOk(["get", key], { endpoints: c!.endpoints() });
            return {
              member: m.name,
              alive: alive === "alive\n",
              kept,
              goneAfterRevoke: afterRevoke === "",
              errors: [...new Set(errors)],
            };
          }),
        );
        const leader = c!.members[await c!.leaderIndex()]!.name;
        const bad = results.filter((r) => !r.alive || r.kept < 3 || !r.goneAfterRevoke);
        assert.deepEqual(bad, [], `leader is ${leader}; per member: ${JSON.stringify(results)}`);
      }),
  );
});
