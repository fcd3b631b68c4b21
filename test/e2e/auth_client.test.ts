// The TypeScript client (src/client) with auth against bin/etcd, as test/client/real_etcd.test.ts runs it
// against the real etcd 3.4: the token travels on unary calls and on watch and keep-alive streams, and a
// simple token unused for longer than --auth-token-ttl=1 expires, after which the client authenticates
// again by itself.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, EtcdUserEmptyError } from "../../src/client/index.js";
import { deferred } from "../client/helpers.js";
import { Cluster, until } from "./cluster.js";

describe("the client with auth on bin/etcd", { concurrency: 1, timeout: 60_000 }, () => {
  let c: Cluster | undefined;
  let url = "";
  let anon: Client | undefined;

  before(async () => {
    c = await Cluster.start({ size: 1, extraArgs: ["--auth-token-ttl=1", "--bcrypt-cost=4"] });
    url = c.members[0]!.spec.clientUrl;
    anon = new Client({ endpoints: [url], requestTimeoutMs: 10_000 });
  });

  after(async () => {
    anon?.close();
    await c?.destroy();
  });

  test("token on unary calls and streams; refreshed after it expires", async () => {
    const client = anon!;
    await client.auth.userAdd("root", "rootpw");
    await client.auth.roleAdd("root");
    await client.auth.userGrantRole("root", "root");
    await client.auth.authEnable();
    const authed = new Client({ endpoints: [url], auth: { username: "root", password: "rootpw" } });
    try {
      await authed.put("ra/k", "v");
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
      assert.ok(t1 !== undefined && /^[A-Za-z]{16}\.\d+$/.test(t1), t1);
      await assert.rejects(client.get("ra/k"), EtcdUserEmptyError);
      // Unused for longer than a second, the token is gone; the client notices and authenticates again.
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
