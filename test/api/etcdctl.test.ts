// The real etcdctl (Debian etcd-client 3.4) against the client API over a fake member: its commands
// print what they print against etcd, errors included.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { etcdctl, findEtcdctl, type Run, type Served, serve, waitFor } from "./helpers.js";

const bin = findEtcdctl();
const skip = bin ? false : "etcdctl not installed (apt-get install etcd-client to run these tests)";

describe("etcdctl 3.4", { skip }, () => {
  let s: Served;
  const run = (...args: string[]): Promise<Run> => etcdctl(bin!, s.endpoint, args);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** The last line of stderr (etcdctl logs the retry as JSON first). */
  const failure = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    assert.notEqual(r.code, 0);
    return r.stderr.trim().split("\n").at(-1)!;
  };

  before(async () => {
    s = await serve();
  });
  after(() => s.close());

  test("put, get, get -w json (exact uint64 IDs), prefix, del", async () => {
    assert.equal(await ok("put", "foo", "bar"), "OK\n");
    assert.equal(await ok("get", "foo"), "foo\nbar\n");
    const json = await ok("get", "foo", "-w", "json");
    assert.match(json, /"cluster_id":14839080548208970155,"member_id":10276657743932975437,/);
    assert.match(
      json,
      /"kvs":\[\{"key":"Zm9v","create_revision":\d+,"mod_revision":\d+,"version":1,"value":"YmFy"\}\],"count":1/,
    );
    await ok("put", "foo2", "baz");
    assert.equal(await ok("get", "foo", "--prefix", "--keys-only"), "foo\n\nfoo2\n\n");
    assert.equal(await ok("del", "foo", "--prefix"), "2\n");
    assert.equal(await ok("get", "foo"), "");
  });

  test("txn from stdin", async () => {
    await ok("put", "tk", "v1");
    const input = 'value("tk") = "v1"\n\nput tk v2\nget tk\n\nget tk\n\n';
    const r = await etcdctl(bin!, s.endpoint, ["txn"], input);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "SUCCESS\n\nOK\n\ntk\nv2\n");
    const r2 = await etcdctl(bin!, s.endpoint, ["txn"], input);
    assert.equal(r2.stdout, "FAILURE\n\ntk\nv2\n");
  });

  test("watch prints events as they happen", async () => {
    const env: NodeJS.ProcessEnv = { ETCDCTL_API: "3" };
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ETCDCTL_")) env[k] = v;
    const child = spawn(bin!, ["--endpoints", s.endpoint, "watch", "wk", "--prev-kv"], { env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    try {
      // The watch is registered once the store has a watcher for it.
      await waitFor(() => s.fake.watchable.stats().synced > 0, 5000, "the watch");
      await ok("put", "wk", "a");
      await ok("put", "wk", "b");
      await ok("del", "wk");
      await waitFor(() => out.split("\n").length >= 12, 5000, "watch output");
      assert.equal(out, "PUT\nwk\na\nPUT\nwk\na\nwk\nb\nDELETE\nwk\nb\nwk\n\n");
    } finally {
      child.kill();
    }
  });

  test("leases: grant, keep-alive, timetolive, list, attach, revoke", async () => {
    const granted = await ok("lease", "grant", "60");
    const m = /^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/.exec(granted);
    assert.ok(m, granted);
    const id = m[1]!;
    assert.equal(await ok("lease", "keep-alive", "--once", id), `lease ${id} keepalived with TTL(60)\n`);
    await ok("put", "--lease", id, "lk", "lv");
    assert.match(
      await ok("lease", "timetolive", id, "--keys"),
      new RegExp(
        `^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[lk\\]\\)\n$`,
      ),
    );
    assert.equal(await ok("lease", "list"), `found 1 leases\n${id}\n`);
    assert.equal(await ok("lease", "revoke", id), `lease ${id} revoked\n`);
    assert.equal(await ok("get", "lk"), "");
    assert.equal(await ok("lease", "timetolive", id), `lease ${id} already expired\n`);
    assert.equal(
      await failure("lease", "revoke", id),
      "Error: failed to revoke lease (etcdserver: requested lease not found)",
    );
  });

  test("errors print etcd's messages", async () => {
    await ok("put", "ck", "1");
    await ok("put", "ck", "2");
    const rev = s.fake.kv.rev();
    assert.equal(await ok("compaction", String(rev)), `compacted revision ${rev}\n`);
    assert.equal(
      await failure("get", "ck", `--rev=${rev - 1}`),
      "Error: etcdserver: mvcc: required revision has been compacted",
    );
    assert.equal(
      await failure("get", "ck", `--rev=${rev + 1000}`),
      "Error: etcdserver: mvcc: required revision is a future revision",
    );
    assert.equal(
      await failure("compaction", String(rev)),
      "Error: etcdserver: mvcc: required revision has been compacted",
    );
    assert.equal(await failure("put", "", "x"), "Error: etcdserver: key is not provided");
  });

  test("member list, endpoint status (with the http:// endpoint as :authority), health, hashkv", async () => {
    assert.equal(
      await ok("member", "list"),
      `8e9e05c52164694d, started, fake, http://127.0.0.1:2380, ${s.endpoint}, false\n`,
    );
    assert.match(
      await ok("endpoint", "status"),
      new RegExp(`^${s.endpoint}, 8e9e05c52164694d, 3\\.5\\.0, \\d+ kB, true, false, 2, 10, 10, \n$`),
    );
    // etcdctl 3.4 prints the health line on stderr.
    const health = await run("endpoint", "health");
    assert.equal(health.code, 0);
    assert.match(
      health.stderr + health.stdout,
      new RegExp(`^${s.endpoint} is healthy: successfully committed proposal: took = `),
    );
    assert.match(await ok("endpoint", "hashkv"), new RegExp(`^${s.endpoint}, \\d+\n$`));
    // Without the scheme too.
    assert.match(
      await etcdctl(bin!, s.hostPort, ["endpoint", "status"]).then((r) => r.stdout),
      /8e9e05c52164694d/,
    );
  });
});
